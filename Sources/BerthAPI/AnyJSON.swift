#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Any JSON value, kept as a tree: what an event's `payload` is on the wire, whatever
/// its topic.
///
/// Integers stay exact (`Int64`, or `UInt64` above `Int64.max`); other numbers are
/// `Double`. Objects compare by content, so key order never matters. Decode a tree into
/// a concrete type with `decode(_:)`.
public indirect enum AnyJSON: Codable, Sendable, Equatable, Hashable {
    case null
    case bool(Bool)
    case integer(Int64)
    case unsigned(UInt64)
    case number(Double)
    case string(String)
    case array([AnyJSON])
    case object([String: AnyJSON])

    /// Tries the likely shapes first (objects, then strings, then integers): every
    /// wrong guess costs a thrown `DecodingError`, which is what makes this slow.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .null
        } else if let keyed = try? decoder.container(keyedBy: AnyKey.self) {
            var members: [String: AnyJSON] = [:]
            members.reserveCapacity(keyed.allKeys.count)
            for key in keyed.allKeys { members[key.stringValue] = try keyed.decode(AnyJSON.self, forKey: key) }
            self = .object(members)
        } else if let s = try? c.decode(String.self) {
            self = .string(s)
        } else if let i = try? c.decode(Int64.self) {
            self = .integer(i)
        } else if let b = try? c.decode(Bool.self) {
            self = .bool(b)
        } else if let u = try? c.decode(UInt64.self) {
            self = .unsigned(u)
        } else if let d = try? c.decode(Double.self) {
            self = .number(d)
        } else {
            self = .array(try c.decode([AnyJSON].self))
        }
    }

    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case let .bool(b): try c.encode(b)
        case let .integer(i): try c.encode(i)
        case let .unsigned(u): try c.encode(u)
        case let .number(d): try c.encode(d)
        case let .string(s): try c.encode(s)
        case let .array(a): try c.encode(a)
        case let .object(o): try c.encode(o)
        }
    }

    /// The tree of any encodable value (through its JSON encoding).
    public init(encoding value: some Encodable) throws {
        self = try WireJSON.decode(AnyJSON.self, from: try WireJSON.encode(value))
    }

    /// Decodes this value as `T` (through its JSON encoding).
    public func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try WireJSON.decode(type, from: try WireJSON.encode(self))
    }

    /// The member `key` of an object; nil for anything else or a missing key.
    public subscript(key: String) -> AnyJSON? {
        if case let .object(o) = self { o[key] } else { nil }
    }
}
