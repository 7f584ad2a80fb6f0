import CBerthRuntime
import CBerthShim

/// The shim's `task.*` service: one container's init and its exec'd processes.
///
/// Everything runs on the loop, so the state needs no lock. Every process is watched
/// from the moment its pid is known (`Reaper.onExit` gets a status that arrived early),
/// so no exit is lost. The init's exit is written to `<bundle>/exit.json` right after the
/// `/tasks/exit` event is sent, before any `task.wait` is answered.
final class TaskService {
    struct Process {
        var pid: Int32 = 0
        var status = "created"
        var exit: ExitRecord?
        var waiters: [(ExitRecord) -> Void] = []
        var io: ProcessIO?
    }

    let bootstrap: Bootstrap
    let runner: RuntimeRunner
    let reaper: Reaper
    let events = EventLog()
    var initProcess: Process?
    var execs: [String: Process] = [:]
    /// Numbers the scratch files of calls in flight (stats output, update input).
    private var scratchCounter = 0
    func nextScratch() -> Int {
        scratchCounter += 1
        return scratchCounter
    }
    /// A `task.delete` of the init is under way (the runtime's delete, the output's drain).
    var deletingInit = false
    /// The init's exit when it came while `start` ran: published after /tasks/start.
    var pendingInitExit: ExitRecord?
    /// OOM kills already announced (the cgroup's counter), so each is published once.
    var oomKillsSeen: UInt64 = 0
    var oomDescriptor: Int32 = -1
    var memoryCgroup: MemoryCgroup?
    /// config.json's cgroup path, once read (`taskCgroupPath`).
    var cachedCgroupPath: String?
    /// The init's mount, IPC, UTS and network namespaces, held from create until its exit
    /// is out: the init's last reference then does not tear them down inside its exit
    /// (~0.25 ms here); the shim lets go of them a second later, or at the delete
    /// (`releaseNamespaces`).
    var heldNamespaces: [Int32] = []
    /// Counts the inits whose namespaces were held: a release timer of an earlier init
    /// leaves a later one's alone.
    var namespaceHolds: UInt64 = 0
    var exitFile: PreparedExitFile?
    let loop: EventLoop
    /// Set by `task.shutdown`: the shim exits once its answers are written.
    private(set) var shuttingDown = false

    init(bootstrap: Bootstrap, loop: EventLoop, reaper: Reaper) {
        self.bootstrap = bootstrap
        self.loop = loop
        self.reaper = reaper
        runner = RuntimeRunner(runtime: bootstrap.runtime, root: bootstrap.runtimeRoot,
                               logPath: bootstrap.bundle + "/runtime.log", reaper: reaper)
    }

    var id: String { bootstrap.id }

    func handle(_ request: Request) {
        let params = request.params
        let reply = request.reply
        do throws(ShimError) {
            switch request.method {
            case "task.connect":
                reply.ok(.object([("shimPid", .int(getpid())), ("taskPid", .int(initProcess?.pid ?? 0)), ("version", .string("0.1.0"))]))
            case "task.create": try create(try Stdio(params["stdio"]), reply)
            case "task.start": try start(try params.optionalString("execID"), reply)
            case "task.state": reply.ok(try processState(try params.optionalString("execID")))
            case "task.kill": try kill(params, reply)
            case "task.delete": try delete(try params.optionalString("execID"), reply)
            case "task.wait": try wait(try params.optionalString("execID"), reply)
            case "task.pids": pids(reply)
            case "task.pause": pauseResume(pause: true, reply)
            case "task.resume": pauseResume(pause: false, reply)
            case "task.exec": try exec(params, reply)
            case "task.shutdown": try shutdown(reply)
            case "task.stats": try stats(reply)
            case "task.update": try update(params, reply)
            case "task.closeIO":
                if try params.optionalBool("stdin") == true { try io(try params.optionalString("execID")).closeStdin() }
                reply.ok(.emptyObject)
            case "task.resizePty":
                let io = try io(try params.optionalString("execID"))
                try io.resize(width: try params.requiredInt("width"), height: try params.requiredInt("height"))
                reply.ok(.emptyObject)
            case "events.subscribe":
                guard let after = params["afterSeq"]?.int, after >= 0 else { throw ShimError.invalidParams("afterSeq is required (an integer)") }
                guard let connection = reply.connection else { return }
                let last = events.subscribe(connection, afterSeq: UInt64(after))
                reply.ok(.object([("lastSeq", .int(last))]))
            default:
                throw ShimError(.notImplemented, "method " + request.method + " not found", code: ShimError.methodNotFound)
            }
        } catch {
            reply.fail(error)
        }
    }

    // MARK: init process

    private func create(_ stdio: Stdio, _ reply: Reply) throws(ShimError) {
        if initProcess != nil { throw ShimError(.alreadyExists, "task " + id + " already exists") }
        initProcess = Process(status: "creating")
        let bundle = bootstrap.bundle
        let pidFile = bundle + "/init.pid"
        let io: ProcessIO
        do throws(ShimError) {
            io = try ProcessIO(stdio, consoleSocketPath: bundle + "/console.sock", loop: loop)
        } catch {
            initProcess = nil
            throw error
        }
        let console = io.consoleSocketPath.map { ["--console-socket", $0] } ?? []
        runner.run(["create", "--bundle", bundle, "--pid-file", pidFile] + console + [id],
                   stdin: io.child.stdin, stdout: io.child.stdout, stderr: io.child.stderr) { [self] error in
            // A container the runtime created but the shim cannot take (no console, no pid)
            // is deleted again, so that a retried create starts afresh.
            let undo = { [self] in runner.run(["delete", "--force", id]) { _ in } }
            afterRuntime(io, pidFile: pidFile, error, undo: undo) { [self] outcome in
                let waiters = initProcess?.waiters ?? [] // task.wait calls made during the create
                let pid: Int32
                switch outcome {
                case .failure(let error):
                    initProcess = nil
                    for waiter in waiters { waiter(ExitRecord(pid: 0, exitStatus: 255, exitedAt: timestampNow())) }
                    return reply.fail(error)
                case .success(let p):
                    pid = p
                }
                initProcess = Process(pid: pid, status: "created", waiters: waiters, io: io)
                createdInit(pid: pid, bundle: bundle, reply)
            }
        }
    }

    /// Answers first: the rest (~0.5 ms of opens and reads here) overlaps with berthd
    /// answering its client. Nothing is lost by the order: the loop takes the next call
    /// (a start, a kill) and reaps an exit only once this returns, and /tasks/create is
    /// still sent before any event that follows it.
    private func createdInit(pid: Int32, bundle: String, _ reply: Reply) {
        reply.ok(.object([("pid", .int(pid))]))
        watch(pid: pid, execID: nil)
        exitFile = try? PreparedExitFile(bundle: bundle)
        namespaceHolds += 1 // an earlier init's release timer leaves these alone
        heldNamespaces = ["mnt", "ipc", "uts", "net"].compactMap { name in
            let fd = berth_shim_open("/proc/\(pid)/ns/" + name, O_RDONLY | O_CLOEXEC, 0)
            return fd >= 0 ? fd : nil
        }
        watchOOM()
        events.publish("/tasks/create", eventPayload(containerID: id, pid: pid))
    }

    /// After the runtime's create or exec: its error, or the console it sent (when one
    /// was asked for; watched on the loop, 5 s at most), then the pid it wrote.
    /// `undo` runs when the runtime succeeded and a later step failed (the process exists).
    func afterRuntime(_ io: ProcessIO, pidFile: String, _ error: ShimError?, undo: @escaping () -> Void,
                      _ done: @escaping (Result<Int32, ShimError>) -> Void) {
        io.closeChildEnds()
        if let error {
            io.abandon()
            return done(.failure(error))
        }
        io.attachConsole { error in
            do throws(ShimError) {
                if let error { throw error }
                done(.success(try Sys.readNumber(pidFile)))
            } catch {
                io.abandon()
                undo()
                done(.failure(error))
            }
        }
    }

    private func start(_ execID: String?, _ reply: Reply) throws(ShimError) {
        if execID != nil { throw ShimError(.invalidArgument, "exec processes start in task.exec") }
        guard let p = initProcess else { throw ShimError(.notFound, "task " + id + " not created") }
        guard p.status == "created" else { throw ShimError(.failedPrecondition, "task " + id + " is " + p.status + ", not created") }
        guard !deletingInit else { throw ShimError(.failedPrecondition, "task " + id + " is being deleted") }
        initProcess?.status = "starting" // the exit, if it comes at once, waits for /tasks/start
        runner.run(["start", id]) { [self] error in
            if let error {
                if initProcess?.status == "starting" { initProcess?.status = "created" }
                reply.fail(error)
            } else {
                events.publish("/tasks/start", eventPayload(containerID: id, pid: p.pid))
                if initProcess?.status == "starting" { initProcess?.status = "running" }
                reply.ok(.object([("pid", .int(p.pid))]))
            }
            if let pending = pendingInitExit {
                pendingInitExit = nil
                finish(pending, execID: nil)
            }
        }
    }

    /// Follows `pid` until it exits; records and announces the exit exactly once, as it
    /// is reaped.
    func watch(pid: Int32, execID: String?) {
        reaper.onExit(of: pid) { [self] status in
            let record = ExitRecord(pid: pid, exitStatus: exitCode(fromWaitStatus: status), exitedAt: timestampNow())
            guard execID == nil else { return finish(record, execID: execID) }
            checkOOM() // an OOM kill is announced before the exit it caused
            // create → start → exit: an init that exits during `start` waits for /tasks/start.
            if initProcess?.status == "starting" {
                pendingInitExit = record
            } else {
                finish(record, execID: nil)
            }
        }
    }

    private func finish(_ record: ExitRecord, execID: String?) {
        var waiters: [(ExitRecord) -> Void] = []
        if let execID {
            execs[execID]?.status = "stopped"
            execs[execID]?.exit = record
            waiters = execs[execID]?.waiters ?? []
            execs[execID]?.waiters = []
        } else {
            initProcess?.status = "stopped"
            initProcess?.exit = record
            waiters = initProcess?.waiters ?? []
            initProcess?.waiters = []
        }
        // The event first: exit.json's write and rename can wait on the file system's
        // journal (~10% of exits here, 0.15–0.67 ms, once 4.6 ms, where berthd's journal shares it); a
        // shim that dies in between has told berthd, which keeps that exit (tasks.md).
        events.publish("/tasks/exit", eventPayload(containerID: id, execID: execID, pid: record.pid,
                                                   exitStatus: record.exitStatus, exitedAt: record.exitedAt))
        if execID == nil {
            // berthd, woken by the event, is usually queued on this CPU (the kernel puts
            // a thread woken through a socket beside its waker): it reads the event now,
            // and exit.json is written after, instead of before (~0.1 ms at the median).
            sched_yield()
            if let file = exitFile {
                exitFile = nil
                do { try file.commit(record) } catch { try? record.write(to: bootstrap.bundle) }
            } else {
                try? record.write(to: bootstrap.bundle)
            }
        }
        for waiter in waiters { waiter(record) }
        if execID == nil {
            // After the event: closing the cgroup event's descriptor queues the kernel's
            // unregistration on a kworker, whose wake-up could hand this CPU to another
            // runnable task before the exit is on its way.
            stopWatchingOOM()
            let hold = namespaceHolds
            loop.after(milliseconds: Self.namespaceReleaseDelayMs) { [self] in
                if namespaceHolds == hold { releaseNamespaces() }
            }
        }
    }

    /// How long after the init's exit the shim lets go of its namespaces, unless a
    /// delete comes first.
    static let namespaceReleaseDelayMs: Int64 = 1000

    /// Lets go of the init's namespaces: the kernel tears them down now (unmounts, the
    /// network namespace's cleanup, expedited RCU grace periods: ~0.5–1 ms of both CPUs'
    /// time here), not while the exit travels to berthd and its subscribers.
    func releaseNamespaces() {
        for fd in heldNamespaces { _ = close(fd) }
        heldNamespaces = []
    }

    func process(_ execID: String?) throws(ShimError) -> Process {
        if let execID {
            guard let p = execs[execID] else { throw ShimError(.notFound, "exec " + execID + " not found") }
            return p
        }
        guard let p = initProcess else { throw ShimError(.notFound, "task " + id + " not created") }
        return p
    }

    private func processState(_ execID: String?) throws(ShimError) -> JSON {
        let p = try process(execID)
        var members: [(String, JSON)] = []
        if let execID { members.append(("execID", .string(execID))) }
        if let exit = p.exit { members += [("exitStatus", .int(exit.exitStatus)), ("exitedAt", .string(exit.exitedAt))] }
        members += [("id", .string(id)), ("pid", .int(p.pid)), ("status", .string(p.status))]
        return .object(members)
    }

    private func io(_ execID: String?) throws(ShimError) -> ProcessIO {
        guard let io = try process(execID).io else {
            throw ShimError(.notFound, execID.map { "exec " + $0 + " not found" } ?? "task " + id + " not created")
        }
        return io
    }

    private func shutdown(_ reply: Reply) throws(ShimError) {
        if let p = initProcess, p.status != "stopped" {
            throw ShimError(.failedPrecondition, "task " + id + " still has processes: delete it first")
        }
        // The socket's name goes now, before the answer: the next task of the same
        // container gets the same path, and its shim may bind it the moment berthd has
        // this answer. (The connection being served is not affected.)
        unlink(bootstrap.address)
        reply.ok(.emptyObject)
        shuttingDown = true
    }
}
