#if canImport(Glibc)
import Glibc
#endif

/// File-system helpers with the modes and durability Berth's state needs.
public enum FileSystem {
    /// Creates `path` and any missing parents, then sets `mode` on `path` itself
    /// (umask does not apply to it). An existing directory gets its mode set only when
    /// `enforceMode` (berthd's own root and state); any other (a socket's parent such as
    /// /run or /tmp) is left as it is — never chmod a directory Berth did not make. Symlinks along the path are followed (/var/run → /run);
    /// an existing non-directory is an error.
    public static func makeDirectory(_ path: String, mode: mode_t, enforceMode: Bool = false) throws {
        var prefix = path.hasPrefix("/") ? "" : "."
        var created = false
        for component in path.split(separator: "/") {
            prefix += "/" + component
            if mkdir(prefix, 0o755) == 0 {
                created = true
            } else if errno != EEXIST {
                throw SystemError(errno: errno, stage: "mkdir \(prefix)")
            } else {
                created = false
            }
        }
        var st = stat()
        try retryingEINTR("stat \(path)") { stat(path, &st) }
        guard (st.st_mode & S_IFMT) == S_IFDIR else {
            throw SystemError(errno: ENOTDIR, stage: "mkdir \(path)")
        }
        if created || enforceMode {
            try retryingEINTR("chmod \(path)") { chmod(path, mode) }
        }
    }

    /// The file type bits of `path` (not following a final symlink), or nil if absent.
    public static func fileType(_ path: String) -> mode_t? {
        var st = stat()
        guard lstat(path, &st) == 0 else { return nil }
        return st.st_mode & S_IFMT
    }

    /// Permission bits of `path`, following symlinks.
    public static func permissions(_ path: String) throws -> mode_t {
        var st = stat()
        try retryingEINTR("stat \(path)") { stat(path, &st) }
        return st.st_mode & 0o7777
    }

    /// Reads a whole file, at most `limit` bytes (a larger file is an EFBIG error).
    ///
    /// The buffer starts at the file's size (one read for a regular file) or 4 KiB (proc
    /// and cgroup files report no size) and doubles as needed, uninitialized: a runtime
    /// start reads dozens of small files, and a zeroed 64 KiB chunk for each cost more
    /// than the reads.
    public static func readFile(_ path: String, limit: Int = 1 << 20) throws -> [UInt8] {
        let fd = try retryingEINTR("open \(path)") { open(path, O_RDONLY | O_CLOEXEC) }
        defer { close(fd) }
        return try read(fd, limit: limit, what: path)
    }

    /// Everything left to read from `fd` (at most `limit` bytes: EFBIG past it), in a
    /// buffer sized from the file when it is a regular one. `what` names it in errors.
    public static func read(_ fd: Int32, limit: Int, what: String) throws -> [UInt8] {
        var st = stat()
        let size = fstat(fd, &st) == 0 && st.st_mode & S_IFMT == S_IFREG ? Int(st.st_size) : 0
        if size > limit { throw SystemError(errno: EFBIG, stage: "read \(what) (over \(limit) bytes)") }
        // +1: a regular file's end is seen by the second read without growing the buffer.
        var capacity = min(max(size + 1, 4096), limit + 1)
        var buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
        defer { buffer.deallocate() }
        var count = 0
        while true {
            if count == capacity {
                let bigger = min(capacity * 2, limit + 1)
                let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: bigger)
                grown.update(from: buffer, count: count)
                buffer.deallocate()
                buffer = grown
                capacity = bigger
            }
            let n = try retryingEINTR("read \(what)") { Glibc.read(fd, buffer + count, capacity - count) }
            if n == 0 { break }
            count += n
            if count > limit { throw SystemError(errno: EFBIG, stage: "read \(what) (over \(limit) bytes)") }
        }
        return Array(UnsafeBufferPointer(start: buffer, count: count))
    }

    /// Writes all of `bytes` to `fd`, however many writes it takes. `what` names it in errors.
    public static func writeAll(_ fd: Int32, _ bytes: [UInt8], what: String) throws {
        var offset = 0
        while offset < bytes.count {
            offset += try retryingEINTR("write \(what)") {
                bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            }
        }
    }

    /// Writes `bytes` into the existing file `path` (a /proc or /sys knob: no create, no
    /// truncation, no temporary file).
    public static func writeExisting(_ path: String, _ bytes: [UInt8]) throws {
        let fd = try retryingEINTR("open \(path)") { open(path, O_WRONLY | O_CLOEXEC) }
        defer { close(fd) }
        try writeAll(fd, bytes, what: path)
    }

    /// Exactly `count` bytes from `fd`, however many reads it takes; nil at end of file first.
    public static func read(_ fd: Int32, exactly count: Int, what: String) throws -> [UInt8]? {
        var bytes = [UInt8](repeating: 0, count: count)
        var have = 0
        while have < count {
            let n = try retryingEINTR("read \(what)") {
                bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + have, count - have) }
            }
            if n == 0 { return nil }
            have += n
        }
        return bytes
    }

    /// Writes `bytes` to `path` atomically: a temporary file in the same directory is
    /// written and renamed over `path`, so a reader sees the old content or the new, never
    /// a mix, and a crash of any process (the writer's included) leaves one or the other.
    ///
    /// Not fsynced: every caller writes under a state directory (`/run/berth`, the
    /// runtime's `--root`: bundles, exit records, runtime state, pid files), describing
    /// processes that do not survive a reboot either, as runc and conmon write theirs
    /// (each fsync costs 0.2–1 ms on a disk). What must survive the host (blobs, the
    /// journal, the metadata database) is written by its own store, with fsyncs.
    public static func writeAtomically(_ path: String, _ bytes: [UInt8], mode: mode_t = 0o644) throws {
        try PreparedFile(path, mode: mode).commit(bytes)
    }

    /// The temporary file of a `writeAtomically` made ahead of the write, for a write that
    /// must be quick when it comes (the shim's exit record): `commit` is then a write and
    /// a rename. A file never committed stays behind as `<path>.tmp-<pid>`.
    public final class PreparedFile: Sendable {
        let fd: Int32
        let temporary: String
        let path: String

        public init(_ path: String, mode: mode_t = 0o644) throws {
            let temporary = "\(path).tmp-\(getpid())"
            fd = try retryingEINTR("open \(temporary)") { open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode) }
            self.path = path
            self.temporary = temporary
        }

        /// Writes `bytes` and renames the file over `path`; on failure the temporary file
        /// is removed. Use once.
        public func commit(_ bytes: [UInt8]) throws {
            do {
                defer { close(fd) }
                try FileSystem.writeAll(fd, bytes, what: temporary)
                try retryingEINTR("rename \(temporary)") { rename(temporary, path) }
            } catch {
                unlink(temporary)
                throw error
            }
        }
    }

    /// fsync(2) on a directory, so a rename or create in it is durable.
    public static func syncDirectory(_ path: String) throws {
        let fd = try retryingEINTR("open \(path)") { open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        defer { close(fd) }
        try retryingEINTR("fsync \(path)") { fsync(fd) }
    }

    public static func parentDirectory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let parent = String(path[..<slash])
        return parent.isEmpty ? "/" : parent
    }

    /// The names in a directory, without `.` and `..`, in no order; empty when the
    /// directory does not exist.
    public static func entries(_ path: String) throws -> [String] {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT { return [] }
            throw SystemError(errno: errno, stage: "open \(path)")
        }
        return try entries(descriptor: fd, path: path)
    }

    /// The names in the directory open as `fd`, which this takes over and closes.
    public static func entries(descriptor fd: Int32, path: String) throws -> [String] {
        guard let dir = fdopendir(fd) else {
            let e = errno
            close(fd)
            throw SystemError(errno: e, stage: "fdopendir \(path)")
        }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }
}
