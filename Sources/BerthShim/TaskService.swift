#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import BerthAPI
import BerthCgroups
import BerthOCI
import BerthRPC
import BerthSystem
import CBerthRuntime
import NIOCore
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The shim's `task.*` service: one container's init and its exec'd processes.
///
/// Every process is watched from the moment its pid is known (`Reaper.onExit` gets a
/// status that arrived early), so no exit is lost. The init's exit is written to
/// `<bundle>/exit.json` before the `/tasks/exit` event is published.
final class TaskService: Sendable {
    struct Process {
        var pid: Int32 = 0
        var status = "created"
        var exit: ExitRecord?
        var waiters: [CheckedContinuation<ExitRecord, Never>] = []
        var io: ProcessIO?
    }

    private struct State {
        var initProcess: Process?
        var execs: [String: Process] = [:]
    }

    let bootstrap: ShimBootstrap
    let runner: RuntimeRunner
    let reaper: Reaper
    let events = ShimEventLog()
    private let state = Mutex(State())
    /// OOM kills already announced (the cgroup's counter), so each is published once.
    let oomKillsSeen = Mutex<UInt64>(0)
    /// The OOM notifications, read on the I/O thread until the init exits.
    let oomChannel = Mutex<(any Channel)?>(nil)
    /// The task's cgroup once first asked for: its path is fixed by config.json at
    /// create, so stats, update and every exit's OOM check do not re-read the bundle.
    let cachedCgroup = Mutex<Cgroup?>(nil)
    /// The init's mount, IPC, UTS and network namespaces, held from create until its exit
    /// is announced: the init's last reference then does not tear them down inside its
    /// exit (unmounting every mount of the container came before the shim even heard of
    /// the exit, ~0.25 ms here); the shim lets go of them once the exit is out.
    private let heldNamespaces = Mutex<[Int32]>([])
    /// The init's exit file, made ready at create.
    private let exitFile = Mutex<ExitRecord.Prepared?>(nil)
    /// Called when the shim should exit (after `task.shutdown`).
    let onShutdown: @Sendable () -> Void

    init(bootstrap: ShimBootstrap, reaper: Reaper, onShutdown: @escaping @Sendable () -> Void) {
        self.bootstrap = bootstrap
        self.reaper = reaper
        self.onShutdown = onShutdown
        runner = RuntimeRunner(runtime: bootstrap.runtime, root: bootstrap.runtimeRoot,
                               logPath: bootstrap.bundle + "/runtime.log", reaper: reaper)
    }

    var id: String { bootstrap.id }

    /// The calls that only read state, signal or wait run inline as the connection reads
    /// them (a signal reaches the container a job sooner); the others run as tasks, on
    /// the same I/O thread (IOThreadExecutor). What may block (a pty, a console, a pipe
    /// nobody reads) goes to a thread of its own (`runBlocking`).
    func register(_ router: inout Router) {
        router.register(ShimAPI.connect, onEventLoop: true) { [self] _, _ in
            ShimConnectResponse(shimPid: getpid(), taskPid: state.withLock { $0.initProcess?.pid ?? 0 }, version: "0.1.0")
        }
        router.register(ShimAPI.create) { [self] request, _ in try await create(request) }
        router.register(ShimAPI.start) { [self] request, _ in try await start(request.execID) }
        router.register(ShimAPI.state, onEventLoop: true) { [self] request, _ in try processState(request.execID) }
        router.register(ShimAPI.kill, onEventLoop: true) { [self] request, _ in try await kill(request); return Empty() }
        router.register(ShimAPI.delete) { [self] request, _ in try await delete(request.execID) }
        router.register(ShimAPI.wait, onEventLoop: true) { [self] request, _ in try await wait(request.execID) }
        router.register(ShimAPI.pids) { [self] _, _ in try await pids() }
        router.register(ShimAPI.pause) { [self] _, _ in try await pauseResume(pause: true); return Empty() }
        router.register(ShimAPI.resume) { [self] _, _ in try await pauseResume(pause: false); return Empty() }
        router.register(ShimAPI.exec) { [self] request, _ in try await exec(request); return Empty() }
        router.register(ShimAPI.shutdown) { [self] _, _ in try shutdown(); return Empty() }
        router.register(ShimAPI.stats) { [self] _, _ in
            ShimStatsResponse(stats: try AnyJSON(encoding: try cgroup().stats()))
        }
        router.register(ShimAPI.update) { [self] request, _ in
            guard processStatus(nil) != "stopped" else { throw BerthError.failedPrecondition("task \(id) is not running") }
            try cgroup().apply(request.resources)
            return Empty()
        }
        // These two may wait for a copier's write into a pipe or pty nobody reads.
        router.register(ShimAPI.closeIO) { [self] request, _ in
            if request.stdin {
                let io = try io(request.execID)
                try await runBlocking { try io.closeStdin() }
            }
            return Empty()
        }
        router.register(ShimAPI.resizePty) { [self] request, _ in
            let io = try io(request.execID)
            try await runBlocking { try io.resize(width: request.width, height: request.height) }
            return Empty()
        }
        router.register(ShimAPI.subscribe, onEventLoop: true) { [self] request, context in
            guard let connection = context.connection else { throw BerthError.invalidArgument("events.subscribe needs a connection") }
            return ShimSubscribeResponse(lastSeq: events.subscribe(connection, afterSeq: request.afterSeq))
        }
    }

    // MARK: init process

    func create(_ request: ShimCreateRequest) async throws -> ShimPidResponse {
        try state.withLock { s in
            if s.initProcess != nil { throw BerthError.alreadyExists("task \(id) already exists") }
            s.initProcess = Process(status: "creating")
        }
        let pidFile = bootstrap.bundle + "/init.pid"
        let io: ProcessIO
        do {
            io = try ProcessIO(request.stdio, consoleSocketPath: bootstrap.bundle + "/console.sock")
            defer { io.closeChildEnds() }
            let console = io.consoleSocketPath.map { ["--console-socket", $0] } ?? []
            try await runner.run(["create", "--bundle", bootstrap.bundle, "--pid-file", pidFile] + console + [id],
                                 stdin: io.child.stdin, stdout: io.child.stdout, stderr: io.child.stderr)
            if io.consoleSocketPath != nil { try await runBlocking { try io.attachConsole() } }
        } catch {
            state.withLock { $0.initProcess = nil }
            throw error
        }
        let pid = try readPid(pidFile)
        state.withLock { $0.initProcess = Process(pid: pid, status: "created", io: io) }
        exitFile.withLock { $0 = try? ExitRecord.Prepared(bundle: bootstrap.bundle) }
        heldNamespaces.withLock { held in
            held = ["mnt", "ipc", "uts", "net"].compactMap { name in
                let fd = open("/proc/\(pid)/ns/\(name)", O_RDONLY | O_CLOEXEC)
                return fd >= 0 ? fd : nil
            }
        }
        await watchOOM()
        events.publish("/tasks/create", ShimEventPayload(containerID: id, pid: pid))
        watch(pid: pid, execID: nil)
        return ShimPidResponse(pid: pid)
    }

    func start(_ execID: String?) async throws -> ShimPidResponse {
        if execID != nil { throw BerthError.invalidArgument("exec processes start in task.exec") }
        let pid = try state.withLock { s -> Int32 in
            guard let p = s.initProcess else { throw BerthError.notFound("task \(id) not created") }
            guard p.status == "created" else { throw BerthError.failedPrecondition("task \(id) is \(p.status), not created") }
            s.initProcess?.status = "starting" // the exit, if it comes at once, waits for /tasks/start
            return p.pid
        }
        do {
            try await runner.run(["start", id])
        } catch {
            state.withLock { s in if s.initProcess?.status == "starting" { s.initProcess?.status = "created" } }
            throw error
        }
        events.publish("/tasks/start", ShimEventPayload(containerID: id, pid: pid))
        state.withLock { s in if s.initProcess?.status == "starting" { s.initProcess?.status = "running" } }
        return ShimPidResponse(pid: pid)
    }

    /// Follows `pid` until it exits; records and announces the exit exactly once. The
    /// record, the exit file and the event are made on the reaper's thread as it reaps.
    private func watch(pid: Int32, execID: String?) {
        reaper.onExit(of: pid) { [self] status in
            let record = ExitRecord(pid: pid, exitStatus: exitCode(fromWaitStatus: status), exitedAt: Timestamp.now())
            guard execID == nil else { return finish(record, execID: execID) }
            // An OOM kill is announced before the exit it caused.
            checkOOM()
            // create → start → exit: an init that exits during `start` waits for /tasks/start.
            guard state.withLock({ $0.initProcess?.status == "starting" }) else { return finish(record, execID: nil) }
            Task { [self] in
                while state.withLock({ $0.initProcess?.status == "starting" }) {
                    try? await Task.sleep(for: .milliseconds(1))
                }
                finish(record, execID: nil)
            }
        }
    }

    private func finish(_ record: ExitRecord, execID: String?) {
        if execID == nil {
            oomChannel.withLock { $0 }?.close(promise: nil)
            if let prepared = exitFile.withLock({ f in defer { f = nil }; return f }) {
                try? prepared.commit(record)
            } else {
                try? record.write(to: bootstrap.bundle)
            }
        }
        let waiters = state.withLock { s -> [CheckedContinuation<ExitRecord, Never>] in
            if let execID {
                s.execs[execID]?.status = "stopped"
                s.execs[execID]?.exit = record
                defer { s.execs[execID]?.waiters = [] }
                return s.execs[execID]?.waiters ?? []
            }
            s.initProcess?.status = "stopped"
            s.initProcess?.exit = record
            defer { s.initProcess?.waiters = [] }
            return s.initProcess?.waiters ?? []
        }
        events.publish("/tasks/exit", ShimEventPayload(containerID: id, execID: execID, pid: record.pid,
                                                       exitStatus: record.exitStatus, exitedAt: record.exitedAt))
        if execID == nil {
            heldNamespaces.withLock { held in
                held.forEach { close($0) }
                held = []
            }
        }
        waiters.forEach { $0.resume(returning: record) }
    }

    func processState(_ execID: String?) throws -> ShimProcessState {
        try state.withLock { s in
            guard let p = execID.map({ s.execs[$0] }) ?? s.initProcess else {
                throw BerthError.notFound(execID.map { "exec \($0) not found" } ?? "task \(id) not created")
            }
            return ShimProcessState(id: id, execID: execID, pid: p.pid, status: p.status,
                                    exitStatus: p.exit?.exitStatus, exitedAt: p.exit?.exitedAt)
        }
    }

    func wait(_ execID: String?) async throws -> ShimExitResponse {
        _ = try processState(execID) // NotFound for an unknown process
        let record = await withCheckedContinuation { (c: CheckedContinuation<ExitRecord, Never>) in
            // nil: registered as a waiter; .some: already exited (or vanished meanwhile).
            let ready = state.withLock { s -> ExitRecord? in
                if let execID {
                    guard s.execs[execID] != nil else { return ExitRecord(pid: 0, exitStatus: 255, exitedAt: Timestamp.now()) }
                    if let exit = s.execs[execID]!.exit { return exit }
                    s.execs[execID]!.waiters.append(c)
                    return nil
                }
                guard s.initProcess != nil else { return ExitRecord(pid: 0, exitStatus: 255, exitedAt: Timestamp.now()) }
                if let exit = s.initProcess!.exit { return exit }
                s.initProcess!.waiters.append(c)
                return nil
            }
            if let ready { c.resume(returning: ready) }
        }
        return ShimExitResponse(pid: record.pid, exitStatus: record.exitStatus, exitedAt: record.exitedAt)
    }

    func kill(_ request: ShimKillRequest) async throws {
        if let execID = request.execID {
            let pid = try state.withLock { s -> Int32 in
                guard let p = s.execs[execID], p.status == "running" else { throw BerthError.notFound("exec \(execID) is not running") }
                return p.pid
            }
            guard Glibc.kill(pid, request.signal) == 0 else { throw BerthError.failedPrecondition("kill exec \(execID): errno \(errno)") }
            return
        }
        let state = try processState(nil)
        guard state.status != "stopped" else { throw BerthError.notFound("task \(id) is not running") }
        // The init is the shim's own (sub)child, reaped only here: until its exit is
        // recorded its pid cannot be reused, so a pidfd signal needs no runtime process.
        if request.all != true, state.status == "running" || state.status == "paused" {
            let pidfd = berth_pidfd_open(state.pid)
            if pidfd >= 0 {
                defer { close(pidfd) }
                if berth_pidfd_send_signal(pidfd, request.signal) == 0 { return }
            }
        }
        try await runner.run(["kill"] + (request.all == true ? ["--all"] : []) + [id, "\(request.signal)"])
    }

    func delete(_ execID: String?) async throws -> ShimExitResponse {
        if let execID {
            let p = try state.withLock { s -> Process in
                guard let p = s.execs[execID] else { throw BerthError.notFound("exec \(execID) not found") }
                guard p.status == "stopped" else { throw BerthError.failedPrecondition("exec \(execID) is \(p.status)") }
                s.execs[execID] = nil
                return p
            }
            return ShimExitResponse(pid: p.pid, exitStatus: p.exit?.exitStatus ?? 255, exitedAt: p.exit?.exitedAt ?? Timestamp.now())
        }
        let p = try state.withLock { s -> Process in
            guard let p = s.initProcess else { throw BerthError.notFound("task \(id) not created") }
            guard p.status == "stopped" || p.status == "created" else {
                throw BerthError.failedPrecondition("task \(id) is \(p.status): kill it before deleting")
            }
            return p
        }
        try await runner.run(["delete", "--force", id])
        // A created task that never ran is stopped by the delete: wait for its exit record.
        var exit = p.exit
        if exit == nil, let waited = try? await wait(nil) {
            exit = ExitRecord(pid: waited.pid, exitStatus: waited.exitStatus, exitedAt: waited.exitedAt)
        }
        state.withLock { $0.initProcess = nil }
        let record = exit ?? ExitRecord(pid: p.pid, exitStatus: 255, exitedAt: Timestamp.now())
        events.publish("/tasks/delete", ShimEventPayload(containerID: id, pid: p.pid, exitStatus: record.exitStatus, exitedAt: record.exitedAt))
        return ShimExitResponse(pid: p.pid, exitStatus: record.exitStatus, exitedAt: record.exitedAt)
    }

    func exec(_ request: ShimExecRequest) async throws {
        try Identifier.validate(request.execID, what: "exec id")
        try state.withLock { s in
            guard s.initProcess?.status == "running" else { throw BerthError.failedPrecondition("task \(id) is not running") }
            if s.execs[request.execID] != nil { throw BerthError.alreadyExists("exec \(request.execID) already exists") }
            s.execs[request.execID] = Process(status: "creating")
        }
        let processFile = bootstrap.bundle + "/exec-\(request.execID).json"
        let io: ProcessIO
        let pidFile = bootstrap.bundle + "/exec-\(request.execID).pid"
        do {
            try FileSystem.writeAtomically(processFile, Array(try JSONEncoder().encode(request.process)), mode: 0o600)
            defer { unlink(processFile) }
            events.publish("/tasks/exec-added", ShimEventPayload(containerID: id, execID: request.execID))
            io = try ProcessIO(request.stdio, consoleSocketPath: bootstrap.bundle + "/console-\(request.execID).sock")
            defer { io.closeChildEnds() }
            let console = io.consoleSocketPath.map { ["--console-socket", $0] } ?? []
            try await runner.run(["exec", "--detach", "--process", processFile, "--pid-file", pidFile] + console + [id],
                                 stdin: io.child.stdin, stdout: io.child.stdout, stderr: io.child.stderr)
            if io.consoleSocketPath != nil { try await runBlocking { try io.attachConsole() } }
        } catch {
            state.withLock { _ = $0.execs.removeValue(forKey: request.execID) }
            throw error
        }
        let pid = try readPid(pidFile)
        unlink(pidFile)
        state.withLock { $0.execs[request.execID] = Process(pid: pid, status: "running", io: io) }
        events.publish("/tasks/exec-started", ShimEventPayload(containerID: id, execID: request.execID, pid: pid))
        watch(pid: pid, execID: request.execID)
    }

    func shutdown() throws {
        let running = state.withLock { s in s.initProcess.map { $0.status != "stopped" } ?? false }
        if running { throw BerthError.failedPrecondition("task \(id) still has processes: delete it first") }
        // The socket's name goes now, before the answer: the next task of the same
        // container gets the same path, and its shim may bind it the moment berthd has
        // this answer. (The connection being served is not affected.)
        unlink(bootstrap.address)
        onShutdown()
    }

    func setInitStatus(_ status: String) {
        state.withLock { $0.initProcess?.status = status }
    }

    func processStatus(_ execID: String?) -> String? {
        state.withLock { s in (execID.map { s.execs[$0] } ?? s.initProcess)?.status }
    }

    private func io(_ execID: String?) throws -> ProcessIO {
        try state.withLock { s in
            guard let io = (execID.map { s.execs[$0] } ?? s.initProcess)?.io else {
                throw BerthError.notFound(execID.map { "exec \($0) not found" } ?? "task \(id) not created")
            }
            return io
        }
    }

    private func readPid(_ path: String) throws -> Int32 {
        let text = String(decoding: try FileSystem.readFile(path, limit: 64), as: UTF8.self)
        guard let pid = Int32(text.filter { $0.isNumber }) else { throw BerthError.internal("malformed pid file \(path)") }
        return pid
    }
}

