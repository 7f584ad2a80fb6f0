/// The on-disk shape of one journal record:
///
///     +----------------+----------------+------------------+------------------+
///     | length: u32 BE | crc32c: u32 BE | seq: u64 BE      | body: `length`   |
///     | (of body)      | (seq + body)   |                  | bytes, envelope  |
///     +----------------+----------------+------------------+------------------+
///
/// The body is the event's envelope JSON, exactly as subscribers receive it. A record
/// whose header or body is cut short, or whose CRC does not match, ends the segment: at
/// the tail of the newest segment that is a write torn by a crash, and recovery
/// truncates it away.
enum JournalRecord {
    static let headerSize = 16
    /// Larger declared bodies are taken for corruption, not allocated.
    static let maxBody = 16 << 20

    static func append(seq: UInt64, body: [UInt8], to out: inout [UInt8]) {
        var seqBytes = [UInt8](repeating: 0, count: 8)
        for i in 0..<8 { seqBytes[i] = UInt8(truncatingIfNeeded: seq >> (56 - 8 * UInt64(i))) }
        let crc = CRC32C.update(CRC32C.update(0, seqBytes), body)
        appendBE(UInt32(body.count), to: &out)
        appendBE(crc, to: &out)
        out += seqBytes
        out += body
    }

    enum Decoded {
        case record(seq: UInt64, body: ArraySlice<UInt8>, size: Int)
        /// Not enough bytes for a whole record (yet).
        case incomplete(needed: Int)
        /// The bytes are not a record: corruption or a torn write.
        case corrupt
    }

    /// Decodes the record at the start of `bytes`.
    static func decode(_ bytes: ArraySlice<UInt8>) -> Decoded {
        guard bytes.count >= headerSize else { return .incomplete(needed: headerSize) }
        let start = bytes.startIndex
        let length = Int(readBE32(bytes, at: start))
        guard length > 0, length <= maxBody else { return .corrupt }
        guard bytes.count >= headerSize + length else { return .incomplete(needed: headerSize + length) }
        let crc = readBE32(bytes, at: start + 4)
        let seqBytes = bytes[(start + 8)..<(start + 16)]
        let body = bytes[(start + 16)..<(start + 16 + length)]
        guard CRC32C.update(CRC32C.update(0, seqBytes), body) == crc else { return .corrupt }
        var seq: UInt64 = 0
        for b in seqBytes { seq = seq << 8 | UInt64(b) }
        return .record(seq: seq, body: body, size: headerSize + length)
    }

    private static func appendBE(_ v: UInt32, to out: inout [UInt8]) {
        out += [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)]
    }

    private static func readBE32(_ b: ArraySlice<UInt8>, at i: Int) -> UInt32 {
        UInt32(b[i]) << 24 | UInt32(b[i + 1]) << 16 | UInt32(b[i + 2]) << 8 | UInt32(b[i + 3])
    }
}

/// CRC-32C (Castagnoli), table-driven: detects torn and corrupted journal records.
enum CRC32C {
    private static let table: [UInt32] = (0..<256).map { n -> UInt32 in
        var c = UInt32(n)
        for _ in 0..<8 { c = (c & 1) != 0 ? 0x82F6_3B78 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func update(_ crc: UInt32, _ bytes: some Sequence<UInt8>) -> UInt32 {
        var c = ~crc
        table.withUnsafeBufferPointer { t in
            for b in bytes { c = t[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        }
        return ~c
    }
}
