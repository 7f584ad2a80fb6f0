import CBerthLinux
import CBerthRuntime
import CBerthShim

/// berth-shim's commands (proto-docs/shim.md). `start` is run by berthd with the bootstrap
/// on stdin; it binds the socket, starts the serving shim in a new session, prints
/// `{"address","pid"}` and exits. `serve` is that shim. `delete` cleans up after a shim
/// that died.
public enum Shim {
    /// The listening socket's descriptor in the serving shim.
    static let listenFD: Int32 = 3

    public static func main(_ arguments: [String]) -> Never {
        switch arguments.count > 1 ? arguments[1] : "" {
        case "start":
            do throws(ShimError) { try start() } catch { fail(error.message) }
        case "spare":
            guard arguments.count > 2 else { fail("usage: berth-shim spare ADDRESS") }
            do throws(ShimError) { try startSpare(address: arguments[2]) } catch { fail(error.message) }
        case "serve":
            let spareAddress = arguments.count > 3 && arguments[2] == "--spare" ? arguments[3] : nil
            let bundle = spareAddress == nil && arguments.count > 2 ? arguments[2] : currentDirectory()
            do throws(ShimError) { try serve(bundle: bundle, spareAddress: spareAddress) } catch { fail(error.message) }
        case "delete":
            do throws(ShimError) { try delete(bundle: arguments.count > 2 ? arguments[2] : currentDirectory()) } catch { fail(error.message) }
        default:
            fail("usage: berth-shim start | spare ADDRESS | serve BUNDLE | serve --spare ADDRESS | delete [BUNDLE]")
        }
        exit(0)
    }

    static func fail(_ message: String) -> Never {
        Sys.printLine("berth-shim: " + message, to: 2)
        exit(1)
    }

    static func currentDirectory() -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        return buffer.withUnsafeMutableBufferPointer { b in getcwd(b.baseAddress, b.count).map { String(cString: $0) } ?? "." }
    }

    static func start() throws(ShimError) {
        var bootstrap = try Bootstrap(try JSON.parse(try Sys.read(0, limit: 1 << 20, what: "the bootstrap on standard input")))
        // Written before the serving shim starts: it reads it at once.
        bootstrap.shimPid = nil
        try launchServer(address: bootstrap.address, ["serve", bootstrap.bundle]) { () throws(ShimError) in
            try bootstrap.write(to: bootstrap.bundle)
        }
    }

    /// What `start` and `spare` share: binds `address` (its directory 0700), runs
    /// `beforeSpawn`, starts `berth-shim ARGUMENTS` in a new session (detached from
    /// berthd: it survives berthd's restarts) with the socket as descriptor 3, and prints
    /// `{"address","pid"}`.
    static func launchServer(address: String, _ arguments: [String],
                             beforeSpawn: () throws(ShimError) -> Void = { () throws(ShimError) in }) throws(ShimError) {
        try Sys.makeDirectories(Sys.parentDirectory(address), mode: 0o700)
        let listener = try bindListener(address)
        defer { _ = close(listener) }
        try beforeSpawn()
        let pid = try Sys.spawn(ownPath(), ["berth-shim"] + arguments, extra: (listener, listenFD), newSession: true)
        Sys.printLine(String(decoding: started(address: address, pid: pid).bytes, as: UTF8.self))
    }

    /// This binary's path, so that the serving shim's name (`comm`: ps, top, pgrep) is
    /// `berth-shim`, not the `exe` of `/proc/self/exe`. When the binary was replaced or
    /// removed since it started: `/proc/self/exe` (to run this very binary), or with
    /// `resolvingDeleted` the path it had (where its replacement is).
    static func ownPath(resolvingDeleted: Bool = false) -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = buffer.withUnsafeMutableBufferPointer { readlink("/proc/self/exe", $0.baseAddress!, $0.count - 1) }
        guard n > 0 else { return "/proc/self/exe" }
        let path = buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        let deleted = " (deleted)"
        guard path.hasSuffix(deleted) else { return path }
        return resolvingDeleted ? String(path.utf8.dropLast(deleted.utf8.count))! : "/proc/self/exe"
    }

    static func started(address: String, pid: Int32) -> JSON {
        .object([("address", .string(address)), ("pid", .int(pid))])
    }

    static func bindListener(_ path: String) throws(ShimError) -> Int32 {
        let fd = berth_shim_listen(path, 64)
        guard fd >= 0 else { throw ShimError.system("bind shim socket " + path, errno: -fd) }
        return fd
    }

    /// The shim proper: serves the task of `bundle`, or (`spareAddress`) waits to be
    /// adopted for one first (Spare.swift).
    static func serve(bundle: String, spareAddress: String?) throws(ShimError) {
        // Before any thread exists, so that every thread inherits it: SIGCHLD is read
        // from a signalfd on the loop (Reaper).
        _ = berth_block_sigchld()
        berth_shim_ignore_sigpipe()
        // One malloc arena for the copier threads too: each arena costs private pages.
        _ = berth_malloc_single_arena()
        _ = berth_set_child_subreaper()
        let loop = try EventLoop()
        let reaper = try Reaper(loop: loop)
        let bootstrap: Bootstrap
        if let spareAddress {
            bootstrap = awaitAdoption(spareAddress: spareAddress)
        } else {
            var read = try Bootstrap.read(from: bundle)
            Sys.setOOMScoreAdj(read.oomScoreAdj)
            // Record who serves this bundle, for a restarted berthd and for `berth-shim delete`.
            read.shimPid = getpid()
            try read.write(to: bundle)
            bootstrap = read
        }
        let service = TaskService(bootstrap: bootstrap, loop: loop, reaper: reaper)
        let server = Server(listener: listenFD, loop: loop) { service.handle($0) }
        // After task.shutdown: out once the answers are written (at most 2 s).
        var deadline: Int64 = 0
        loop.shouldContinue = {
            guard service.shuttingDown else { return true }
            let now = monotonicMilliseconds()
            if deadline == 0 { deadline = now + 2000; loop.timeoutMs = 10 }
            return !server.isFlushed && now < deadline
        }
        loop.run()
        // No unlink here: task.shutdown removed the name, which may be another shim's now.
    }

    /// `berth-shim delete`, run in the bundle of a shim that died: force-deletes the
    /// container through the runtime and records exit 255 when no exit was recorded.
    static func delete(bundle: String) throws(ShimError) {
        let bootstrap = try Bootstrap.read(from: bundle)
        let words = [bootstrap.runtime, "--root", bootstrap.runtimeRoot, "delete", "--force", bootstrap.id]
        if let pid = try? Sys.spawn(bootstrap.runtime, words) {
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && lastErrno == EINTR {}
        }
        let recorded = ExitRecord.read(from: bundle)
        let record = recorded ?? ExitRecord(pid: 0, exitStatus: 255, exitedAt: timestampNow())
        if recorded == nil { try record.write(to: bundle) }
        unlink(bootstrap.address)
        Sys.printLine(String(decoding: record.json.bytes, as: UTF8.self))
    }
}

func monotonicMilliseconds() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
}
