#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

enum PrettyJSON {
    static func encode(_ value: some Encodable) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return try encoder.encode(value)
    }
}
