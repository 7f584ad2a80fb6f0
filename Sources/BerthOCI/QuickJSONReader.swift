/// A forward-only reader of one JSON document, for `Spec.quickDecode`: each call reads
/// one value of the type asked for, and throws `Unsure` for anything else (the caller
/// then leaves the document to JSONDecoder). See SpecQuickDecode.swift; berth-runtime
/// reads its state.json with it too.
package final class QuickJSONReader {
    package struct Unsure: Error {
        package init() {}
    }

    private let bytes: [UInt8]
    private var at = 0
    private var depth = 0

    package init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// Nothing but whitespace is left.
    package func atEnd() -> Bool {
        skipWhitespace()
        return at == bytes.count
    }

    package func required<T>(_ value: T?) throws -> T {
        guard let value else { throw Unsure() }
        return value
    }

    /// `null` as nil; anything else read by `body`.
    package func optional<T>(_ body: () throws -> T) throws -> T? {
        if try peek() == UInt8(ascii: "n") {
            try literal("null")
            return nil
        }
        return try body()
    }

    /// The members of an object, in order; a key seen twice is `Unsure`.
    package func object(_ member: (String) throws -> Void) throws {
        try expect(UInt8(ascii: "{"))
        depth += 1
        guard depth <= 64 else { throw Unsure() }
        defer { depth -= 1 }
        if try peek() == UInt8(ascii: "}") {
            at += 1
            return
        }
        var seen: [String] = []
        while true {
            let key = try string()
            guard !seen.contains(key) else { throw Unsure() }
            seen.append(key)
            try expect(UInt8(ascii: ":"))
            try member(key)
            if try peek() == UInt8(ascii: ",") {
                at += 1
                continue
            }
            try expect(UInt8(ascii: "}"))
            return
        }
    }

    package func array<T>(_ element: () throws -> T) throws -> [T] {
        try expect(UInt8(ascii: "["))
        depth += 1
        guard depth <= 64 else { throw Unsure() }
        defer { depth -= 1 }
        var items: [T] = []
        if try peek() == UInt8(ascii: "]") {
            at += 1
            return items
        }
        while true {
            items.append(try element())
            if try peek() == UInt8(ascii: ",") {
                at += 1
                continue
            }
            try expect(UInt8(ascii: "]"))
            return items
        }
    }

    package func strings() throws -> [String] { try array { try string() } }

    package func stringMap() throws -> [String: String] {
        var map: [String: String] = [:]
        try object { key in map[key] = try string() }
        return map
    }

    package func bool() throws -> Bool {
        switch try peek() {
        case UInt8(ascii: "t"): try literal("true"); return true
        case UInt8(ascii: "f"): try literal("false"); return false
        default: throw Unsure()
        }
    }

    /// A plain integer (`-`, digits; no fraction, no exponent) that fits `T`.
    package func integer<T: FixedWidthInteger>(_ type: T.Type) throws -> T {
        skipWhitespace()
        var negative = false
        if at < bytes.count, bytes[at] == UInt8(ascii: "-") {
            negative = true
            at += 1
        }
        let start = at
        var magnitude: UInt64 = 0
        while at < bytes.count, bytes[at] >= 0x30, bytes[at] <= 0x39 {
            let (times, o1) = magnitude.multipliedReportingOverflow(by: 10)
            let (plus, o2) = times.addingReportingOverflow(UInt64(bytes[at] - 0x30))
            guard !o1, !o2 else { throw Unsure() }
            magnitude = plus
            at += 1
        }
        let digits = at - start
        guard digits > 0, !(digits > 1 && bytes[start] == 0x30) else { throw Unsure() } // no leading zeros
        if at < bytes.count, [UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E")].contains(bytes[at]) { throw Unsure() }
        if negative {
            guard T.isSigned, magnitude > 0, magnitude <= UInt64(T.max) + 1 else { throw Unsure() }
            return magnitude == UInt64(T.max) + 1 ? T.min : 0 - T(magnitude)
        }
        guard let value = T(exactly: magnitude) else { throw Unsure() }
        return value
    }

    package func string() throws -> String {
        try expect(UInt8(ascii: "\""))
        let start = at
        var escaped = false
        while at < bytes.count {
            let b = bytes[at]
            if b == UInt8(ascii: "\"") { break }
            if b < 0x20 { throw Unsure() }
            if b == UInt8(ascii: "\\") {
                escaped = true
                at += 1
            }
            at += 1
        }
        guard at < bytes.count else { throw Unsure() }
        let end = at
        at += 1
        let raw = bytes[start..<end]
        guard escaped else {
            guard let s = String(validating: raw, as: UTF8.self) else { throw Unsure() }
            return s
        }
        guard let s = String(validating: try unescape(raw), as: UTF8.self) else { throw Unsure() }
        return s
    }

    /// The next value's first byte, unread (whitespace skipped).
    package func nextByte() throws -> UInt8 { try peek() }

    /// A plain integer: as Int64, or as UInt64 when it is above Int64.max (the two ways
    /// BerthAPI's AnyJSON holds integers).
    package func wideInteger() throws -> (signed: Int64?, unsigned: UInt64?) {
        skipWhitespace()
        let start = at
        do {
            return (try integer(Int64.self), nil)
        } catch {
            at = start
            return (nil, try integer(UInt64.self))
        }
    }

    /// Any value, unread.
    package func skip() throws {
        switch try peek() {
        case UInt8(ascii: "{"): try object { _ in try skip() }
        case UInt8(ascii: "["): _ = try array { try skip() }
        case UInt8(ascii: "\""): _ = try string()
        case UInt8(ascii: "t"), UInt8(ascii: "f"): _ = try bool()
        case UInt8(ascii: "n"): try literal("null")
        default: _ = try integer(Int64.self) // other numbers: Unsure, as anywhere else
        }
    }

    private func unescape(_ raw: ArraySlice<UInt8>) throws -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(raw.count)
        var i = raw.startIndex
        func hex4() throws -> UInt32 {
            var value: UInt32 = 0
            for _ in 0..<4 {
                i += 1
                guard i < raw.endIndex else { throw Unsure() }
                let c = raw[i]
                let digit: UInt8
                switch c {
                case 0x30...0x39: digit = c - 0x30
                case 0x61...0x66: digit = c - 0x61 + 10
                case 0x41...0x46: digit = c - 0x41 + 10
                default: throw Unsure()
                }
                value = value << 4 | UInt32(digit)
            }
            return value
        }
        while i < raw.endIndex {
            let b = raw[i]
            guard b == UInt8(ascii: "\\") else {
                out.append(b)
                i += 1
                continue
            }
            i += 1
            guard i < raw.endIndex else { throw Unsure() }
            switch raw[i] {
            case UInt8(ascii: "\""): out.append(0x22)
            case UInt8(ascii: "\\"): out.append(0x5c)
            case UInt8(ascii: "/"): out.append(0x2f)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0c)
            case UInt8(ascii: "n"): out.append(0x0a)
            case UInt8(ascii: "r"): out.append(0x0d)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4()
                if (0xD800..<0xDC00).contains(scalar) {
                    // A high surrogate must be followed by an escaped low one.
                    guard i + 2 < raw.endIndex, raw[i + 1] == UInt8(ascii: "\\"), raw[i + 2] == UInt8(ascii: "u") else { throw Unsure() }
                    i += 2
                    let low = try hex4()
                    guard (0xDC00..<0xE000).contains(low) else { throw Unsure() }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00..<0xE000).contains(scalar) {
                    throw Unsure()
                }
                guard let unicode = Unicode.Scalar(scalar) else { throw Unsure() }
                out.append(contentsOf: Array(String(Character(unicode)).utf8))
            default:
                throw Unsure()
            }
            i += 1
        }
        return out
    }

    private func skipWhitespace() {
        while at < bytes.count {
            switch bytes[at] {
            case 0x20, 0x09, 0x0a, 0x0d: at += 1
            default: return
            }
        }
    }

    private func peek() throws -> UInt8 {
        skipWhitespace()
        guard at < bytes.count else { throw Unsure() }
        return bytes[at]
    }

    private func expect(_ byte: UInt8) throws {
        guard try peek() == byte else { throw Unsure() }
        at += 1
    }

    private func literal(_ word: StaticString) throws {
        let count = word.utf8CodeUnitCount
        guard at + count <= bytes.count else { throw Unsure() }
        for k in 0..<count where bytes[at + k] != word.utf8Start[k] { throw Unsure() }
        at += count
    }
}
