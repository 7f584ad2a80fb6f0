#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The JSON coders Berth uses on the wire: sorted keys (stable bytes for digests and
/// comparisons) and no escaped slashes.
public enum WireJSON {
    public static func encode(_ value: some Encodable) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(value))
    }

    public static func decode<T: Decodable>(_ type: T.Type, from bytes: some Collection<UInt8>) throws -> T {
        try JSONDecoder().decode(type, from: Data(bytes))
    }

    /// A `DecodingError` as one line naming the field (`params.name: expected String`).
    public static func describe(_ error: DecodingError, under prefix: String = "") -> (field: String, message: String) {
        func path(_ keys: [any CodingKey]) -> String {
            let parts = keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
            var out = prefix
            for part in parts {
                if part.hasPrefix("[") || out.isEmpty { out += part } else { out += "." + part }
            }
            return out.isEmpty ? "(root)" : out
        }
        switch error {
        case let .typeMismatch(type, ctx):
            return (path(ctx.codingPath), "\(path(ctx.codingPath)): expected \(typeName(type))")
        case let .valueNotFound(type, ctx):
            return (path(ctx.codingPath), "\(path(ctx.codingPath)): expected \(typeName(type)), found null")
        case let .keyNotFound(key, ctx):
            let field = path(ctx.codingPath + [key])
            return (field, "\(field): required field missing")
        case let .dataCorrupted(ctx):
            return (path(ctx.codingPath), "\(path(ctx.codingPath)): \(ctx.debugDescription)")
        @unknown default:
            return (prefix, "\(error)")
        }
    }

    private static func typeName(_ type: Any.Type) -> String {
        let name = String(describing: type)
        switch name {
        case "String": return "a string"
        case "Int", "Int64", "Int32", "UInt64", "UInt32", "UInt16", "UInt8", "Int16", "Int8": return "an integer"
        case "Double", "Float": return "a number"
        case "Bool": return "a boolean"
        default:
            if name.hasPrefix("Array") || name.hasPrefix("[") { return "an array" }
            if name.hasPrefix("Dictionary") || name.hasPrefix("Optional<Dictionary") { return "an object" }
            return "an object (\(name))"
        }
    }
}
