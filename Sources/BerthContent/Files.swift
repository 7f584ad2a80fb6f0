import BerthSystem
#if canImport(Glibc)
import Glibc
#endif

/// The few file operations the content store needs, each throwing a `SystemError` that
/// names the path. Paths here are always built by the store from hex digests and
/// hashed refs, never from a caller's string.
enum Files {
    static func open(_ path: String, _ flags: Int32, mode: mode_t = 0o600) throws -> Int32 {
        try retryingEINTR("open \(path)") { Glibc.open(path, flags | O_CLOEXEC, mode) }
    }

    /// Writes all of `bytes` to `fd`; on a failure, `written` says how many went out.
    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String, written: inout Int) throws {
        written = 0
        while written < bytes.count {
            let n = try retryingEINTR("write \(path)") { write(fd, bytes.baseAddress! + written, bytes.count - written) }
            written += n
        }
    }

    /// Reads up to `buffer.count` bytes; 0 at end of file.
    static func read(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, path: String) throws -> Int {
        try retryingEINTR("read \(path)") { Glibc.read(fd, buffer.baseAddress, buffer.count) }
    }

    /// A small text file written without fsync: ingest bookkeeping (`ref`, `total`…)
    /// whose loss only costs a resume, never committed data.
    static func writeText(_ path: String, _ text: String) throws {
        let fd = try open(path, O_WRONLY | O_CREAT | O_TRUNC)
        defer { close(fd) }
        var written = 0
        try Array(text.utf8).withUnsafeBytes { try writeAll(fd, $0, path: path, written: &written) }
    }

    /// A small text file's contents, or nil when it does not exist.
    static func readText(_ path: String) throws -> String? {
        do {
            return String(decoding: try FileSystem.readFile(path, limit: 1 << 16), as: UTF8.self)
        } catch let error as SystemError where error.errno == ENOENT {
            return nil
        }
    }

    static func exists(_ path: String) -> Bool {
        FileSystem.fileType(path) != nil
    }

    /// `st_size` and `st_mtim` of `path` (following no symlink), or nil when absent.
    static func stat(_ path: String) throws -> (size: Int64, modifiedSeconds: Int, modifiedNanoseconds: Int)? {
        var st = Glibc.stat()
        guard lstat(path, &st) == 0 else {
            if errno == ENOENT { return nil }
            throw SystemError(errno: errno, stage: "stat \(path)")
        }
        return (Int64(st.st_size), Int(st.st_mtim.tv_sec), Int(st.st_mtim.tv_nsec))
    }

    /// Removes a file; a missing one is not an error.
    static func unlinkIfPresent(_ path: String) throws {
        if unlink(path) != 0 && errno != ENOENT { throw SystemError(errno: errno, stage: "unlink \(path)") }
    }

    /// Removes a flat directory (an ingest: files only) and what it holds; a missing
    /// directory is not an error. A subdirectory nobody should have made fails loudly.
    static func removeFlatDirectory(_ path: String) throws {
        for name in try FileSystem.entries(path) { try unlinkIfPresent(path + "/" + name) }
        if rmdir(path) != 0 && errno != ENOENT { throw SystemError(errno: errno, stage: "rmdir \(path)") }
    }

    /// The wall clock, seconds since the epoch.
    static func now() -> (seconds: Int, nanoseconds: Int) {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return (Int(ts.tv_sec), Int(ts.tv_nsec))
    }
}
