#if canImport(Glibc)
import Glibc
#endif
import BerthSystem

/// Reading and writing cgroup interface files. Every failure names the file and, for
/// writes, the value (`write <dir>/memory.max = 1024: EINVAL`).
enum CgroupFile {
    /// Writes `value` in one write(2), as the kernel parses each write separately.
    static func write(_ dir: String, _ name: String, _ value: String) throws {
        let path = dir + "/" + name
        let stage = "write \(path) = \(value)"
        let fd = try retryingEINTR(stage) { open(path, O_WRONLY | O_TRUNC | O_CLOEXEC) }
        defer { close(fd) }
        let bytes = Array(value.utf8)
        let n = try retryingEINTR(stage) { bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) } }
        if n != bytes.count { throw SystemError(errno: EIO, stage: stage + " (short write)") }
    }

    /// The file's content without the trailing newline.
    static func read(_ dir: String, _ name: String) throws -> String {
        let bytes = try FileSystem.readFile(dir + "/" + name, limit: 16 << 20)
        var text = String(decoding: bytes, as: UTF8.self)
        while text.last == "\n" { text.removeLast() }
        return text
    }

    /// Like `read`, but nil when the file does not exist (a controller or feature this
    /// kernel or cgroup lacks).
    static func readIfPresent(_ dir: String, _ name: String) throws -> String? {
        do {
            return try read(dir, name)
        } catch let error as SystemError where error.errno == ENOENT || error.errno == ENODEV {
            return nil
        }
    }

    static func exists(_ dir: String, _ name: String) -> Bool {
        access(dir + "/" + name, F_OK) == 0
    }

    /// A number file; `max` (v2) is nil.
    static func readNumber(_ dir: String, _ name: String) throws -> UInt64? {
        guard let text = try readIfPresent(dir, name) else { return nil }
        return UInt64(text.trimmingWhitespace)
    }

    /// A flat keyed file (`key value` per line: `memory.stat`, `cpu.stat`,
    /// `memory.events`); non-numeric values are skipped.
    static func readKeyed(_ dir: String, _ name: String) throws -> [String: UInt64]? {
        guard let text = try readIfPresent(dir, name) else { return nil }
        return parseKeyed(text)
    }

    static func parseKeyed(_ text: String) -> [String: UInt64] {
        var out: [String: UInt64] = [:]
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count == 2, let value = UInt64(fields[1]) else { continue }
            out[String(fields[0])] = value
        }
        return out
    }
}

extension String {
    var trimmingWhitespace: String {
        var s = Substring(self)
        while let c = s.first, c == " " || c == "\n" || c == "\t" { s.removeFirst() }
        while let c = s.last, c == " " || c == "\n" || c == "\t" { s.removeLast() }
        return String(s)
    }
}

/// Sleeps for `ms` milliseconds (polling loops: freezer state, EBUSY retries).
func sleep(milliseconds ms: Int) {
    var request = timespec(tv_sec: ms / 1000, tv_nsec: (ms % 1000) * 1_000_000)
    var remaining = timespec()
    while nanosleep(&request, &remaining) == -1 && errno == EINTR { request = remaining }
}

/// Monotonic milliseconds, for deadlines.
func monotonicMilliseconds() -> Int {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return ts.tv_sec * 1000 + ts.tv_nsec / 1_000_000
}
