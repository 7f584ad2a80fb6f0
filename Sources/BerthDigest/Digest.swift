#if canImport(Glibc)
import Glibc
#endif

/// An OCI content digest, `sha256:<64 lowercase hex>` (image-spec `descriptor.md`).
///
/// Only SHA-256 is accepted: it is what every image tool writes and what the content
/// store names its blobs by. A digest is also a path component
/// (`blobs/sha256/<hex>`), so parsing is strict: anything else is an error, never a path.
public struct Digest: Hashable, Sendable, Comparable, CustomStringConvertible, Codable {
    /// The whole string, `sha256:…`.
    public let string: String

    public enum ParseError: Error, CustomStringConvertible, Equatable {
        case invalid(String)
        public var description: String {
            switch self {
            case let .invalid(s):
                "invalid digest \"\(s.count > 80 ? String(s.prefix(80)) + "…" : s)\": want sha256: and 64 lowercase hex digits"
            }
        }
    }

    public init(parsing s: String) throws(ParseError) {
        guard Digest.isValid(s) else { throw .invalid(s) }
        string = s
    }

    init(unchecked s: String) { string = s }

    public static func isValid(_ s: String) -> Bool {
        let u = Array(s.utf8)
        guard u.count == 71, s.hasPrefix("sha256:") else { return false }
        return u[7...].allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }

    /// `sha256`.
    public var algorithm: String { "sha256" }
    /// The 64 hex digits.
    public var encoded: String { String(string.dropFirst(7)) }
    public var description: String { string }
    /// The first 12 hex digits, as tools show short IDs.
    public var short: String { String(encoded.prefix(12)) }

    public static func < (a: Digest, b: Digest) -> Bool { a.string < b.string }

    public init(from decoder: any Decoder) throws {
        let s = try decoder.singleValueContainer().decode(String.self)
        do { try self.init(parsing: s) } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.description))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(string)
    }

    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0xf)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The digest of a file's contents, read in 1 MiB pieces.
    public static func ofFile(_ path: String) throws -> (digest: Digest, size: Int64) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw DigestFileError(path: path, errno: errno) }
        defer { close(fd) }
        return try ofFile(descriptor: fd, path: path)
    }

    /// The digest of what remains to be read from `fd`.
    public static func ofFile(descriptor fd: Int32, path: String = "") throws -> (digest: Digest, size: Int64) {
        let h = SHA256()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let n = read(fd, buffer.baseAddress, buffer.count)
            if n < 0 {
                if errno == EINTR { continue }
                throw DigestFileError(path: path, errno: errno)
            }
            if n == 0 { break }
            h.update(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
        }
        let size = h.count
        return (h.finish(), size)
    }
}

public struct DigestFileError: Error, CustomStringConvertible {
    public let path: String
    public let errno: Int32
    public var description: String { "\(path): \(String(cString: strerror(errno)))" }
}
