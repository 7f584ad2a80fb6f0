import CBerthShim

/// An error the shim answers with: the JSON-RPC error's kind and code (BerthAPI's
/// `ErrorKind`, which berthd and clients decode) and its message.
struct ShimError: Error {
    enum Kind {
        case invalidArgument, notFound, alreadyExists, failedPrecondition, resourceExhausted, notImplemented, `internal`

        var name: String {
            switch self {
            case .invalidArgument: "InvalidArgument"
            case .notFound: "NotFound"
            case .alreadyExists: "AlreadyExists"
            case .failedPrecondition: "FailedPrecondition"
            case .resourceExhausted: "ResourceExhausted"
            case .notImplemented: "NotImplemented"
            case .internal: "Internal"
            }
        }

        var code: Int {
            switch self {
            case .invalidArgument: 3
            case .notFound: 5
            case .alreadyExists: 6
            case .failedPrecondition: 9
            case .resourceExhausted: 8
            case .notImplemented: 12
            case .internal: 13
            }
        }
    }

    /// JSON-RPC's own codes, for faults of the protocol rather than of the call.
    static let parseError = -32700
    static let invalidRequest = -32600
    static let methodNotFound = -32601
    static let invalidParams = -32602

    var kind: Kind
    var message: String
    var code: Int

    init(_ kind: Kind, _ message: String, code: Int? = nil) {
        self.kind = kind
        self.message = message
        self.code = code ?? kind.code
    }

    static func invalidParams(_ text: String) -> ShimError {
        ShimError(.invalidArgument, "invalid params: " + text, code: invalidParams)
    }

    /// A failed system call: "chdir /x: ENOENT (No such file or directory)".
    static func system(_ stage: String, errno err: Int32, kind: Kind = .internal) -> ShimError {
        ShimError(kind, stage + ": " + describeErrno(err))
    }
}

/// "ENOENT (No such file or directory)".
func describeErrno(_ err: Int32) -> String {
    var buffer = [CChar](repeating: 0, count: 192)
    buffer.withUnsafeMutableBufferPointer { berth_shim_describe_errno(err, $0.baseAddress, $0.count) }
    return buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
}

/// errno of this thread.
var lastErrno: Int32 { berth_shim_errno() }
