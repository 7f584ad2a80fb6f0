import CBerthShim

/// The few file and process calls the shim makes, over the C library.
enum Sys {
    /// A whole file from `offset` (at most `limit` bytes).
    static func readFile(_ path: String, from offset: Int = 0, limit: Int = 1 << 20) throws(ShimError) -> [UInt8] {
        let fd = berth_shim_open(path, O_RDONLY | O_CLOEXEC, 0)
        guard fd >= 0 else { throw ShimError.system("open " + path, errno: -fd) }
        defer { close(fd) }
        if offset > 0 { lseek(fd, off_t(offset), SEEK_SET) }
        return try read(fd, limit: limit, what: path)
    }

    /// Everything left to read from `fd` (at most `limit` bytes); `what` names it in errors.
    static func read(_ fd: Int32, limit: Int, what: String) throws(ShimError) -> [UInt8] {
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16384)
        while out.count <= limit {
            let n = chunk.withUnsafeMutableBytes { CBerthShim.read(fd, $0.baseAddress, $0.count) }
            if n < 0 && lastErrno == EINTR { continue }
            if n < 0 { throw ShimError.system("read " + what, errno: lastErrno) }
            if n == 0 { return out }
            out.append(contentsOf: chunk[0..<n])
        }
        throw ShimError(.internal, what + " is larger than \(limit) bytes")
    }

    /// Writes all of `bytes`, retrying short writes and EINTR.
    @discardableResult
    static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 && lastErrno == EINTR { continue }
            if n <= 0 { return false }
            offset += n
        }
        return true
    }

    /// `path` replaced atomically by `bytes` (a temporary file beside it, renamed).
    static func writeAtomically(_ path: String, _ bytes: [UInt8], mode: UInt32 = 0o600) throws(ShimError) {
        let temporary = path + ".tmp-\(getpid())"
        let fd = berth_shim_open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw ShimError.system("open " + temporary, errno: -fd) }
        let written = writeAll(fd, bytes)
        let err = lastErrno
        close(fd)
        guard written else { unlink(temporary); throw ShimError.system("write " + temporary, errno: err) }
        guard rename(temporary, path) == 0 else {
            let err = lastErrno
            unlink(temporary)
            throw ShimError.system("rename " + temporary, errno: err)
        }
    }

    /// `mkdir -p`: `mode` for the last directory, 0755 for those it creates on the way.
    static func makeDirectories(_ path: String, mode: UInt32) throws(ShimError) {
        var current = ""
        let parts = path.split(separator: "/")
        for (i, part) in parts.enumerated() {
            current += "/" + String(part)
            if mkdir(current, i == parts.count - 1 ? mode : 0o755) != 0 && lastErrno != EEXIST {
                throw ShimError.system("mkdir " + current, errno: lastErrno)
            }
        }
    }

    static func parentDirectory(_ path: String) -> String {
        guard let slash = path.utf8.lastIndex(of: UInt8(ascii: "/")) else { return "." }
        let parent = String(path[..<slash])
        return parent.isEmpty ? "/" : parent
    }

    static func isFIFO(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && st.st_mode & UInt32(S_IFMT) == UInt32(S_IFIFO)
    }

    /// Runs `body` with `words` as a NULL-terminated C array of strings.
    static func withCStrings<R>(_ words: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
        var pointers: [UnsafeMutablePointer<CChar>?] = words.map { word in word.withCString { strdup($0) } }
        pointers.append(nil)
        defer { for p in pointers { free(p) } }
        return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
    }

    /// Starts a program (see berth_shim_spawn): the pid.
    static func spawn(_ path: String, _ argv: [String], stdin: Int32 = -1, stdout: Int32 = -1, stderr: Int32 = -1,
                      extra: (Int32, Int32)? = nil, newSession: Bool = false) throws(ShimError) -> Int32 {
        let pid = withCStrings(argv) { args in
            berth_shim_spawn(path, args, stdin, stdout, stderr, extra?.0 ?? -1, extra?.1 ?? -1, newSession ? 1 : 0)
        }
        guard pid > 0 else { throw ShimError.system("run " + path, errno: -pid) }
        return pid
    }

    /// A decimal number (and surrounding whitespace) in a small file, e.g. a pid file.
    static func readNumber(_ path: String) throws(ShimError) -> Int32 {
        let text = try readFile(path, limit: 64)
        var value: Int32 = 0
        var digits = 0
        for byte in text where byte >= 0x30 && byte <= 0x39 {
            value = value &* 10 &+ Int32(byte - 0x30)
            digits += 1
        }
        guard digits > 0, digits < 10 else { throw ShimError(.internal, "malformed pid file " + path) }
        return value
    }

    /// `oom_score_adj` of this process.
    static func setOOMScoreAdj(_ adj: Int?) {
        guard let adj else { return }
        let fd = berth_shim_open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC, 0)
        guard fd >= 0 else { return }
        writeAll(fd, Array(String(adj).utf8))
        close(fd)
    }

    /// Writes a line to a descriptor (stdout for what the launcher prints, stderr for errors).
    static func printLine(_ text: String, to fd: Int32 = 1) {
        writeAll(fd, Array((text + "\n").utf8))
    }
}

/// The current time as RFC 3339 with nanoseconds, UTC: "2026-11-25T17:35:47.970407872Z".
func timestampNow() -> String {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    let seconds = Int64(ts.tv_sec)
    var days = seconds / 86400
    var rest = seconds % 86400
    if rest < 0 { rest += 86400; days -= 1 }
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468
    let era = (z >= 0 ? z : z - 146_096) / 146_097
    let doe = z - era * 146_097
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
    let mp = (5 * doy + 2) / 153
    let day = doy - (153 * mp + 2) / 5 + 1
    let month = mp < 10 ? mp + 3 : mp - 9
    let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
    func pad(_ v: Int64, _ width: Int) -> String {
        let s = String(v)
        return s.utf8.count >= width ? s : String(repeating: "0", count: width - s.utf8.count) + s
    }
    return pad(year, 4) + "-" + pad(month, 2) + "-" + pad(day, 2) + "T" + pad(rest / 3600, 2) + ":" + pad(rest / 60 % 60, 2)
        + ":" + pad(rest % 60, 2) + "." + pad(Int64(ts.tv_nsec), 9) + "Z"
}

/// A wait status as a shell reports it: the exit code, or 128 + the signal.
func exitCode(fromWaitStatus status: Int32) -> Int32 {
    let signal = status & 0x7f
    return signal == 0 ? (status >> 8) & 0xff : 128 + signal
}
