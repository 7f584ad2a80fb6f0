/// A JSON value, as the shim reads and writes its messages and files. Embedded Swift has
/// no Codable and no Foundation, so the shim has this: a parser that keeps numbers as
/// written (an exec's process and its resources pass through unchanged) and a writer.
enum JSON {
    case null
    case bool(Bool)
    /// The number's text, as written.
    case number(String)
    case string(String)
    case array([JSON])
    /// Members in order; `object` with sorted keys is what the shim writes.
    case object([(String, JSON)])

    static func int<T: BinaryInteger>(_ value: T) -> JSON { .number(String(value)) }
    static let emptyObject = JSON.object([])

    subscript(key: String) -> JSON? {
        guard case .object(let members) = self else { return nil }
        for (name, value) in members where name == key { return value }
        return nil
    }

    var string: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    var bool: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    var isObject: Bool {
        if case .object = self { return true }
        return false
    }

    /// An integral number that fits `Int`.
    var int: Int? {
        guard case .number(let text) = self else { return nil }
        return Int(text)
    }

    var array: [JSON]? {
        if case .array(let a) = self { return a }
        return nil
    }
}

// MARK: params

/// The members of a request's params (or of an object in them): absent and `null` are
/// the same; another type than the one asked for is `-32602` invalid params naming the
/// member (`prefix` names the object it is in, e.g. `stdio.`).
extension JSON {
    func optionalString(_ key: String, prefix: String = "") throws(ShimError) -> String? {
        guard let value = self[key], !value.isNull else { return nil }
        guard let s = value.string else { throw ShimError.invalidParams(prefix + key + " must be a string") }
        return s
    }

    func requiredString(_ key: String, prefix: String = "") throws(ShimError) -> String {
        guard let s = self[key]?.string else { throw ShimError.invalidParams(prefix + key + " is required (a string)") }
        return s
    }

    func optionalBool(_ key: String, prefix: String = "") throws(ShimError) -> Bool? {
        guard let value = self[key], !value.isNull else { return nil }
        guard let b = value.bool else { throw ShimError.invalidParams(prefix + key + " must be a boolean") }
        return b
    }

    func optionalInt(_ key: String, prefix: String = "") throws(ShimError) -> Int? {
        guard let value = self[key], !value.isNull else { return nil }
        guard let i = value.int else { throw ShimError.invalidParams(prefix + key + " must be an integer") }
        return i
    }

    func requiredInt(_ key: String, prefix: String = "") throws(ShimError) -> Int {
        guard let i = self[key]?.int else { throw ShimError.invalidParams(prefix + key + " is required (an integer)") }
        return i
    }
}

// MARK: writing

extension JSON {
    var bytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(128)
        write(to: &out)
        return out
    }

    func write(to out: inout [UInt8]) {
        switch self {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .number(let n): out.append(contentsOf: n.utf8)
        case .string(let s): JSON.writeString(s, to: &out)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                item.write(to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            for (i, (name, value)) in members.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                JSON.writeString(name, to: &out)
                out.append(UInt8(ascii: ":"))
                value.write(to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    static func writeString(_ s: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in s.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: [0x5c, 0x22])
            case UInt8(ascii: "\\"): out.append(contentsOf: [0x5c, 0x5c])
            case 0x0a: out.append(contentsOf: [0x5c, UInt8(ascii: "n")])
            case 0x0d: out.append(contentsOf: [0x5c, UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [0x5c, UInt8(ascii: "t")])
            case 0x08: out.append(contentsOf: [0x5c, UInt8(ascii: "b")])
            case 0x0c: out.append(contentsOf: [0x5c, UInt8(ascii: "f")])
            case 0..<0x20:
                let hex: [UInt8] = Array("0123456789abcdef".utf8)
                out.append(contentsOf: [0x5c, UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(byte >> 4)], hex[Int(byte & 15)]])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}

// MARK: parsing

extension JSON {
    /// The deepest nesting of arrays and objects accepted (as berthd's server).
    static let maxDepth = 64

    /// Parses one JSON document (UTF-8, nothing after it but whitespace).
    static func parse(_ bytes: [UInt8]) throws(ShimError) -> JSON {
        guard validUTF8(bytes) else { throw parseError("the payload is not valid UTF-8") }
        var parser = Parser(bytes: bytes)
        let value = try parser.value(depth: 0)
        parser.skipWhitespace()
        guard parser.at == bytes.count else { throw parseError("unexpected data after the JSON value at offset \(parser.at)") }
        return value
    }

    static func parseError(_ text: String) -> ShimError {
        ShimError(.invalidArgument, "parse error: " + text, code: ShimError.parseError)
    }

    static func validUTF8(_ bytes: [UInt8]) -> Bool {
        var i = 0
        let n = bytes.count
        while i < n {
            let b = bytes[i]
            if b < 0x80 { i += 1; continue }
            var need = 0
            var minimum: UInt32 = 0
            var scalar: UInt32 = 0
            if b & 0xe0 == 0xc0 { need = 1; minimum = 0x80; scalar = UInt32(b & 0x1f) }
            else if b & 0xf0 == 0xe0 { need = 2; minimum = 0x800; scalar = UInt32(b & 0x0f) }
            else if b & 0xf8 == 0xf0 { need = 3; minimum = 0x10000; scalar = UInt32(b & 0x07) }
            else { return false }
            guard i + need < n else { return false }
            for k in 1...need {
                let c = bytes[i + k]
                guard c & 0xc0 == 0x80 else { return false }
                scalar = scalar << 6 | UInt32(c & 0x3f)
            }
            guard scalar >= minimum, scalar <= 0x10ffff, !(0xd800...0xdfff).contains(scalar) else { return false }
            i += need + 1
        }
        return true
    }

    private struct Parser {
        let bytes: [UInt8]
        var at = 0

        mutating func skipWhitespace() {
            while at < bytes.count, bytes[at] == 0x20 || bytes[at] == 0x0a || bytes[at] == 0x0d || bytes[at] == 0x09 { at += 1 }
        }

        func fail(_ what: String) -> ShimError {
            at < bytes.count ? JSON.parseError("\(what) at offset \(at)") : JSON.parseError("unexpected end of data (\(what))")
        }

        mutating func value(depth: Int) throws(ShimError) -> JSON {
            skipWhitespace()
            guard at < bytes.count else { throw fail("a value expected") }
            switch bytes[at] {
            case UInt8(ascii: "{"):
                guard depth < JSON.maxDepth else { throw JSON.parseError("JSON nested deeper than \(JSON.maxDepth) levels") }
                at += 1
                var members: [(String, JSON)] = []
                skipWhitespace()
                if at < bytes.count, bytes[at] == UInt8(ascii: "}") { at += 1; return .object(members) }
                while true {
                    skipWhitespace()
                    guard at < bytes.count, bytes[at] == UInt8(ascii: "\"") else { throw fail("a member name expected") }
                    let name = try string()
                    skipWhitespace()
                    guard at < bytes.count, bytes[at] == UInt8(ascii: ":") else { throw fail("':' expected") }
                    at += 1
                    members.append((name, try value(depth: depth + 1)))
                    skipWhitespace()
                    guard at < bytes.count else { throw fail("'}' expected") }
                    if bytes[at] == UInt8(ascii: ",") { at += 1; continue }
                    if bytes[at] == UInt8(ascii: "}") { at += 1; return .object(members) }
                    throw fail("',' or '}' expected")
                }
            case UInt8(ascii: "["):
                guard depth < JSON.maxDepth else { throw JSON.parseError("JSON nested deeper than \(JSON.maxDepth) levels") }
                at += 1
                var items: [JSON] = []
                skipWhitespace()
                if at < bytes.count, bytes[at] == UInt8(ascii: "]") { at += 1; return .array(items) }
                while true {
                    items.append(try value(depth: depth + 1))
                    skipWhitespace()
                    guard at < bytes.count else { throw fail("']' expected") }
                    if bytes[at] == UInt8(ascii: ",") { at += 1; continue }
                    if bytes[at] == UInt8(ascii: "]") { at += 1; return .array(items) }
                    throw fail("',' or ']' expected")
                }
            case UInt8(ascii: "\""):
                return .string(try string())
            case UInt8(ascii: "t"): try literal("true"); return .bool(true)
            case UInt8(ascii: "f"): try literal("false"); return .bool(false)
            case UInt8(ascii: "n"): try literal("null"); return .null
            default:
                return .number(try number())
            }
        }

        mutating func literal(_ word: StaticString) throws(ShimError) {
            let count = word.utf8CodeUnitCount
            guard at + count <= bytes.count else { throw fail("invalid literal") }
            for k in 0..<count where bytes[at + k] != word.utf8Start[k] { throw fail("invalid literal") }
            at += count
        }

        mutating func number() throws(ShimError) -> String {
            let start = at
            func digit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
            if at < bytes.count, bytes[at] == UInt8(ascii: "-") { at += 1 }
            guard at < bytes.count, digit(bytes[at]) else { throw fail("invalid value") }
            if bytes[at] == 0x30 { at += 1 } else { while at < bytes.count, digit(bytes[at]) { at += 1 } }
            if at < bytes.count, bytes[at] == UInt8(ascii: ".") {
                at += 1
                guard at < bytes.count, digit(bytes[at]) else { throw fail("invalid number") }
                while at < bytes.count, digit(bytes[at]) { at += 1 }
            }
            if at < bytes.count, bytes[at] == UInt8(ascii: "e") || bytes[at] == UInt8(ascii: "E") {
                at += 1
                if at < bytes.count, bytes[at] == UInt8(ascii: "+") || bytes[at] == UInt8(ascii: "-") { at += 1 }
                guard at < bytes.count, digit(bytes[at]) else { throw fail("invalid number") }
                while at < bytes.count, digit(bytes[at]) { at += 1 }
            }
            return String(decoding: bytes[start..<at], as: UTF8.self)
        }

        mutating func hex4() throws(ShimError) -> UInt32 {
            guard at + 4 <= bytes.count else { throw fail("invalid \\u escape") }
            var v: UInt32 = 0
            for _ in 0..<4 {
                let b = bytes[at]
                let d: UInt32
                switch b {
                case 0x30...0x39: d = UInt32(b - 0x30)
                case 0x61...0x66: d = UInt32(b - 0x61 + 10)
                case 0x41...0x46: d = UInt32(b - 0x41 + 10)
                default: throw fail("invalid \\u escape")
                }
                v = v << 4 | d
                at += 1
            }
            return v
        }

        mutating func string() throws(ShimError) -> String {
            at += 1 // the opening quote
            var out: [UInt8] = []
            while true {
                guard at < bytes.count else { throw fail("unterminated string") }
                let b = bytes[at]
                if b == UInt8(ascii: "\"") { at += 1; break }
                if b < 0x20 { throw fail("control character in string") }
                if b != UInt8(ascii: "\\") { out.append(b); at += 1; continue }
                at += 1
                guard at < bytes.count else { throw fail("unterminated string") }
                let e = bytes[at]
                at += 1
                switch e {
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
                    if (0xd800...0xdbff).contains(scalar) {
                        guard at + 1 < bytes.count, bytes[at] == 0x5c, bytes[at + 1] == UInt8(ascii: "u") else { throw fail("unpaired surrogate") }
                        at += 2
                        let low = try hex4()
                        guard (0xdc00...0xdfff).contains(low) else { throw fail("unpaired surrogate") }
                        scalar = 0x10000 + ((scalar - 0xd800) << 10) + (low - 0xdc00)
                    } else if (0xdc00...0xdfff).contains(scalar) {
                        throw fail("unpaired surrogate")
                    }
                    appendUTF8(scalar, to: &out)
                default: throw fail("invalid escape")
                }
            }
            return String(decoding: out, as: UTF8.self)
        }

        func appendUTF8(_ v: UInt32, to out: inout [UInt8]) {
            if v < 0x80 { out.append(UInt8(v)) }
            else if v < 0x800 { out.append(contentsOf: [UInt8(0xc0 | v >> 6), UInt8(0x80 | v & 0x3f)]) }
            else if v < 0x10000 { out.append(contentsOf: [UInt8(0xe0 | v >> 12), UInt8(0x80 | v >> 6 & 0x3f), UInt8(0x80 | v & 0x3f)]) }
            else { out.append(contentsOf: [UInt8(0xf0 | v >> 18), UInt8(0x80 | v >> 12 & 0x3f), UInt8(0x80 | v >> 6 & 0x3f), UInt8(0x80 | v & 0x3f)]) }
        }
    }
}
