import CArchive
#if canImport(Glibc)
import Glibc
#endif

/// Writes an uncompressed POSIX (pax) tar to a file descriptor: what image export
/// produces (an OCI image layout). Entries are plain files and directories owned by
/// root with fixed times, so the same content gives the same bytes.
public final class TarWriter {
    private let archive: OpaquePointer
    private var finished = false

    /// Writes to `descriptor` (not closed by the writer).
    public init(descriptor: Int32) throws {
        guard let a = archive_write_new() else { throw ArchiveError(.io, "libarchive: out of memory") }
        archive = a
        archive_write_set_format_pax_restricted(a)
        archive_write_set_bytes_in_last_block(a, 1)
        // Every stored property is set: from here a throw runs deinit, which frees `a`.
        guard archive_write_open_fd(a, descriptor) == ARCHIVE_OK else {
            throw ArchiveError.fromArchive(a, "open archive for writing", kind: .io)
        }
    }

    deinit {
        if !finished { archive_write_fail(archive) }
        archive_write_free(archive)
    }

    /// Bytes of archive written so far (all of it after `finish`).
    public var bytesWritten: Int64 { archive_filter_bytes(archive, -1) }

    public func addDirectory(_ path: String) throws {
        try header(path, type: Glibc.S_IFDIR, mode: 0o755, size: 0)
    }

    public func addFile(_ path: String, bytes: [UInt8], mode: mode_t = 0o644) throws {
        try header(path, type: Glibc.S_IFREG, mode: mode, size: Int64(bytes.count))
        try bytes.withUnsafeBytes { try data($0) }
    }

    /// Adds a file of `size` bytes read from `fd` (from its current offset).
    public func addFile(_ path: String, from fd: Int32, size: Int64, mode: mode_t = 0o644) throws {
        try header(path, type: Glibc.S_IFREG, mode: mode, size: size)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        var left = size
        while left > 0 {
            let n = read(fd, buffer.baseAddress, Int(min(Int64(buffer.count), left)))
            if n < 0 {
                if errno == EINTR { continue }
                throw ArchiveError(.io, "read \(path): \(String(cString: strerror(errno)))")
            }
            if n == 0 { throw ArchiveError(.io, "read \(path): file shorter than its \(size) bytes") }
            try data(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            left -= Int64(n)
        }
    }

    /// Writes the end-of-archive blocks. Without it the archive is incomplete.
    public func finish() throws {
        guard !finished else { return }
        finished = true
        guard archive_write_close(archive) == ARCHIVE_OK else { throw ArchiveError.fromArchive(archive, "finish archive", kind: .io) }
    }

    private func header(_ path: String, type: mode_t, mode: mode_t, size: Int64) throws {
        guard let entry = archive_entry_new() else { throw ArchiveError(.io, "libarchive: out of memory") }
        defer { archive_entry_free(entry) }
        archive_entry_set_pathname(entry, path)
        archive_entry_set_filetype(entry, UInt32(type))
        archive_entry_set_perm(entry, mode)
        archive_entry_set_size(entry, size)
        archive_entry_set_mtime(entry, 0, 0)
        archive_entry_set_uname(entry, "root")
        archive_entry_set_gname(entry, "root")
        guard archive_write_header(archive, entry) == ARCHIVE_OK else {
            throw ArchiveError.fromArchive(archive, "write \(path)", kind: .io)
        }
    }

    private func data(_ bytes: UnsafeRawBufferPointer) throws {
        guard bytes.count > 0 else { return }
        let n = archive_write_data(archive, bytes.baseAddress, bytes.count)
        guard n == bytes.count else { throw ArchiveError.fromArchive(archive, "write data", kind: .io) }
    }
}
