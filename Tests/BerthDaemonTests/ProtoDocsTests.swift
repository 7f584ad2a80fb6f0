import BerthAPI
@testable import BerthDaemon
import BerthRPC
import Foundation
import Testing

/// proto-docs/ is part of the contract: every served method is documented, every
/// documented method is served, and every JSON example decodes into the code's types
/// and encodes back to the same JSON.
@Suite struct ProtoDocsTests {
    struct Example {
        let file: String
        let method: String
        let kind: String // request, response, error
        let json: String
    }

    static let docsDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("proto-docs")

    /// `### \`method\`` headings and the fenced `json request|response|error` blocks under them.
    static func parseDocs() throws -> (methods: [String: String], examples: [Example]) {
        var methods: [String: String] = [:]
        var examples: [Example] = []
        let files = try FileManager.default.contentsOfDirectory(atPath: docsDirectory.path).filter { $0.hasSuffix(".md") }.sorted()
        for file in files {
            let text = try String(contentsOf: docsDirectory.appendingPathComponent(file), encoding: .utf8)
            var current: String?
            var block: (kind: String, lines: [String])?
            for line in text.components(separatedBy: "\n") {
                if var open = block {
                    if line.hasPrefix("```") {
                        examples.append(Example(file: file, method: current ?? "", kind: open.kind, json: open.lines.joined(separator: "\n")))
                        block = nil
                    } else {
                        open.lines.append(line)
                        block = open
                    }
                } else if line.hasPrefix("### `"), line.hasSuffix("`") {
                    let name = String(line.dropFirst(5).dropLast())
                    methods[name] = file
                    current = name
                } else if line.hasPrefix("```json ") {
                    block = (String(line.dropFirst("```json ".count)).trimmingCharacters(in: .whitespaces), [])
                }
            }
        }
        return (methods, examples)
    }

    static func object(_ bytes: [UInt8]) throws -> JSONValue {
        try WireJSON.decode(JSONValue.self, from: bytes)
    }

    @Test func everyServedMethodIsDocumentedAndNothingElse() async throws {
        let (documented, _) = try Self.parseDocs()
        let served = try await withDaemon { $0.running.methods }
        #expect(Set(served) == Set(API.all.map(\.name)), "API.all and the daemon's router disagree")
        for method in served {
            #expect(documented[method] != nil, "\(method) is served but not documented in proto-docs/")
        }
        for (method, file) in documented {
            #expect(served.contains(method), "proto-docs/\(file) documents \(method), which the daemon does not serve")
        }
    }

    @Test func everyExampleDecodesIntoTheCodesTypes() throws {
        let (_, examples) = try Self.parseDocs()
        let methods = Dictionary(uniqueKeysWithValues: API.all.map { ($0.name, $0) })
        #expect(examples.count >= 2 * API.all.count, "each method needs at least a request and a response example")
        for example in examples {
            let where_ = "proto-docs/\(example.file) (\(example.method), json \(example.kind))"
            let bytes = Array(example.json.utf8)
            let head = try #require(try? WireJSON.decode(MessageHead.self, from: bytes), "\(where_): not a JSON-RPC message")
            #expect(head.jsonrpc == "2.0", "\(where_): jsonrpc must be \"2.0\"")
            let method = try #require(methods[example.method], "\(where_): example under an unknown method")
            let whole = try Self.object(bytes)
            switch example.kind {
            case "request":
                #expect(head.method == example.method, "\(where_): names method \(head.method ?? "nil")")
                let params = try WireJSON.encode(whole["params"] ?? .object([:]))
                let roundTrip = try method.roundTripParams(params)
                #expect(try Self.object(roundTrip) == Self.object(params), "\(where_): params do not match the code's type:\n\(String(decoding: roundTrip, as: UTF8.self))")
            case "response":
                let result = try WireJSON.encode(try #require(whole["result"], "\(where_): no result"))
                let roundTrip = try method.roundTripResult(result)
                #expect(try Self.object(roundTrip) == Self.object(result), "\(where_): result does not match the code's type:\n\(String(decoding: roundTrip, as: UTF8.self))")
            case "error":
                let error = try #require(head.error, "\(where_): no error object")
                let kind = try #require(error.data?.kind, "\(where_): error without data.kind")
                let protocolCodes = [ProtocolErrorCode.parseError, ProtocolErrorCode.invalidRequest, ProtocolErrorCode.methodNotFound, ProtocolErrorCode.invalidParams]
                #expect(error.code == kind.code || protocolCodes.contains(error.code), "\(where_): code \(error.code) does not match kind \(kind)")
            default:
                Issue.record("\(where_): unknown example kind \(example.kind)")
            }
        }
    }
}

/// Any JSON value, compared structurally (object key order does not matter).
indirect enum JSONValue: Codable, Equatable {
    case null, bool(Bool), integer(Int64), number(Double), string(String), array([JSONValue]), object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let i = try? c.decode(Int64.self) { self = .integer(i) }
        else if let d = try? c.decode(Double.self) { self = .number(d) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case let .bool(b): try c.encode(b)
        case let .integer(i): try c.encode(i)
        case let .number(d): try c.encode(d)
        case let .string(s): try c.encode(s)
        case let .array(a): try c.encode(a)
        case let .object(o): try c.encode(o)
        }
    }

    subscript(key: String) -> JSONValue? {
        if case let .object(o) = self { o[key] } else { nil }
    }
}
