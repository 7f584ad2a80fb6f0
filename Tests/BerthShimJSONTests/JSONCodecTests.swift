import CBerthShim
import Foundation
import Testing

/// berth-shim's hand-written JSON (Sources/BerthShim/JSON.swift, compiled here a second
/// time as ordinary Swift through a symbolic link) against Foundation's
/// JSONSerialization: what one writes the other reads back the same, for generated
/// documents and for the awkward corners of RFC 8259.
@Suite struct JSONCodecTests {
    /// A deterministic generator (the same documents on every run).
    struct Generator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return state >> 17
        }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }

        mutating func string() -> String {
            let pieces = ["a", "Z", "0", " ", "\"", "\\", "/", "\n", "\t", "\u{0}", "\u{1f}", "\u{7f}", "é", "€", "😀", "\u{2028}", "{", "]", ":"]
            return (0..<below(8)).map { _ in pieces[below(pieces.count)] }.joined()
        }

        mutating func value(depth: Int = 0) -> Any {
            switch below(depth > 4 ? 5 : 7) {
            case 0: return NSNull()
            case 1: return below(2) == 0
            case 2: return Int(truncatingIfNeeded: next()) >> below(60)
            case 3: return Double(Int(next() % 2_000_000) - 1_000_000) / 128
            case 4: return string()
            case 5: return (0..<below(5)).map { _ in value(depth: depth + 1) }
            default:
                var object: [String: Any] = [:]
                for _ in 0..<below(5) { object[string()] = value(depth: depth + 1) }
                return object
            }
        }
    }

    static func foundationBytes(_ value: Any) throws -> [UInt8] {
        Array(try JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed, .sortedKeys]))
    }

    /// Foundation's reading of bytes, written again sorted: a canonical form to compare.
    static func canonical(_ bytes: [UInt8]) throws -> [UInt8] {
        try foundationBytes(try JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed]))
    }

    @Test("2,000 generated documents: the shim parses what Foundation writes, and Foundation reads what the shim writes back, unchanged")
    func roundTrips() throws {
        var generator = Generator(state: 0x5eed)
        for _ in 0..<2000 {
            let written = try Self.foundationBytes(generator.value())
            let parsed = try JSON.parse(written)
            #expect(try Self.canonical(parsed.bytes) == (try Self.canonical(written)), "\(String(decoding: written, as: UTF8.self))")
        }
    }

    @Test("escapes, surrogate pairs and numbers are read as RFC 8259 says; numbers keep their text")
    func corners() throws {
        let text = #"{"a":"\u00e9\ud83d\ude00\n\t\"\\\/","n":[-0,1e3,-12.5E-2,123456789012345678901234567890],"t":true,"f":false,"z":null}"#
        let parsed = try JSON.parse(Array(text.utf8))
        #expect(parsed["a"]?.string == "é😀\n\t\"\\/")
        #expect(parsed["n"]?.array?.compactMap { if case .number(let n) = $0 { n } else { nil } } == ["-0", "1e3", "-12.5E-2", "123456789012345678901234567890"])
        #expect(parsed["t"]?.bool == true && parsed["f"]?.bool == false && parsed["z"]?.isNull == true)
        #expect(try Self.canonical(parsed.bytes) == (try Self.canonical(Array(text.utf8))))
        // Control characters are written escaped, other text as UTF-8.
        #expect(String(decoding: JSON.string("\u{1}é\u{7f}").bytes, as: UTF8.self) == #""\u0001é\#u{7f}""#)
    }

    @Test("malformed documents are parse errors (-32700), never a value", arguments: [
        "", " ", "{", "}", "[1,]", "{\"a\":1,}", "{\"a\" 1}", "{a:1}", "'x'", "01", "1.", ".5", "1e", "-", "+1",
        "tru", "nul", "\"abc", "\"\\x\"", "\"\\u12\"", "\"\\ud800\"", "\"\\udc00\"", "\"a\u{1}b\"", "[1] 2", "{} {}", "NaN",
    ])
    func malformed(_ text: String) {
        #expect(throws: ShimError.self) { try JSON.parse(Array(text.utf8)) }
        do { _ = try JSON.parse(Array(text.utf8)) } catch { #expect(error.code == ShimError.parseError) }
    }

    @Test("invalid UTF-8 (overlong, surrogate, past U+10FFFF, truncated) is refused; nesting past 64 levels too")
    func invalidBytesAndDepth() {
        for bytes: [UInt8] in [[0x22, 0xc0, 0xaf, 0x22], [0x22, 0xed, 0xa0, 0x80, 0x22], [0x22, 0xf4, 0x90, 0x80, 0x80, 0x22], [0x22, 0xe2, 0x82]] {
            #expect(throws: ShimError.self) { try JSON.parse(bytes) }
        }
        #expect((try? JSON.parse(Array((String(repeating: "[", count: 64) + String(repeating: "]", count: 64)).utf8))) != nil)
        #expect(throws: ShimError.self) { try JSON.parse(Array((String(repeating: "[", count: 65) + String(repeating: "]", count: 65)).utf8)) }
    }
}
