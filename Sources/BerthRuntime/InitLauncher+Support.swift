import BerthCgroups
import BerthOCI
import BerthSystem
import CBerthRuntime
#if canImport(Glibc)
import Glibc
#endif

/// The parent's side of the sync socket (proto-docs/runtime-init.md): messages to and
/// from the child, and the child's own error when a step of the parent failed. Then
/// the small helpers the launcher uses (proc files, the console socket, C strings).
extension InitLauncher {
    /// Lets the child go on. A child that failed before it read GO (joining its
    /// cgroup) has sent its error: that, not the broken socket, is reported.
    func sendGo(_ fd: Int32, to pid: Int32) throws {
        do {
            try send(fd, BERTH_SYNC_GO)
        } catch {
            throw childError(fd, pid: pid) ?? error
        }
    }

    /// After a step of the parent failed: the child's own error if it has sent one (it
    /// may have failed first, which is why the step failed), else nil. Never blocks.
    func childError(_ fd: Int32, pid: Int32) -> (any Error)? {
        var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&pfd, 1, 0) > 0, pfd.revents & Int16(POLLIN) != 0 else { return nil }
        var message = berth_sync_msg()
        guard berth_sync_recv(fd, &message) == 0 else { return nil }
        return Self.reportedError(message)
    }

    /// The error an ERROR message reports (nil for any other message).
    static func reportedError(_ message: berth_sync_msg) -> RuntimeError? {
        guard message.type == BERTH_SYNC_ERROR.rawValue else { return nil }
        let stage = withUnsafeBytes(of: message.stage) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        return RuntimeError.child(stage: stage, errno: message.err)
    }

    /// Moves the child into the hierarchies it did not join by itself; a failure is the
    /// child's own when it has reported one.
    func moveIntoCgroup(_ cgroup: Cgroup?, _ spawned: Spawned, pid: Int32) throws {
        do {
            try cgroup?.add(pid: pid, v1: !spawned.joinedV1, unified: !spawned.joinedUnified)
        } catch {
            throw childError(spawned.sync, pid: pid) ?? error
        }
    }

    func send(_ fd: Int32, _ type: berth_sync_type) throws {
        let rc = berth_sync_send(fd, type.rawValue, 0, 0, nil)
        if rc < 0 { throw SystemError(errno: -rc, stage: "sync with init") }
    }

    /// The next message; an ERROR message or the child's death becomes a RuntimeError.
    func receive(_ fd: Int32, from pid: Int32) throws -> berth_sync_msg {
        var message = berth_sync_msg()
        let rc = berth_sync_recv(fd, &message)
        if rc == -ECONNRESET {
            var status: Int32 = 0
            let reaped = waitpid(pid, &status, WNOHANG)
            let how = reaped == pid ? describeWaitStatus(status) : "closed its sync socket"
            throw RuntimeError("container init \(how) before it was ready")
        }
        if rc < 0 { throw SystemError(errno: -rc, stage: "sync with init") }
        if let error = Self.reportedError(message) { throw error }
        return message
    }
}

func describeWaitStatus(_ status: Int32) -> String {
    let signal = status & 0x7f
    if signal == 0 { return "exited with status \((status >> 8) & 0xff)" }
    return "was killed by signal \(signal)"
}

func connectUnixSocket(_ path: String) throws -> Int32 {
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard fd >= 0 else { throw SystemError(errno: errno, stage: "socket") }
    var addr = sockaddr_un()
    addr.sun_family = sa_family_t(AF_UNIX)
    let bytes = Array(path.utf8)
    guard bytes.count < MemoryLayout.size(ofValue: addr.sun_path) else {
        close(fd)
        throw RuntimeError("console socket path \(path) is too long")
    }
    withUnsafeMutableBytes(of: &addr.sun_path) { $0.copyBytes(from: bytes) }
    let rc = withUnsafePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
    }
    guard rc == 0 else {
        let err = errno
        close(fd)
        throw SystemError(errno: err, stage: "connect console socket \(path)")
    }
    return fd
}

extension InitLauncher {
    /// The container's /etc/passwd, read through its root with RESOLVE_IN_ROOT (a
    /// symlink in the image cannot point the read at the host), at most 1 MiB.
    static func containerPasswd(pid: Int32) -> String? {
        let root = open("/proc/\(pid)/root", BERTH_O_PATH | O_DIRECTORY | O_CLOEXEC)
        guard root >= 0 else { return nil }
        defer { close(root) }
        let fd = berth_open_in_root(root, "/etc/passwd", O_RDONLY, 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
        guard let bytes = try? FileSystem.read(fd, limit: 1 << 20, what: "/etc/passwd"), !bytes.isEmpty else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// `env` with HOME from the user's passwd entry (or "/") when it has none, as runc.
    static func withHome(_ env: [String], user: Spec.User, passwd: String?) -> [String] {
        if env.contains(where: { $0.hasPrefix("HOME=") }) { return env }
        var home = "/"
        for line in (passwd ?? "").split(separator: "\n") {
            let fields = line.split(separator: ":", omittingEmptySubsequences: false)
            if fields.count >= 6, UInt32(fields[2]) == user.uid { home = String(fields[5]); break }
        }
        return env + ["HOME=" + home]
    }
}

/// Calls `body` with a NULL-terminated C array of the strings (prepared before any fork).
func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) throws -> R) rethrows -> R {
    let pointers = strings.map { strdup($0) } + [nil]
    defer { pointers.forEach { free($0) } }
    return try pointers.withUnsafeBufferPointer { try body($0.baseAddress!) }
}
