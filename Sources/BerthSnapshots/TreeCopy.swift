import BerthSystem
import CBerthLinux
#if canImport(Glibc)
import Glibc
#endif

/// Copies a directory tree with everything a root file system needs: owners, modes,
/// times, extended attributes, symlinks, hard links (kept as links), device nodes and
/// FIFOs. Sockets are skipped (they are meaningless without their process). Symlinks
/// are copied as links and never followed.
enum TreeCopy {
    /// Copies the contents and the attributes of directory `source` into the existing
    /// directory `destination`.
    static func copy(from source: String, to destination: String) throws {
        var st = stat()
        try retryingEINTR("lstat \(source)") { lstat(source, &st) }
        guard (st.st_mode & S_IFMT) == S_IFDIR else { throw SystemError(errno: ENOTDIR, stage: "copy \(source)") }
        var links: [HardLinkKey: String] = [:]
        try copyChildren(source, destination, links: &links)
        try copyAttributes(source, destination, st)
    }

    struct HardLinkKey: Hashable {
        let device: UInt64
        let inode: UInt64
    }

    private static func copyChildren(_ source: String, _ destination: String, links: inout [HardLinkKey: String]) throws {
        for name in try Directories.entries(source).sorted() {
            let from = source + "/" + name, to = destination + "/" + name
            var st = stat()
            try retryingEINTR("lstat \(from)") { lstat(from, &st) }
            switch st.st_mode & S_IFMT {
            case S_IFDIR:
                try retryingEINTR("mkdir \(to)") { mkdir(to, 0o700) }
                try copyChildren(from, to, links: &links)
            case S_IFREG:
                let key = HardLinkKey(device: UInt64(st.st_dev), inode: UInt64(st.st_ino))
                if st.st_nlink > 1, let first = links[key] {
                    try retryingEINTR("link \(first) to \(to)") { link(first, to) }
                    continue // a second name of an inode already copied, attributes included
                }
                try copyFile(from, to)
                if st.st_nlink > 1 { links[key] = to }
            case S_IFLNK:
                let target = try readLink(from)
                try retryingEINTR("symlink \(to)") { symlink(target, to) }
            case S_IFCHR, S_IFBLK, S_IFIFO:
                try checkNegativeErrno(berth_mknodat(AT_FDCWD, to, UInt32(st.st_mode), UInt64(st.st_rdev)), "mknod \(to)")
            default:
                continue // sockets
            }
            try copyAttributes(from, to, st)
        }
    }

    /// Owner, mode, extended attributes, then times (last, as the others change ctime
    /// and writing children changes a directory's mtime).
    static func copyAttributes(_ from: String, _ to: String, _ st: stat) throws {
        let isLink = (st.st_mode & S_IFMT) == S_IFLNK
        try retryingEINTR("lchown \(to)") { lchown(to, st.st_uid, st.st_gid) }
        if !isLink { try retryingEINTR("chmod \(to)") { chmod(to, st.st_mode & 0o7777) } }
        try copyExtendedAttributes(from, to, isLink: isLink)
        var times = [st.st_atim, st.st_mtim]
        try retryingEINTR("utimensat \(to)") { utimensat(AT_FDCWD, to, &times, AT_SYMLINK_NOFOLLOW) }
    }

    static func copyExtendedAttributes(_ from: String, _ to: String, isLink: Bool) throws {
        let size = berth_llistxattr(from, nil, 0)
        if size == -Int(ENOTSUP) || size == 0 { return }
        try checkNegativeErrno(size, "llistxattr \(from)")
        var list = [CChar](repeating: 0, count: size)
        let got = try checkNegativeErrno(berth_llistxattr(from, &list, UInt(size)), "llistxattr \(from)")
        let names = list.prefix(got).split(separator: 0).map { String(decoding: $0.map { UInt8(bitPattern: $0) }, as: UTF8.self) }
        for name in names {
            let length = try checkNegativeErrno(berth_lgetxattr(from, name, nil, 0), "lgetxattr \(from) \(name)")
            var value = [UInt8](repeating: 0, count: max(length, 1))
            let read = try checkNegativeErrno(berth_lgetxattr(from, name, &value, UInt(value.count)), "lgetxattr \(from) \(name)")
            let rc = berth_lsetxattr(to, name, value, UInt(read))
            if rc == -ENOTSUP || (isLink && rc == -EPERM) { continue }
            try checkNegativeErrno(rc, "lsetxattr \(to) \(name)")
        }
    }

    static func copyFile(_ from: String, _ to: String) throws {
        let input = try retryingEINTR("open \(from)") { open(from, O_RDONLY | O_NOFOLLOW | O_CLOEXEC) }
        defer { close(input) }
        let output = try retryingEINTR("create \(to)") { open(to, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600) }
        defer { close(output) }
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = try retryingEINTR("read \(from)") { buffer.withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) } }
            if n == 0 { return }
            var offset = 0
            while offset < n {
                let w = try retryingEINTR("write \(to)") { buffer.withUnsafeBytes { write(output, $0.baseAddress! + offset, n - offset) } }
                offset += w
            }
        }
    }

    static func readLink(_ path: String) throws -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = try retryingEINTR("readlink \(path)") { readlink(path, &buffer, buffer.count - 1) }
        return String(decoding: buffer.prefix(n).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
