import CBerthRuntime
import CBerthShim

/// kill, delete, wait, exec, pids, pause and resume; the OOM watch.
extension TaskService {
    func kill(_ params: JSON, _ reply: Reply) throws(ShimError) {
        guard let signal = params["signal"]?.int, let signal32 = Int32(exactly: signal) else {
            throw ShimError.invalidParams("signal is required (an integer)")
        }
        let all = params["all"]?.bool ?? false
        if let execID = try params.optionalString("execID") {
            guard let p = execs[execID], p.status == "running" else { throw ShimError(.notFound, "exec " + execID + " is not running") }
            guard CBerthShim.kill(p.pid, signal32) == 0 else {
                throw ShimError.system("kill exec " + execID, errno: lastErrno, kind: .failedPrecondition)
            }
            return reply.ok(.emptyObject)
        }
        let p = try process(nil)
        guard p.status != "stopped" else { throw ShimError(.notFound, "task " + id + " is not running") }
        // The init is the shim's own (sub)child, reaped only here: until its exit is
        // recorded its pid cannot be reused, so a pidfd signal needs no runtime process.
        if !all, p.status == "running" || p.status == "paused" {
            let pidfd = berth_pidfd_open(p.pid)
            if pidfd >= 0 {
                defer { _ = close(pidfd) }
                if berth_pidfd_send_signal(pidfd, signal32) == 0 { return reply.ok(.emptyObject) }
            }
        }
        runner.run(["kill"] + (all ? ["--all"] : []) + [id, String(signal)]) { error in
            if let error { reply.fail(error) } else { reply.ok(.emptyObject) }
        }
    }

    func delete(_ execID: String?, _ reply: Reply) throws(ShimError) {
        if let execID {
            let p = try process(execID)
            guard p.status == "stopped" else { throw ShimError(.failedPrecondition, "exec " + execID + " is " + p.status) }
            execs[execID] = nil
            return reply.ok((p.exit ?? ExitRecord(pid: p.pid, exitStatus: 255, exitedAt: timestampNow())).json)
        }
        let p = try process(nil)
        guard p.status == "stopped" || p.status == "created" else {
            throw ShimError(.failedPrecondition, "task " + id + " is " + p.status + ": kill it before deleting")
        }
        guard !deletingInit else { throw ShimError(.failedPrecondition, "task " + id + " is being deleted") }
        deletingInit = true
        runner.run(["delete", "--force", id]) { [self] error in
            if let error {
                deletingInit = false
                return reply.fail(error)
            }
            // As containerd's shim: once delete answers, the output is all in the log and
            // the FIFOs (the copiers saw end of file; 2 s at most).
            let complete = { [self] (record: ExitRecord) in
                let finish = { [self] in
                    initProcess = nil
                    deletingInit = false
                    events.publish("/tasks/delete", eventPayload(containerID: id, pid: p.pid, exitStatus: record.exitStatus,
                                                                 exitedAt: record.exitedAt))
                    reply.ok(ExitRecord(pid: p.pid, exitStatus: record.exitStatus, exitedAt: record.exitedAt).json)
                    releaseNamespaces() // after the answer: the teardown is not the delete's to wait for
                }
                if let io = p.io { io.whenOutputDrained(timeoutMs: 2000, finish) } else { finish() }
            }
            // A created task that never ran is stopped by the delete: wait for its exit record.
            if let exit = initProcess?.exit {
                complete(exit)
            } else if initProcess != nil {
                initProcess?.waiters.append(complete)
            } else {
                complete(ExitRecord(pid: p.pid, exitStatus: 255, exitedAt: timestampNow()))
            }
        }
    }

    func wait(_ execID: String?, _ reply: Reply) throws(ShimError) {
        let p = try process(execID)
        if let exit = p.exit { return reply.ok(exit.json) }
        let waiter = { (record: ExitRecord) in reply.ok(record.json) }
        if let execID { execs[execID]?.waiters.append(waiter) } else { initProcess?.waiters.append(waiter) }
    }

    func pids(_ reply: Reply) {
        runner.runPrintingJSON(["ps", "--format", "json", id], scratch: bootstrap.bundle + "/pids-\(nextScratch()).json") { outcome in
            switch outcome {
            case .failure(let error): reply.fail(error)
            case .success(let printed):
                guard let list = printed.array else { return reply.fail(ShimError(.internal, "the runtime's ps printed no list")) }
                reply.ok(.object([("pids", .array(list.filter { $0.int != nil }))]))
            }
        }
    }

    func pauseResume(pause: Bool, _ reply: Reply) {
        runner.run([pause ? "pause" : "resume", id]) { [self] error in
            if let error { return reply.fail(error) }
            // An init that died meanwhile (a kill, then the thaw) stays stopped.
            if initProcess?.status == "running" || initProcess?.status == "paused" {
                initProcess?.status = pause ? "paused" : "running"
            }
            events.publish(pause ? "/tasks/paused" : "/tasks/resumed", eventPayload(containerID: id))
            reply.ok(.emptyObject)
        }
    }

    func exec(_ params: JSON, _ reply: Reply) throws(ShimError) {
        let execID = try params.requiredString("execID")
        guard let process = params["process"], process.isObject else { throw ShimError.invalidParams("process is required (an object)") }
        guard process["cwd"]?.string != nil else { throw ShimError.invalidParams("process.cwd is required (a string)") }
        guard let user = process["user"], user["uid"]?.int != nil, user["gid"]?.int != nil else {
            throw ShimError.invalidParams("process.user is required (an object with uid and gid)")
        }
        let stdio = try Stdio(params["stdio"])
        try validateIdentifier(execID, what: "exec id")
        guard initProcess?.status == "running" else { throw ShimError(.failedPrecondition, "task " + id + " is not running") }
        if execs[execID] != nil { throw ShimError(.alreadyExists, "exec " + execID + " already exists") }
        execs[execID] = Process(status: "creating")
        let processFile = bootstrap.bundle + "/exec-" + execID + ".json"
        let pidFile = bootstrap.bundle + "/exec-" + execID + ".pid"
        let io: ProcessIO
        do throws(ShimError) {
            try Sys.writeAtomically(processFile, process.bytes)
            events.publish("/tasks/exec-added", eventPayload(containerID: id, execID: execID))
            io = try ProcessIO(stdio, consoleSocketPath: bootstrap.bundle + "/console-" + execID + ".sock", loop: loop)
        } catch {
            unlink(processFile)
            execs[execID] = nil
            throw error
        }
        let console = io.consoleSocketPath.map { ["--console-socket", $0] } ?? []
        runner.run(["exec", "--detach", "--process", processFile, "--pid-file", pidFile] + console + [id],
                   stdin: io.child.stdin, stdout: io.child.stdout, stderr: io.child.stderr) { [self] error in
            unlink(processFile)
            // An exec'd process the shim cannot take (no console) is killed again.
            let undo = {
                if let pid = try? Sys.readNumber(pidFile) { _ = CBerthShim.kill(pid, SIGKILL) }
                unlink(pidFile)
            }
            afterRuntime(io, pidFile: pidFile, error, undo: undo) { [self] outcome in
                let waiters = execs[execID]?.waiters ?? [] // task.wait calls made during the exec
                switch outcome {
                case .failure(let error):
                    execs[execID] = nil
                    for waiter in waiters { waiter(ExitRecord(pid: 0, exitStatus: 255, exitedAt: timestampNow())) }
                    reply.fail(error)
                case .success(let pid):
                    startedExec(execID, pid: pid, pidFile: pidFile, io: io, waiters: waiters, reply)
                }
            }
        }
    }

    private func startedExec(_ execID: String, pid: Int32, pidFile: String, io: ProcessIO, waiters: [(ExitRecord) -> Void], _ reply: Reply) {
        unlink(pidFile)
        execs[execID] = Process(pid: pid, status: "running", waiters: waiters, io: io)
        events.publish("/tasks/exec-started", eventPayload(containerID: id, execID: execID, pid: pid))
        watch(pid: pid, execID: execID)
        reply.ok(.emptyObject)
    }

    // MARK: OOM

    /// Publishes /tasks/oom each time the kernel OOM-kills in the task's cgroup, until
    /// the init exits. The notification descriptor is read on the loop: no polling.
    func watchOOM() {
        let path = (try? taskCgroupPath()) ?? "/berth-runtime/" + id
        guard let memory = MemoryCgroup(cgroupsPath: path), let fd = memory.eventDescriptor() else { return }
        memoryCgroup = memory
        oomKillsSeen = memory.oomKillCount() ?? 0
        oomDescriptor = fd
        loop.watch(fd) { _ in
            var buffer = [UInt8](repeating: 0, count: 4096)
            while buffer.withUnsafeMutableBytes({ read(fd, $0.baseAddress, $0.count) }) > 0 {}
            self.checkOOM()
        }
    }

    func stopWatchingOOM() {
        guard oomDescriptor >= 0 else { return }
        loop.unwatch(oomDescriptor)
        _ = close(oomDescriptor)
        oomDescriptor = -1
    }

    /// Publishes /tasks/oom when the cgroup's OOM-kill counter has grown since last seen.
    func checkOOM() {
        guard let now = memoryCgroup?.oomKillCount(), now > oomKillsSeen else { return }
        oomKillsSeen = now
        events.publish("/tasks/oom", eventPayload(containerID: id))
    }
}

/// The identifier rule of berthd (BerthAPI's Identifier): 1–76 characters of letters,
/// digits and `.`, `_`, `-`, starting and ending with a letter or digit, no two
/// separators in a row.
func validateIdentifier(_ value: String, what: String) throws(ShimError) {
    if value.isEmpty { throw ShimError(.invalidArgument, what + " must not be empty") }
    if value.utf8.count > 76 {
        throw ShimError(.invalidArgument, what + " is \(value.utf8.count) characters; at most 76 are allowed")
    }
    var previousWasSeparator = true
    for byte in value.utf8 {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            previousWasSeparator = false
        case UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
            if previousWasSeparator { throw invalidIdentifier(value, what) }
            previousWasSeparator = true
        default:
            throw invalidIdentifier(value, what)
        }
    }
    if previousWasSeparator { throw invalidIdentifier(value, what) }
}

private func invalidIdentifier(_ value: String, _ what: String) -> ShimError {
    ShimError(.invalidArgument, what + " \"" + value + "\" is invalid: use letters and digits, joined by single '.', '_' or '-'")
}
