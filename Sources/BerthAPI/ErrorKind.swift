/// The class of a failure, named like containerd's error classes (errdefs).
///
/// Clients decide on the kind (`error.data.kind` on the wire), never on message text.
/// The numeric codes are gRPC's status codes, which containerd's errdefs map to, so an
/// engine that already speaks containerd can reuse its tables.
public enum ErrorKind: String, Codable, Sendable, CaseIterable {
    case cancelled = "Cancelled"
    case invalidArgument = "InvalidArgument"
    case deadlineExceeded = "DeadlineExceeded"
    case notFound = "NotFound"
    case alreadyExists = "AlreadyExists"
    case permissionDenied = "PermissionDenied"
    case resourceExhausted = "ResourceExhausted"
    case failedPrecondition = "FailedPrecondition"
    case notImplemented = "NotImplemented"
    case `internal` = "Internal"
    case unavailable = "Unavailable"

    /// The JSON-RPC `error.code` used for this kind when it is not a protocol fault.
    public var code: Int {
        switch self {
        case .cancelled: 1
        case .invalidArgument: 3
        case .deadlineExceeded: 4
        case .notFound: 5
        case .alreadyExists: 6
        case .permissionDenied: 7
        case .resourceExhausted: 8
        case .failedPrecondition: 9
        case .notImplemented: 12
        case .internal: 13
        case .unavailable: 14
        }
    }

    /// An unknown kind from a newer peer reads as `Internal` rather than failing the decode.
    public init(from decoder: any Decoder) throws {
        let raw = try decoder.singleValueContainer().decode(String.self)
        self = ErrorKind(rawValue: raw) ?? .internal
    }
}

/// JSON-RPC 2.0's own error codes, used for faults of the protocol itself.
public enum ProtocolErrorCode {
    public static let parseError = -32700
    public static let invalidRequest = -32600
    public static let methodNotFound = -32601
    public static let invalidParams = -32602
}

/// An error as Berth reports it: a kind, a message for people, and the wire code.
///
/// Thrown by services in the daemon (and sent as a JSON-RPC error object), and thrown by
/// the client library when a call fails, whether the daemon answered with an error or
/// the connection failed (`unavailable`) or timed out (`deadlineExceeded`).
public struct BerthError: Error, Sendable, Equatable, CustomStringConvertible {
    public let kind: ErrorKind
    public let message: String
    /// The JSON-RPC code: `kind.code`, or one of `ProtocolErrorCode` for protocol faults.
    public let code: Int
    /// For invalid params: the path of the offending field (`params.name`).
    public let field: String?

    public init(_ kind: ErrorKind, _ message: String, code: Int? = nil, field: String? = nil) {
        self.kind = kind
        self.message = message
        self.code = code ?? kind.code
        self.field = field
    }

    public var description: String { message }

    public static func notFound(_ message: String) -> BerthError { .init(.notFound, message) }
    public static func alreadyExists(_ message: String) -> BerthError { .init(.alreadyExists, message) }
    public static func invalidArgument(_ message: String) -> BerthError { .init(.invalidArgument, message) }
    public static func failedPrecondition(_ message: String) -> BerthError { .init(.failedPrecondition, message) }
    public static func `internal`(_ message: String) -> BerthError { .init(.internal, message) }
    public static func unavailable(_ message: String) -> BerthError { .init(.unavailable, message) }
}
