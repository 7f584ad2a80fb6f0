/// JSON written by hand, for the one document a fresh berthctl sends that is big enough
/// for JSONEncoder's first use to matter: a container's spec (see `Spec.quickJSON`).
/// Objects' members in the order written; optional members left out when nil, as the
/// synthesized `Encodable` conformances do.
package struct QuickJSONWriter {
    package private(set) var bytes: [UInt8] = []
    private var needsComma = false

    package init() { bytes.reserveCapacity(4096) }

    package mutating func object(_ body: (inout QuickJSONWriter) -> Void) {
        separate()
        bytes.append(UInt8(ascii: "{"))
        needsComma = false
        body(&self)
        bytes.append(UInt8(ascii: "}"))
        needsComma = true
    }

    package mutating func array<S: Sequence>(_ items: S, _ element: (inout QuickJSONWriter, S.Element) -> Void) {
        separate()
        bytes.append(UInt8(ascii: "["))
        needsComma = false
        for item in items { element(&self, item) }
        bytes.append(UInt8(ascii: "]"))
        needsComma = true
    }

    /// A member's key; its value follows.
    package mutating func key(_ name: String) {
        separate()
        writeString(name)
        bytes.append(UInt8(ascii: ":"))
        needsComma = false
    }

    package mutating func string(_ value: String) {
        separate()
        writeString(value)
        needsComma = true
    }

    package mutating func integer<T: BinaryInteger>(_ value: T) {
        separate()
        bytes += Array(String(value).utf8)
        needsComma = true
    }

    package mutating func bool(_ value: Bool) {
        separate()
        bytes += Array((value ? "true" : "false").utf8)
        needsComma = true
    }

    package mutating func strings(_ values: [String]) { array(values) { $0.string($1) } }

    package mutating func stringMap(_ map: [String: String]) {
        object { w in
            for (k, v) in map.sorted(by: { $0.key < $1.key }) {
                w.key(k)
                w.string(v)
            }
        }
    }

    // Optional members: nothing when nil.
    package mutating func member(_ name: String, _ value: String?) { if let value { key(name); string(value) } }
    package mutating func member(_ name: String, _ value: Bool?) { if let value { key(name); bool(value) } }
    package mutating func member<T: BinaryInteger>(_ name: String, _ value: T?) { if let value { key(name); integer(value) } }
    package mutating func member(_ name: String, _ value: [String]?) { if let value { key(name); strings(value) } }
    package mutating func member(_ name: String, _ value: [String: String]?) { if let value { key(name); stringMap(value) } }
    package mutating func member<T>(_ name: String, _ value: T?, _ write: (inout QuickJSONWriter, T) -> Void) {
        if let value { key(name); write(&self, value) }
    }
    package mutating func list<T>(_ name: String, _ values: [T]?, _ write: (inout QuickJSONWriter, T) -> Void) {
        if let values { key(name); array(values, write) }
    }

    private mutating func separate() {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
    }

    private mutating func writeString(_ s: String) {
        Self.appendString(s, to: &bytes)
    }

    /// `s` as a JSON string (quotes, escapes) at the end of `out`; BerthEvents' journal
    /// records use it too.
    package static func appendString(_ s: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "\""): out += [0x5c, 0x22]
            case UInt8(ascii: "\\"): out += [0x5c, 0x5c]
            case 0x0a: out += [0x5c, UInt8(ascii: "n")]
            case 0x0d: out += [0x5c, UInt8(ascii: "r")]
            case 0x09: out += [0x5c, UInt8(ascii: "t")]
            case 0x08: out += [0x5c, UInt8(ascii: "b")] // as JSONEncoder writes them
            case 0x0c: out += [0x5c, UInt8(ascii: "f")]
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out += [0x5c, UInt8(ascii: "u"), 0x30, 0x30, hex[Int(b >> 4)], hex[Int(b & 0xf)]]
            default: out.append(b)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
