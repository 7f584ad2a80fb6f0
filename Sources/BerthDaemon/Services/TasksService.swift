#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import BerthAPI
import BerthMetadata
import BerthOCI
import BerthRPC
import BerthSnapshots
import BerthSystem
#if canImport(Glibc)
import Glibc
#endif

/// `tasks.*`: a container's running process, through its shim. The daemon writes the
/// bundle (config.json from the container's spec), starts the shim, and forwards each
/// call with a deadline.
struct TasksService: Sendable {
    let containers: ContainerStore
    let shims: ShimManager
    let seccompProfile: Spec.Seccomp?
    let snapshotters: SnapshotterTable

    func register(_ router: inout Router) {
        router.register(API.tasksCreate) { params, _ in try await create(params) }
        router.register(API.tasksStart) { params, _ in
            let shim = try shims.handle(params.namespace ?? "default", params.containerID)
            return TaskPidResponse(pid: try await shim.client.call(ShimAPI.start, ShimProcessRequest(execID: params.execID)).pid)
        }
        router.register(API.tasksGet) { params, _ in
            TaskResponse(task: try await info(params.namespace ?? "default", params.containerID, execID: params.execID))
        }
        router.register(API.tasksList) { params, _ in
            let namespace = params.namespace ?? "default"
            let tasks = await withTaskGroup(of: TaskInfo.self) { group in
                // A status overview: a hung shim costs the list at most 2 s, not the full deadline.
                for (id, _) in shims.all(namespace: namespace) {
                    group.addTask {
                        (try? await info(namespace, id, execID: nil, timeout: min(shims.callTimeout, .seconds(2))))
                            ?? TaskInfo(id: id, pid: 0, status: "unknown")
                    }
                }
                return await group.reduce(into: [TaskInfo]()) { $0.append($1) }
            } + shims.deadTasks(namespace: namespace).map { id, exit in
                TaskInfo(id: id, pid: exit.pid, status: "stopped", exitStatus: exit.exitStatus, exitedAt: exit.exitedAt)
            }
            return ListTasksResponse(tasks: tasks.sorted { $0.id < $1.id })
        }
        // Signals reach the container one thread hop sooner (issue 7's kill → exit latency).
        router.register(API.tasksKill, onEventLoop: true) { params, _ in
            let shim = try shims.handle(params.namespace ?? "default", params.containerID)
            try await shim.client.quickCall(ShimAPI.kill, ShimKillRequest(execID: params.execID, signal: params.signal, all: params.all))
            return Empty()
        }
        router.register(API.tasksDelete) { params, _ in
            let namespace = params.namespace ?? "default"
            if params.execID == nil, let exit = shims.deleteDead(namespace, params.containerID) {
                return TaskExitResponse(pid: exit.pid, exitStatus: exit.exitStatus, exitedAt: exit.exitedAt)
            }
            let shim = try shims.handle(namespace, params.containerID)
            let exit = try await shim.client.call(ShimAPI.delete, ShimProcessRequest(execID: params.execID))
            if params.execID == nil { await shims.remove(namespace, params.containerID) }
            return TaskExitResponse(pid: exit.pid, exitStatus: exit.exitStatus, exitedAt: exit.exitedAt)
        }
        router.register(API.tasksWait) { params, _ in
            if params.execID == nil, let exit = shims.deadTask(params.namespace ?? "default", params.containerID) {
                return TaskExitResponse(pid: exit.pid, exitStatus: exit.exitStatus, exitedAt: exit.exitedAt)
            }
            let shim = try shims.handle(params.namespace ?? "default", params.containerID)
            // No deadline: a wait lasts as long as the process.
            let exit = try await shim.client.call(ShimAPI.wait, ShimProcessRequest(execID: params.execID), timeout: .seconds(365 * 86400))
            return TaskExitResponse(pid: exit.pid, exitStatus: exit.exitStatus, exitedAt: exit.exitedAt)
        }
        router.register(API.tasksPids) { params, _ in
            let shim = try shims.handle(params.namespace ?? "default", params.containerID)
            return TaskPidsResponse(pids: try await shim.client.call(ShimAPI.pids, ShimProcessRequest()).pids)
        }
        router.register(API.tasksPause) { params, _ in
            try await shims.handle(params.namespace ?? "default", params.containerID).client.call(ShimAPI.pause, ShimProcessRequest())
            return Empty()
        }
        router.register(API.tasksResume) { params, _ in
            try await shims.handle(params.namespace ?? "default", params.containerID).client.call(ShimAPI.resume, ShimProcessRequest())
            return Empty()
        }
        router.register(API.tasksMetrics) { params, _ in
            let shim = try shims.handle(params.namespace ?? "default", params.containerID)
            return TaskMetricsResponse(id: params.containerID, metrics: try await shim.client.call(ShimAPI.stats, ShimProcessRequest()).stats)
        }
        router.register(API.tasksUpdate) { params, _ in
            let shim = try shims.handle(params.namespace ?? "default", params.containerID)
            try await shim.client.call(ShimAPI.update, ShimUpdateRequest(resources: params.resources))
            return Empty()
        }
        router.register(API.tasksCloseIO) { params, _ in
            let shim = try shims.handle(params.namespace ?? "default", params.containerID)
            try await shim.client.call(ShimAPI.closeIO, ShimCloseIORequest(execID: params.execID, stdin: params.stdin))
            return Empty()
        }
        router.register(API.tasksResizePty) { params, _ in
            let shim = try shims.handle(params.namespace ?? "default", params.containerID)
            try await shim.client.call(ShimAPI.resizePty, ShimResizeRequest(execID: params.execID, width: params.width, height: params.height))
            return Empty()
        }
        router.register(API.tasksExec) { params, _ in
            // The init's events carry the container's id as `id`: an exec of that id
            // would make its exit look like the task's.
            guard params.execID != params.containerID else {
                throw BerthError(.invalidArgument, "execID \"\(params.execID)\" must differ from the container's id", field: "params.execID")
            }
            let shim = try shims.handle(params.namespace ?? "default", params.containerID)
            try await shim.client.call(ShimAPI.exec, ShimExecRequest(execID: params.execID, process: params.process, stdio: stdio(params.io)))
            return Empty()
        }
    }

    func info(_ namespace: String, _ id: String, execID: String?, timeout: Duration? = nil) async throws -> TaskInfo {
        if execID == nil, let exit = shims.deadTask(namespace, id) {
            return TaskInfo(id: id, pid: exit.pid, status: "stopped", exitStatus: exit.exitStatus, exitedAt: exit.exitedAt)
        }
        let shim = try shims.handle(namespace, id)
        return try await shim.client.call(ShimAPI.state, ShimProcessRequest(execID: execID), timeout: timeout)
    }

    func stdio(_ io: TaskIO?) -> ShimStdio {
        ShimStdio(stdin: io?.stdin, stdout: io?.stdout, stderr: io?.stderr, logPath: io?.logPath, terminal: io?.terminal)
    }

    func create(_ params: CreateTaskRequest) async throws -> TaskPidResponse {
        let namespace = params.namespace ?? "default"
        let container = try containers.get(namespace: namespace, id: params.containerID)
        if (try? shims.handle(namespace, container.id)) != nil {
            throw BerthError.alreadyExists("container \"\(container.id)\" already has a task")
        }
        try shims.refuseWhileCleaningUp(namespace, container.id)
        if let rootfs = params.rootfs {
            guard rootfs.hasPrefix("/"), FileSystem.fileType(rootfs) == S_IFDIR else {
                throw BerthError.invalidArgument("rootfs \"\(rootfs)\" must be an absolute path to a directory")
            }
        } else if container.snapshotKey == nil {
            throw BerthError.invalidArgument("tasks.create needs a rootfs directory, or a container with a snapshotKey")
        }
        let bundle = shims.bundle(namespace, container.id)
        try FileSystem.makeDirectory(bundle, mode: 0o711)
        do {
            var spec = container.spec
            let rootfs = try params.rootfs ?? mountSnapshot(container, namespace: namespace, bundle: bundle)
            spec.root = Spec.Root(path: rootfs, readonly: spec.root?.readonly)
            if params.rootfs == nil, let user = container.labels[ImageUser.label] {
                spec.process?.user = try ImageUser.resolve(user, rootfs: rootfs)
            }
            if spec.linux?.seccomp == nil, container.labels["io.berth.seccomp"] != "unconfined", let profile = seccompProfile {
                spec.linux?.seccomp = profile
            }
            try FileSystem.writeAtomically(bundle + "/config.json", try WireJSON.encode(spec), mode: 0o600)
            let shim = try await shims.launch(namespace: namespace, container: container, bundle: bundle)
            // The next spare starts once this task's create is done, not beside it.
            defer { shims.replenishSpare() }
            do {
                let created = try await shim.client.call(ShimAPI.create, ShimCreateRequest(stdio: stdio(params.io)))
                return TaskPidResponse(pid: created.pid)
            } catch {
                await shims.remove(namespace, container.id)
                throw error
            }
        } catch {
            try? removeBundle(bundle)
            throw error
        }
    }

    /// Mounts the container's snapshot at `<bundle>/rootfs` (in berthd's mount
    /// namespace; unmounted when the bundle is removed) and returns that path.
    func mountSnapshot(_ container: Container, namespace: String, bundle: String) throws -> String {
        let snapshotter = try snapshotters.get(container.snapshotter)
        let key = container.snapshotKey!
        let mounts: [Mount]
        do { mounts = try snapshotter.mounts(namespace: namespace, key: key) } catch let error as BerthError where error.kind == .notFound {
            throw BerthError.failedPrecondition("container \"\(container.id)\": snapshot \"\(key)\" of \(snapshotter.name) does not exist")
        }
        let target = bundle + "/rootfs"
        try FileSystem.makeDirectory(target, mode: 0o755)
        try MountExecutor.mount(mounts, at: target)
        return target
    }
}
