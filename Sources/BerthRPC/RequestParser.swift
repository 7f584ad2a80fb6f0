import BerthAPI

/// Turns one frame's bytes into a request head, or the JSON-RPC error to answer with.
enum RequestParser {
    enum Outcome {
        case success(MessageHead)
        case failure(id: RPCID?, BerthError)
    }

    /// The deepest nesting of arrays and objects accepted in a message.
    static let maxDepth = 64

    static func parse(_ message: [UInt8]) -> Outcome {
        guard String(validating: message, as: UTF8.self) != nil else {
            return .failure(id: nil, BerthError(.invalidArgument, "parse error: the payload is not valid UTF-8", code: ProtocolErrorCode.parseError))
        }
        if let depthError = checkDepth(message) { return .failure(id: nil, depthError) }
        if let head = RPCMessage.quickRequestHead(message), head.jsonrpc == "2.0", let method = head.method, !method.isEmpty {
            return .success(head)
        }
        let head: MessageHead
        do {
            head = try WireJSON.decode(MessageHead.self, from: message)
        } catch let error as DecodingError {
            if case let .dataCorrupted(ctx) = error, ctx.codingPath.isEmpty {
                return .failure(id: nil, BerthError(.invalidArgument, "parse error: \(ctx.debugDescription)", code: ProtocolErrorCode.parseError))
            }
            if firstByte(message) == UInt8(ascii: "[") {
                return .failure(id: nil, invalidRequest("batch requests are not supported; send one request per frame"))
            }
            if case .typeMismatch = error, firstByte(message) != UInt8(ascii: "{") {
                return .failure(id: nil, invalidRequest("a request must be a JSON object"))
            }
            return .failure(id: nil, invalidRequest("malformed request: \(WireJSON.describe(error).message)"))
        } catch {
            return .failure(id: nil, BerthError(.invalidArgument, "parse error: \(error)", code: ProtocolErrorCode.parseError))
        }
        guard head.jsonrpc == "2.0" else {
            return .failure(id: head.id, invalidRequest("\"jsonrpc\" must be \"2.0\""))
        }
        guard let method = head.method, !method.isEmpty else {
            return .failure(id: head.id, invalidRequest("\"method\" is missing"))
        }
        return .success(head)
    }

    private static func invalidRequest(_ text: String) -> BerthError {
        BerthError(.invalidArgument, "invalid request: \(text)", code: ProtocolErrorCode.invalidRequest)
    }

    private static func firstByte(_ message: [UInt8]) -> UInt8? {
        message.first { $0 != 0x20 && $0 != 0x0a && $0 != 0x0d && $0 != 0x09 }
    }

    /// Rejects nesting deeper than `maxDepth` before the JSON decoder sees it, so a
    /// hostile document costs one linear scan, never a deep recursion.
    static func checkDepth(_ message: [UInt8]) -> BerthError? {
        var depth = 0
        var inString = false
        var escaped = false
        for byte in message {
            if inString {
                if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inString = false }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                depth += 1
                if depth > maxDepth {
                    return BerthError(.invalidArgument, "parse error: JSON nested deeper than \(maxDepth) levels", code: ProtocolErrorCode.parseError)
                }
            case UInt8(ascii: "]"), UInt8(ascii: "}"): depth -= 1
            default: break
            }
        }
        return nil
    }
}
