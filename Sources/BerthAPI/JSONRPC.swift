import BerthOCI
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A JSON-RPC request id: a number or a string (`null` is modelled as `nil`).
public enum RPCID: Hashable, Sendable, Codable, CustomStringConvertible {
    case number(Int64)
    case string(String)

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let n = try? container.decode(Int64.self) {
            self = .number(n)
        } else if let s = try? container.decode(String.self) {
            self = .string(s)
        } else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "an id must be an integer or a string")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case let .number(n): try container.encode(n)
        case let .string(s): try container.encode(s)
        }
    }

    public var description: String {
        switch self {
        case let .number(n): "\(n)"
        case let .string(s): "\"\(s)\""
        }
    }
}

/// The fields of an inbound message that say what it is, decoded before its params.
///
/// A request has `method` and `id`; a notification has `method` and no `id`; a response
/// has `id` and `result` or `error`.
public struct MessageHead: Decodable, Sendable {
    public let jsonrpc: String?
    public let id: RPCID?
    /// Whether `id` was present at all (`"id": null` is present).
    public let hasID: Bool
    public let method: String?
    public let error: ErrorObject?

    enum CodingKeys: String, CodingKey { case jsonrpc, id, method, error }

    package init(jsonrpc: String?, id: RPCID?, hasID: Bool, method: String?, error: ErrorObject?) {
        self.jsonrpc = jsonrpc
        self.id = id
        self.hasID = hasID
        self.method = method
        self.error = error
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        jsonrpc = try c.decodeIfPresent(String.self, forKey: .jsonrpc)
        hasID = c.contains(.id)
        id = try c.decodeIfPresent(RPCID.self, forKey: .id)
        method = try c.decodeIfPresent(String.self, forKey: .method)
        error = try c.decodeIfPresent(ErrorObject.self, forKey: .error)
    }
}

/// The JSON-RPC error object: `{"code", "message", "data": {"kind", "field"?}}`.
public struct ErrorObject: Codable, Sendable, Equatable {
    public struct Detail: Codable, Sendable, Equatable {
        public var kind: ErrorKind
        public var field: String?
    }

    public var code: Int
    public var message: String
    public var data: Detail?

    public init(_ error: BerthError) {
        code = error.code
        message = error.message
        data = Detail(kind: error.kind, field: error.field)
    }

    public var berthError: BerthError {
        BerthError(data?.kind ?? ErrorObject.kind(forCode: code), message, code: code, field: data?.field)
    }

    static func kind(forCode code: Int) -> ErrorKind {
        if let kind = ErrorKind.allCases.first(where: { $0.code == code }) { return kind }
        return code == ProtocolErrorCode.methodNotFound ? .notImplemented : .invalidArgument
    }
}

/// Builds the bytes of outbound JSON-RPC messages.
public enum RPCMessage {
    struct Request<P: Encodable>: Encodable {
        let jsonrpc = "2.0"
        let id: RPCID
        let method: String
        let params: P
    }

    struct Notification<P: Encodable>: Encodable {
        let jsonrpc = "2.0"
        let method: String
        let params: P
    }

    struct ErrorResponse: Encodable {
        let id: RPCID?
        let error: ErrorObject
        enum CodingKeys: String, CodingKey { case jsonrpc, id, error }
        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode("2.0", forKey: .jsonrpc)
            try c.encode(id, forKey: .id) // an explicit null when the id is unknown
            try c.encode(error, forKey: .error)
        }
    }

    public static func request(id: RPCID, method: String, params: some Encodable) throws -> [UInt8] {
        try WireJSON.encode(Request(id: id, method: method, params: params))
    }

    /// A request around params already encoded as JSON (`CreateContainerRequest.quickJSON`).
    public static func request(id: Int64, method: String, paramsJSON: [UInt8]) -> [UInt8] {
        var w = QuickJSONWriter()
        w.string(method)
        return Array(#"{"id":\#(id),"jsonrpc":"2.0","method":"#.utf8) + w.bytes + Array(#","params":"#.utf8) + paramsJSON
            + [UInt8(ascii: "}")]
    }

    public static func notification(method: String, params: some Encodable) throws -> [UInt8] {
        try WireJSON.encode(Notification(method: method, params: params))
    }

    /// A success response around an already-encoded result.
    public static func response(id: RPCID?, resultJSON: [UInt8]) -> [UInt8] {
        let idJSON = (try? WireJSON.encode(id)) ?? Array("null".utf8)
        var out = Array(#"{"id":"#.utf8)
        out.reserveCapacity(out.count + idJSON.count + resultJSON.count + 32)
        out += idJSON
        out += Array(#","jsonrpc":"2.0","result":"#.utf8)
        out += resultJSON
        out.append(UInt8(ascii: "}"))
        return out
    }

    public static func error(id: RPCID?, _ error: BerthError) -> [UInt8] {
        (try? WireJSON.encode(ErrorResponse(id: id, error: ErrorObject(error))))
            ?? Array(#"{"error":{"code":-32603,"message":"internal error"},"id":null,"jsonrpc":"2.0"}"#.utf8)
    }
}

/// Params wrapper used to decode `params` out of a whole message.
struct ParamsBox<P: Decodable>: Decodable {
    let params: P?
}

/// Result wrapper used to decode `result` out of a whole response.
struct ResultBox<R: Decodable>: Decodable {
    let result: R
}

extension RPCMessage {
    /// Decodes `params` of a request as `P`. Absent params read as `{}`, so a method
    /// whose fields are all optional may be called without params. Throws
    /// `BerthError` -32602 naming the field on a mismatch.
    public static func decodeParams<P: Decodable>(_ type: P.Type, from message: some Collection<UInt8>) throws -> P {
        do {
            if let params = try WireJSON.decode(ParamsBox<P>.self, from: message).params { return params }
            do {
                return try WireJSON.decode(P.self, from: Array("{}".utf8))
            } catch let error as DecodingError {
                // Decoded from an implied `{}`: name fields as if params had been sent.
                let (field, text) = WireJSON.describe(error, under: "params")
                throw BerthError(.invalidArgument, "invalid params: \(text)", code: ProtocolErrorCode.invalidParams, field: field)
            }
        } catch let error as DecodingError {
            let (field, text) = WireJSON.describe(error, under: "")
            throw BerthError(.invalidArgument, "invalid params: \(text)", code: ProtocolErrorCode.invalidParams, field: field)
        }
    }

    /// Decodes `result` of a response as `R`.
    public static func decodeResult<R: Decodable>(_ type: R.Type, from message: some Collection<UInt8>) throws -> R {
        do {
            return try WireJSON.decode(ResultBox<R>.self, from: message).result
        } catch let error as DecodingError {
            throw BerthError(.internal, "malformed result: \(WireJSON.describe(error).message)")
        }
    }
}
