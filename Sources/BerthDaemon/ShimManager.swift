#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import BerthAPI
import BerthEvents
import BerthMetadata
import BerthOCI
import BerthSnapshots
import BerthSystem
import CBerthLinux
import Logging
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// berthd's side of the shims: starts one per task, keeps a connection to each, finds
/// them again after a restart (from each bundle's bootstrap.json), and cleans up after
/// shims that died. Every call into a shim has a deadline, so one hung shim only
/// affects its own container.
final class ShimManager: Sendable {
    struct Handle: Sendable {
        let bootstrap: ShimBootstrap
        let client: BerthClient
        let forwarder: ShimEventForwarder
    }

    let config: DaemonConfig
    let logger: Logger
    /// Deadline of every call into a shim (task.wait excepted): `[api] shim_timeout_seconds`.
    let callTimeout: Duration
    private let shims = Mutex<[String: Handle]>([:])
    /// Tasks whose shim died: their last exit, until the task is deleted.
    private let dead = Mutex<[String: ExitRecord]>([:])
    /// Tasks whose dead shim is being cleaned up: no new task for their container, and no
    /// container delete, until the cleanup is done.
    private let cleaning = Mutex<Set<String>>([])

    /// Where the shims' task events are published, in each shim's own order.
    let events: any EventPublisher
    /// The shim the next task adopts instead of starting one (`[tasks] spare_shim`).
    let spare: SpareShim

    init(config: DaemonConfig, logger: Logger, events: any EventPublisher) {
        self.config = config
        self.logger = logger
        self.events = events
        callTimeout = .milliseconds(Int64(config.shimTimeoutSeconds * 1000))
        spare = SpareShim(enabled: config.spareShim, directory: config.state + "/s", timeout: callTimeout, logger: logger)
    }

    /// Starts the spare shim (when enabled): at berthd's start, and after each task that
    /// took the spare or found none.
    func replenishSpare() {
        guard spare.enabled, let shim = Self.binary(named: "berth-shim") else { return }
        spare.replenish(shim: shim)
    }

    /// The exit of a task whose shim died, if it did.
    func deadTask(_ namespace: String, _ id: String) -> ExitRecord? {
        dead.withLock { $0[Self.key(namespace, id)] }
    }

    /// Every task of `namespace` whose shim died, with its exit.
    func deadTasks(namespace: String) -> [(String, ExitRecord)] {
        dead.withLock { map in map.filter { $0.key.hasPrefix(namespace + "/") }.map { (String($0.key.dropFirst(namespace.count + 1)), $0.value) } }
    }

    func forgetDead(_ namespace: String, _ id: String) -> ExitRecord? {
        dead.withLock { $0.removeValue(forKey: Self.key(namespace, id)) }
    }

    /// Watches a shim's connection: when it closes while the task is still ours, the
    /// shim died. Its container is then cleaned up (`berth-shim delete`, the cgroup's
    /// processes killed) and reported stopped with the exit the shim recorded, or 255.
    private func monitor(_ handle: Handle, namespace: String, id: String) {
        let client = handle.client
        let forwarder = handle.forwarder
        Task { [self] in
            // Resume from the last shim event published: what happened while berthd was
            // down is published now, once. The forwarder publishes each event as it is
            // read; this task only waits for the connection to end.
            _ = try? await client.call(ShimAPI.subscribe, ShimSubscribeRequest(afterSeq: forwarder.lastForwarded))
            forwarder.replayDone() // the replay precedes the answer on the connection
            for await _ in client.notifications {}
            let stillOurs = shims.withLock { map -> Bool in
                guard let current = map[Self.key(namespace, id)], current.client === client else { return false }
                cleaning.withLock { _ = $0.insert(Self.key(namespace, id)) } // before the handle goes
                map[Self.key(namespace, id)] = nil
                return true
            }
            guard stillOurs else { return }
            logger.warning("shim died", metadata: ["namespace": "\(namespace)", "container.id": "\(id)"])
            forwarder.close()
            await cleanUpDeadShim(bundle: handle.bootstrap.bundle, namespace: namespace, id: id,
                                  forwarder: forwarder, journalTail: JournalTail(events: events))
        }
    }

    /// Throws `FailedPrecondition` while a dead shim of this container's task is being
    /// cleaned up (tasks.create and containers.delete wait for it).
    func refuseWhileCleaningUp(_ namespace: String, _ id: String) throws {
        if cleaning.withLock({ $0.contains(Self.key(namespace, id)) }) {
            throw BerthError.failedPrecondition("the shim of container \"\(id)\"'s task died and is being cleaned up: try again")
        }
    }

    /// Cleans up after a shim that died and reports its task stopped: with the exit the
    /// shim recorded, or 255. The daemon's stream gets the task's one `/tasks/exit` now,
    /// unless it already has it. The caller has put the task in `cleaning`.
    private func cleanUpDeadShim(bundle: String, namespace: String, id: String,
                                 forwarder: ShimEventForwarder, journalTail: JournalTail) async {
        defer { cleaning.withLock { _ = $0.remove(Self.key(namespace, id)) } }
        // The shim sends the exit's event before it writes exit.json: one that died in
        // between had told berthd, and `berth-shim delete` keeps a recorded exit.
        if ExitRecord.read(from: bundle) == nil, let told = forwarder.initExit { try? told.write(to: bundle) }
        if let shim = Self.binary(named: "berth-shim") {
            _ = try? await runBlocking { try runCapturing([shim, "delete", bundle], input: []) }
        }
        if let path = try? readCgroupsPath(bundle) { killCgroup(path) }
        let exit = ExitRecord.read(from: bundle) ?? ExitRecord(pid: 0, exitStatus: 255, exitedAt: Timestamp.now())
        let publish = forwarder.taskCreated(containerID: id, journalTail: journalTail) && !forwarder.initExitPublished(containerID: id, journalTail: journalTail)
        // Stopped before the exit is out: a client that acts on /tasks/exit finds the task
        // stopped, not gone.
        dead.withLock { $0[Self.key(namespace, id)] = exit }
        if publish, let seq = events.publish(namespace: namespace, topic: EventTopics.tasksExit.name, payload: exit.exitEvent(containerID: id)) {
            // In the journal before the bundle goes: a berthd killed in between finds the
            // bundle again, and the journal tells it the exit is out.
            await withCheckedContinuation { done in events.whenCommitted(through: seq) { _ in done.resume() } }
        }
        try? removeBundle(bundle)
    }

    /// `tasks.delete` of a task whose shim died: forgets it and publishes its
    /// `/tasks/delete`, as the shim would have (nil: no such task).
    func deleteDead(_ namespace: String, _ id: String) -> ExitRecord? {
        guard let exit = forgetDead(namespace, id) else { return nil }
        _ = events.publish(namespace: namespace, topic: EventTopics.tasksDelete.name, payload: exit.deleteEvent(containerID: id))
        return exit
    }

    static func key(_ namespace: String, _ id: String) -> String { namespace + "/" + id }

    var tasksDirectory: String { config.state + "/tasks" }
    func bundle(_ namespace: String, _ id: String) -> String { tasksDirectory + "/\(namespace)/\(id)" }

    /// The executable for a runtime name: the berth binaries sit beside berthd; runc and
    /// crun are looked up on PATH.
    static func binary(named name: String) -> String? {
        let own = FileSystem.parentDirectory(of: selfExecutable())
        if name.hasPrefix("berth"), access(own + "/" + name, X_OK) == 0 { return own + "/" + name }
        let path = getenv("PATH").map { String(cString: $0) } ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
        for dir in path.split(separator: ":") where access("\(dir)/\(name)", X_OK) == 0 { return "\(dir)/\(name)" }
        return nil
    }

    static func runtimeBinary(_ runtime: String) throws -> String {
        let name = Container.Runtime.binary(of: runtime) ?? runtime
        guard let path = binary(named: name) else { throw BerthError.failedPrecondition("runtime \(runtime) (\(name)) is not installed") }
        return path
    }

    /// Starts the shim of a task whose bundle is ready, and connects to it.
    func launch(namespace: String, container: Container, bundle: String) async throws -> Handle {
        guard let shim = Self.binary(named: "berth-shim") else { throw BerthError.failedPrecondition("berth-shim is not installed beside berthd") }
        let bootstrap = ShimBootstrap(
            id: container.id, namespace: namespace, bundle: bundle, runtime: try Self.runtimeBinary(container.runtime.name),
            runtimeRoot: config.state + "/runtime/\(container.runtime.name)/\(namespace)",
            address: ShimBootstrap.socketPath(directory: config.state + "/s", namespace: namespace, id: container.id),
            oomScoreAdj: Self.ownOOMScoreAdj().map { min($0 + 1, 1000) })
        let started: ShimStarted
        if let adopted = await spare.adopt(bootstrap) {
            started = adopted
        } else {
            let input = try WireJSON.encode(bootstrap)
            let output = try await runBlocking { try runCapturing([shim, "start"], input: input) }
            guard let launched = try? WireJSON.decode(ShimStarted.self, from: output) else {
                throw BerthError.internal("berth-shim start: unexpected output \(String(decoding: output, as: UTF8.self))")
            }
            started = launched
        }
        // A new shim numbers its events from 1: whatever events.seq an earlier task of
        // this container left does not apply.
        let forwarder = ShimEventForwarder(namespace: namespace, bundle: bundle, events: events, logger: logger, fresh: true)
        let client = try await BerthClient.connect(to: started.address, timeout: callTimeout, onNotification: forwarder.receive)
        let handle = Handle(bootstrap: bootstrap, client: client, forwarder: forwarder)
        shims.withLock { $0[Self.key(namespace, container.id)] = handle }
        _ = forgetDead(namespace, container.id)
        monitor(handle, namespace: namespace, id: container.id)
        return handle
    }

    func handle(_ namespace: String, _ id: String) throws -> Handle {
        guard let handle = shims.withLock({ $0[Self.key(namespace, id)] }) else {
            throw BerthError.notFound("no task for container \"\(id)\" in namespace \"\(namespace)\"")
        }
        return handle
    }

    func all(namespace: String) -> [(String, Handle)] {
        shims.withLock { map in map.filter { $0.key.hasPrefix(namespace + "/") }.map { (String($0.key.dropFirst(namespace.count + 1)), $0.value) } }
    }

    /// Forgets a task's shim after asking it to exit, and removes its bundle.
    func remove(_ namespace: String, _ id: String) async {
        _ = forgetDead(namespace, id)
        guard let handle = shims.withLock({ $0.removeValue(forKey: Self.key(namespace, id)) }) else { return }
        _ = try? await handle.client.call(ShimAPI.shutdown, Empty(), timeout: .seconds(2))
        handle.client.close()
        handle.forwarder.close() // no late events.seq write into a removed (or a new) bundle
        _ = try? removeBundle(handle.bootstrap.bundle)
    }

    /// After a restart: reconnects to every live shim found in the bundles, in the
    /// background; a shim that is gone is cleaned up with `berth-shim delete`, which
    /// records exit 255 when the shim never recorded one.
    func reconnectAll() async {
        let journalTail = JournalTail(events: events)
        var preloading = false
        for namespace in listDirectory(tasksDirectory) {
            for id in listDirectory(tasksDirectory + "/" + namespace) {
                let bundle = bundle(namespace, id)
                guard let bootstrap = try? ShimBootstrap.read(from: bundle) else { continue }
                if !preloading {
                    journalTail.preload() // in the background: reconnecting does not wait for it
                    preloading = true
                }
                do {
                    let forwarder = ShimEventForwarder(namespace: namespace, bundle: bundle, events: events, logger: logger, fresh: false,
                                                       journalTail: journalTail)
                    let client = try await BerthClient.connect(to: bootstrap.address, timeout: callTimeout, onNotification: forwarder.receive)
                    _ = try await client.call(ShimAPI.connect, Empty())
                    let handle = Handle(bootstrap: bootstrap, client: client, forwarder: forwarder)
                    shims.withLock { $0[Self.key(namespace, id)] = handle }
                    monitor(handle, namespace: namespace, id: id)
                    logger.info("reconnected to shim", metadata: ["namespace": "\(namespace)", "container.id": "\(id)"])
                } catch {
                    logger.warning("shim is gone; cleaning up", metadata: ["namespace": "\(namespace)", "container.id": "\(id)", "error": "\(error)"])
                    cleaning.withLock { _ = $0.insert(Self.key(namespace, id)) }
                    shims.withLock { $0[Self.key(namespace, id)] = nil }
                    let forwarder = ShimEventForwarder(namespace: namespace, bundle: bundle, events: events, logger: logger, fresh: false)
                    await cleanUpDeadShim(bundle: bundle, namespace: namespace, id: id, forwarder: forwarder, journalTail: journalTail)
                }
            }
        }
    }

    func readCgroupsPath(_ bundle: String) throws -> String? {
        try WireJSON.decode(Spec.CgroupsPathOnly.self, from: try FileSystem.readFile(bundle + "/config.json", limit: 64 << 20)).cgroupsPath
    }

    static func ownOOMScoreAdj() -> Int? {
        guard let bytes = try? FileSystem.readFile("/proc/self/oom_score_adj", limit: 64) else { return nil }
        return Int(String(decoding: bytes, as: UTF8.self).filter { $0 == "-" || $0.isNumber })
    }
}

/// Kills every process of a cgroup path in each v1 hierarchy (or v2), best effort.
func killCgroup(_ path: String) {
    for base in ["/sys/fs/cgroup/pids", "/sys/fs/cgroup/memory", "/sys/fs/cgroup/unified", "/sys/fs/cgroup"] {
        guard let bytes = try? FileSystem.readFile(base + path + "/cgroup.procs", limit: 1 << 20) else { continue }
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            if let pid = Int32(line) { kill(pid, SIGKILL) }
        }
    }
}

func selfExecutable() -> String {
    var buffer = [CChar](repeating: 0, count: 4096)
    let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
    return n > 0 ? String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) : "/usr/local/bin/berthd"
}

func listDirectory(_ path: String) -> [String] {
    ((try? FileSystem.entries(path)) ?? []).sorted()
}

/// Removes a task's bundle: its root file system mount (a snapshot) first, and never
/// anything below a mount point, so a mount that would not go keeps its files. The
/// mount table is read once, not at every directory.
func removeBundle(_ bundle: String) throws {
    let rootfs = bundle + "/rootfs"
    if Mounting.isMountPoint(rootfs) {
        do { try MountExecutor.unmount(rootfs) } catch { try Mounting.unmount(rootfs, detach: true) }
    }
    try removeDirectory(bundle, sparing: Set(Mounting.mountPoints(under: bundle)))
}

/// Removes `path` and everything below it; a directory in `sparing` (a mount point)
/// stops the removal with EBUSY.
func removeDirectory(_ path: String, sparing mountPoints: Set<String> = []) throws {
    if FileSystem.fileType(path) == S_IFDIR {
        if mountPoints.contains(path) { throw SystemError(errno: EBUSY, stage: "remove \(path): still a mount point") }
        for name in listDirectory(path) { try removeDirectory(path + "/" + name, sparing: mountPoints) }
        if rmdir(path) != 0 && errno != ENOENT { throw SystemError(errno: errno, stage: "rmdir \(path)") }
    } else if unlink(path) != 0 && errno != ENOENT {
        throw SystemError(errno: errno, stage: "unlink \(path)")
    }
}

/// Runs a command with `input` on its stdin and returns its stdout; non-zero exit throws
/// with its stderr.
func runCapturing(_ argv: [String], input: [UInt8]) throws -> [UInt8] {
    var inPipe: [Int32] = [0, 0], outPipe: [Int32] = [0, 0], errPipe: [Int32] = [0, 0]
    guard pipe(&inPipe) == 0, pipe(&outPipe) == 0, pipe(&errPipe) == 0 else { throw SystemError(errno: errno, stage: "pipe") }
    for fd in inPipe + outPipe + errPipe { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
    let pid: pid_t
    do {
        pid = try spawnProcess(argv[0], argv, SpawnOptions(stdin: inPipe[0], stdout: outPipe[1], stderr: errPipe[1]))
    } catch {
        for fd in inPipe + outPipe + errPipe { close(fd) }
        throw error
    }
    close(inPipe[0]); close(outPipe[1]); close(errPipe[1])
    _ = input.withUnsafeBytes { write(inPipe[1], $0.baseAddress, $0.count) }
    close(inPipe[1])
    func drain(_ fd: Int32) -> [UInt8] {
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            out += chunk[0..<n]
        }
        close(fd)
        return out
    }
    let stdout = drain(outPipe[0])
    let stderr = drain(errPipe[0])
    let status = waitForChild(pid)
    guard status == 0 else {
        throw BerthError.internal("\(argv.joined(separator: " ")) failed: \(String(decoding: stderr, as: UTF8.self).split(separator: "\n").joined(separator: "; "))")
    }
    return stdout
}

extension ExitRecord {
    /// The init's `/tasks/exit` and `/tasks/delete` payloads for this exit.
    func exitEvent(containerID: String) -> TaskExitEvent {
        TaskExitEvent(containerID: containerID, id: containerID, pid: UInt32(clamping: pid),
                      exitStatus: UInt32(clamping: exitStatus), exitedAt: exitedAt)
    }

    func deleteEvent(containerID: String) -> TaskDeleteEvent {
        TaskDeleteEvent(containerID: containerID, id: containerID, pid: UInt32(clamping: pid),
                        exitStatus: UInt32(clamping: exitStatus), exitedAt: exitedAt)
    }
}
