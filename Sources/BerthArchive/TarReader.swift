import BerthDigest
import CArchive
#if canImport(Glibc)
import Glibc
#endif

/// One entry of an archive being read by `TarReader`.
public struct TarEntry: Sendable, Equatable {
    public enum Kind: Sendable, Equatable { case file, directory, symlink, hardlink, other }
    /// The entry's name cleaned of `./` and leading `/`; never contains `..` components
    /// (`TarReader` refuses such entries where a name matters).
    public var path: String
    public var kind: Kind
    public var size: Int64
    /// The target of a symlink or hardlink, as written in the archive.
    public var linkTarget: String?
}

/// Reads the entries of a (possibly compressed) tar stream one after the other, in a
/// single pass: what image import needs to take a tar from a pipe or FIFO.
///
/// This reader is for *archives of documents and blobs* (image layouts, docker-save
/// tars), never for extracting a layer onto disk: it writes nothing itself, and
/// callers copy an entry's bytes where they choose (`copyData(to:)`, `readData`).
public final class TarReader {
    private let archive: OpaquePointer
    private var finished = false
    /// The entry `next()` returned last.
    public private(set) var current: TarEntry?

    /// Reads from `descriptor` (not closed by the reader). Compressed streams (gzip,
    /// zstd, xz…) are decompressed transparently.
    public init(descriptor: Int32, blockSize: Int = 1 << 20) throws {
        guard let a = archive_read_new() else { throw ArchiveError(.io, "libarchive: out of memory") }
        archive = a
        Compression.supportInProcessFilters(a)
        archive_read_support_format_tar(a)
        archive_read_support_format_gnutar(a)
        // Every stored property is set: from here a throw runs deinit, which frees `a`.
        if archive_read_open_fd(a, descriptor, blockSize) != ARCHIVE_OK {
            throw ArchiveError.fromArchive(a, "open archive")
        }
    }

    deinit { archive_read_free(archive) }

    /// The next entry, or nil at the end of the archive. Data of the previous entry that
    /// was not read is skipped.
    public func next() throws -> TarEntry? {
        guard !finished else { return nil }
        var entry: OpaquePointer?
        let r = archive_read_next_header(archive, &entry)
        if r == ARCHIVE_EOF {
            finished = true
            current = nil
            return nil
        }
        guard r == ARCHIVE_OK || r == ARCHIVE_WARN, let entry else {
            throw ArchiveError.fromArchive(archive, "read archive")
        }
        let raw = archive_entry_pathname(entry).map { String(cString: $0) } ?? ""
        let kind: TarEntry.Kind
        if archive_entry_hardlink(entry) != nil {
            kind = .hardlink
        } else {
            switch archive_entry_filetype(entry) {
            case UInt32(Glibc.S_IFREG): kind = .file
            case UInt32(Glibc.S_IFDIR): kind = .directory
            case UInt32(Glibc.S_IFLNK): kind = .symlink
            default: kind = .other
            }
        }
        let target = (archive_entry_hardlink(entry) ?? archive_entry_symlink(entry)).map { String(cString: $0) }
        let e = TarEntry(path: TarReader.clean(raw), kind: kind,
                         size: archive_entry_size_is_set(entry) != 0 ? archive_entry_size(entry) : 0, linkTarget: target)
        current = e
        return e
    }

    /// Reads the current entry's data, refusing more than `limit` bytes (JSON documents
    /// in an import are bounded: containerd CVE-2023-25153).
    public func readData(limit: Int) throws -> [UInt8] {
        if let size = current?.size, size > Int64(limit) {
            throw ArchiveError(.limitExceeded, "\(current?.path ?? "entry") is \(size) bytes, more than the \(limit)-byte limit for documents")
        }
        var out = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let n = chunk.withUnsafeMutableBytes { archive_read_data(archive, $0.baseAddress, $0.count) }
            if n < 0 { throw ArchiveError.fromArchive(archive, "read \(current?.path ?? "entry")") }
            if n == 0 { return out }
            guard out.count + n <= limit else {
                throw ArchiveError(.limitExceeded, "\(current?.path ?? "entry") is more than the \(limit)-byte limit for documents")
            }
            out.append(contentsOf: chunk[0..<n])
        }
    }

    /// Passes the current entry's data to `body` in pieces; returns the byte count.
    @discardableResult
    public func readData(_ body: (UnsafeRawBufferPointer) throws -> Void) throws -> Int64 {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        var total: Int64 = 0
        while true {
            let n = archive_read_data(archive, buffer.baseAddress, buffer.count)
            if n < 0 { throw ArchiveError.fromArchive(archive, "read \(current?.path ?? "entry")") }
            if n == 0 { return total }
            try body(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            total += Int64(n)
        }
    }

    /// Writes the current entry's data to `fd`; returns the byte count.
    @discardableResult
    public func copyData(to fd: Int32) throws -> Int64 {
        try readData { chunk in try TarReader.writeAll(fd, chunk) }
    }

    /// `./a/b`, `/a/b`, `a//b/` → `a/b`; `..` components are kept for the caller to refuse.
    public static func clean(_ path: String) -> String {
        path.split(separator: "/").filter { $0 != "." }.joined(separator: "/")
    }

    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            let n = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                throw ArchiveError(.io, "write: \(String(cString: strerror(errno)))")
            }
            offset += n
        }
    }
}

/// The compression of a blob, told from its first bytes.
public enum Compression: String, Sendable {
    case none, gzip, zstd

    public static func detect(_ head: some Collection<UInt8>) -> Compression {
        let b = Array(head.prefix(4))
        if b.count >= 2, b[0] == 0x1f, b[1] == 0x8b { return .gzip }
        if b.count >= 4, b == [0x28, 0xb5, 0x2f, 0xfd] { return .zstd }
        return .none
    }

    /// Enables libarchive's in-process decompressors only (gzip, zstd, xz, bzip2):
    /// `filter_all` would also run external programs (lrzip, lzop, grzip) on matching
    /// input, which an untrusted archive must not be able to trigger.
    static func supportInProcessFilters(_ archive: OpaquePointer) {
        archive_read_support_filter_gzip(archive)
        archive_read_support_filter_zstd(archive)
        archive_read_support_filter_xz(archive)
        archive_read_support_filter_bzip2(archive)
    }

    /// The compression of the file at `path` (its first four bytes).
    public static func detect(file path: String) throws -> Compression {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ArchiveError(.io, "open \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        return detect(descriptor: fd)
    }

    /// The compression of what `fd` holds, from its first four bytes (read with pread:
    /// the offset does not move).
    public static func detect(descriptor fd: Int32) -> Compression {
        var head = [UInt8](repeating: 0, count: 4)
        let n = pread(fd, &head, 4, 0)
        return detect(head.prefix(max(0, n)))
    }
}

/// The SHA-256 of a blob's *decompressed* bytes: the diffID of a layer, which an image
/// config lists and which is needed before a layer is applied (rootfs-tar imports).
public enum DecompressedDigest {
    public static func of(file path: String, limit: Int64 = .max) throws -> (digest: Digest, size: Int64) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ArchiveError(.io, "open \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        guard let a = archive_read_new() else { throw ArchiveError(.io, "libarchive: out of memory") }
        defer { archive_read_free(a) }
        Compression.supportInProcessFilters(a)
        archive_read_support_format_raw(a)
        archive_read_support_format_empty(a)
        guard archive_read_open_fd(a, fd, 1 << 20) == ARCHIVE_OK else { throw ArchiveError.fromArchive(a, path) }
        let hasher = SHA256()
        var entry: OpaquePointer?
        let r = archive_read_next_header(a, &entry)
        if r == ARCHIVE_EOF { return (hasher.finish(), 0) }
        guard r == ARCHIVE_OK || r == ARCHIVE_WARN else { throw ArchiveError.fromArchive(a, path) }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let n = archive_read_data(a, buffer.baseAddress, buffer.count)
            if n < 0 { throw ArchiveError.fromArchive(a, path) }
            if n == 0 { break }
            hasher.update(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            if hasher.count > limit { throw ArchiveError(.limitExceeded, "\(path) decompresses to more than \(limit) bytes") }
        }
        let size = hasher.count
        return (hasher.finish(), size)
    }
}
