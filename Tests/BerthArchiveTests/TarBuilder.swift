import CArchive
#if canImport(Glibc)
import Glibc
#endif

/// How a test layer is compressed.
enum Compression: String, Sendable, CaseIterable {
    case none, gzip, zstd
}

/// One entry of a test tar.
struct TarEntry: Sendable {
    enum Kind: Sendable {
        case file([UInt8])
        case directory
        case symlink(String)
        case hardlink(String)
        case fifo
        case charDevice(UInt32, UInt32)
        case blockDevice(UInt32, UInt32)
    }

    var name: String
    var kind: Kind
    var mode: mode_t
    var uid: Int64 = Int64(getuid())
    var gid: Int64 = Int64(getgid())
    var mtime = 1_600_000_000
    var mtimeNanoseconds = 0
    var xattrs: [Xattr] = []

    struct Xattr: Sendable {
        var name: String
        var value: [UInt8]
    }

    static func file(_ name: String, _ content: String, mode: mode_t = 0o644) -> TarEntry {
        TarEntry(name: name, kind: .file(Array(content.utf8)), mode: mode)
    }

    static func dir(_ name: String, mode: mode_t = 0o755) -> TarEntry {
        TarEntry(name: name, kind: .directory, mode: mode)
    }

    static func symlink(_ target: String, _ name: String) -> TarEntry {
        TarEntry(name: name, kind: .symlink(target), mode: 0o777)
    }

    /// A hard link `name` to `target`, in containerd's `tc.Link(target, name)` order.
    static func link(_ target: String, _ name: String) -> TarEntry {
        TarEntry(name: name, kind: .hardlink(target), mode: 0o644)
    }
}

/// Builds test layers with libarchive's writer (PAX, so xattrs, long names and
/// nanosecond times go in),
/// and raw ustar headers for what a well-behaved writer refuses to produce.
enum TarBuilder {
    /// A tar of `entries`, compressed as asked.
    static func tar(_ entries: [TarEntry], _ compression: Compression = .none) -> [UInt8] {
        write(format: pax, compression) { archive in
            for e in entries {
                let entry = archive_entry_new()!
                defer { archive_entry_free(entry) }
                archive_entry_set_pathname(entry, e.name)
                archive_entry_set_perm(entry, e.mode)
                archive_entry_set_uid(entry, e.uid)
                archive_entry_set_gid(entry, e.gid)
                archive_entry_set_mtime(entry, e.mtime, e.mtimeNanoseconds)
                for x in e.xattrs { archive_entry_xattr_add_entry(entry, x.name, x.value, x.value.count) }
                var data: [UInt8] = []
                switch e.kind {
                case let .file(content):
                    archive_entry_set_filetype(entry, UInt32(Glibc.S_IFREG))
                    archive_entry_set_size(entry, Int64(content.count))
                    data = content
                case .directory: archive_entry_set_filetype(entry, UInt32(Glibc.S_IFDIR))
                case let .symlink(target):
                    archive_entry_set_filetype(entry, UInt32(Glibc.S_IFLNK))
                    archive_entry_set_symlink(entry, target)
                case let .hardlink(target):
                    archive_entry_set_filetype(entry, UInt32(Glibc.S_IFREG))
                    archive_entry_set_hardlink(entry, target)
                case .fifo: archive_entry_set_filetype(entry, UInt32(Glibc.S_IFIFO))
                case let .charDevice(major, minor), let .blockDevice(major, minor):
                    if case .charDevice = e.kind {
                        archive_entry_set_filetype(entry, UInt32(Glibc.S_IFCHR))
                    } else {
                        archive_entry_set_filetype(entry, UInt32(Glibc.S_IFBLK))
                    }
                    archive_entry_set_rdevmajor(entry, dev_t(major))
                    archive_entry_set_rdevminor(entry, dev_t(minor))
                }
                precondition(archive_write_header(archive, entry) == ARCHIVE_OK, String(cString: archive_error_string(archive)))
                if !data.isEmpty { precondition(archive_write_data(archive, data, data.count) == data.count) }
            }
        }
    }

    /// `bytes` compressed as asked (libarchive's raw format: the stream and nothing else).
    static func compress(_ bytes: [UInt8], _ compression: Compression) -> [UInt8] {
        if compression == .none { return bytes }
        return write(format: { archive_write_set_format_raw($0) }, compression) { archive in
            let entry = archive_entry_new()!
            defer { archive_entry_free(entry) }
            archive_entry_set_pathname(entry, "layer")
            archive_entry_set_filetype(entry, UInt32(Glibc.S_IFREG))
            archive_entry_set_size(entry, Int64(bytes.count))
            precondition(archive_write_header(archive, entry) == ARCHIVE_OK)
            var offset = 0
            while offset < bytes.count {
                let n = bytes[offset...].withUnsafeBytes { archive_write_data(archive, $0.baseAddress, min($0.count, 1 << 20)) }
                precondition(n > 0)
                offset += n
            }
        }
    }

    /// A tar holding one file of `size` zero bytes, compressed as asked, written in 1 MiB
    /// pieces (a decompression bomb without holding it in memory).
    static func zeroFile(_ name: String, size: Int, _ compression: Compression) -> [UInt8] {
        write(format: pax, compression) { archive in
            let entry = archive_entry_new()!
            defer { archive_entry_free(entry) }
            archive_entry_set_pathname(entry, name)
            archive_entry_set_filetype(entry, UInt32(Glibc.S_IFREG))
            archive_entry_set_perm(entry, 0o644)
            archive_entry_set_size(entry, Int64(size))
            precondition(archive_write_header(archive, entry) == ARCHIVE_OK)
            let zeros = [UInt8](repeating: 0, count: 1 << 20)
            var left = size
            while left > 0 {
                let n = archive_write_data(archive, zeros, min(left, zeros.count))
                precondition(n > 0)
                left -= n
            }
        }
    }

    /// PAX with names written as the bytes they are: this process's locale is C, in which
    /// libarchive cannot convert a UTF-8 name to PAX's UTF-8.
    private static func pax(_ archive: OpaquePointer) -> Int32 {
        let rc = archive_write_set_format_pax(archive)
        guard rc == ARCHIVE_OK else { return rc }
        return archive_write_set_format_option(archive, "pax", "hdrcharset", "BINARY")
    }

    private final class Sink {
        var bytes: [UInt8] = []
    }

    private static func write(format: (OpaquePointer) -> Int32, _ compression: Compression, _ body: (OpaquePointer) -> Void) -> [UInt8] {
        let archive = archive_write_new()!
        defer { archive_write_free(archive) }
        precondition(format(archive) == ARCHIVE_OK)
        switch compression {
        case .none: archive_write_add_filter_none(archive)
        case .gzip: archive_write_add_filter_gzip(archive)
        case .zstd: archive_write_add_filter_zstd(archive)
        }
        archive_write_set_bytes_in_last_block(archive, 1)
        let sink = Sink()
        let context = Unmanaged.passUnretained(sink).toOpaque()
        let rc = archive_write_open(archive, context, nil, { _, context, buffer, length in
            let sink = Unmanaged<Sink>.fromOpaque(context!).takeUnretainedValue()
            sink.bytes.append(contentsOf: UnsafeRawBufferPointer(start: buffer, count: length))
            return length
        }, nil)
        precondition(rc == ARCHIVE_OK)
        body(archive)
        precondition(archive_write_close(archive) == ARCHIVE_OK)
        return sink.bytes
    }

    // MARK: raw ustar

    /// One 512-byte ustar header with a correct checksum. `type` is the typeflag
    /// character ("0" file, "1" hard link, "2" symlink, "5" directory, "x" PAX header).
    static func header(_ name: String, type: Character, size: Int = 0, link: String = "", mode: Int = 0o644) -> [UInt8] {
        var h = [UInt8](repeating: 0, count: 512)
        func put(_ text: String, _ offset: Int, _ width: Int) {
            let bytes = Array(text.utf8)
            precondition(bytes.count <= width, "\(text) does not fit in \(width) bytes")
            h.replaceSubrange(offset..<offset + bytes.count, with: bytes)
        }
        func octal(_ value: Int, _ offset: Int, _ width: Int) {
            put(String(value, radix: 8).leftPadded(to: width - 1), offset, width)
        }
        put(name, 0, 100)
        octal(mode, 100, 8)
        octal(Int(getuid()), 108, 8)
        octal(Int(getgid()), 116, 8)
        octal(size, 124, 12)
        octal(1_600_000_000, 136, 12)
        h[156] = type.asciiValue!
        put(link, 157, 100)
        put("ustar", 257, 6)
        put("00", 263, 2)
        h.replaceSubrange(148..<156, with: Array("        ".utf8))
        let sum = h.reduce(0) { $0 + Int($1) }
        put(String(sum, radix: 8).leftPadded(to: 6), 148, 7)
        h[154] = 0
        h[155] = 0x20
        return h
    }

    /// A raw file entry: its header and its content padded to 512 bytes.
    static func rawFile(_ name: String, _ content: String) -> [UInt8] {
        let data = Array(content.utf8)
        return header(name, type: "0", size: data.count) + data + [UInt8](repeating: 0, count: (512 - data.count % 512) % 512)
    }

    /// The two zero blocks that end a tar.
    static let end = [UInt8](repeating: 0, count: 1024)
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
