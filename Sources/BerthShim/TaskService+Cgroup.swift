import CBerthShim

/// task.stats and task.update: the task's cgroup through `berth-runtime cgroup-stats` and
/// `cgroup-update` (Berth's commands; the v1/v2/hybrid cgroup code stays out of the
/// shim), run like the runtime's other commands, whatever the container's runtime.
extension TaskService {
    /// berth-runtime beside this binary (where berthd finds both; after an upgrade by
    /// rename, the new one), else the task's runtime when that is berth-runtime.
    var cgroupRunner: RuntimeRunner? {
        var binary = Shim.ownPath(resolvingDeleted: true)
        if binary.hasPrefix("/proc/") { binary = "" }
        let beside = binary.isEmpty ? "" : Sys.parentDirectory(binary) + "/berth-runtime"
        let helper = !beside.isEmpty && access(beside, X_OK) == 0 ? beside
            : bootstrap.runtime.hasSuffix("/berth-runtime") ? bootstrap.runtime : nil
        return helper.map { RuntimeRunner(runtime: $0, root: bootstrap.runtimeRoot, logPath: runner.logPath, reaper: reaper) }
    }

    /// What a cgroup call needs: the helper and the task's cgroup path. NotFound before
    /// the task is created, FailedPrecondition while it is being deleted.
    private func cgroupCall() throws(ShimError) -> (RuntimeRunner, String) {
        guard let p = initProcess, p.status != "creating" else { throw ShimError(.notFound, "task " + id + " not created") }
        guard !deletingInit else { throw ShimError(.failedPrecondition, "task " + id + " is being deleted") }
        guard let helper = cgroupRunner else { throw ShimError(.failedPrecondition, "berth-runtime is not beside berth-shim") }
        return (helper, try taskCgroupPath())
    }

    /// The task's cgroup path: config.json's `linux.cgroupsPath` (berth-runtime's default
    /// when absent), read once: it is fixed when the task is created.
    func taskCgroupPath() throws(ShimError) -> String {
        if let path = cachedCgroupPath { return path }
        let path = try cgroupsPath(bundle: bootstrap.bundle) ?? "/berth-runtime/" + id
        cachedCgroupPath = path
        return path
    }

    func stats(_ reply: Reply) throws(ShimError) {
        let (helper, cgroup) = try cgroupCall()
        helper.runPrintingJSON(["cgroup-stats", cgroup], scratch: bootstrap.bundle + "/stats-\(nextScratch()).json") { outcome in
            switch outcome {
            // Internal, as tasks.md has it (the message is the command's).
            case .failure(let error): reply.fail(ShimError(.internal, error.message))
            case .success(let stats): reply.ok(.object([("stats", stats)]))
            }
        }
    }

    func update(_ params: JSON, _ reply: Reply) throws(ShimError) {
        guard let resources = params["resources"], resources.isObject else { throw ShimError.invalidParams("resources is required (an object)") }
        let (helper, cgroup) = try cgroupCall()
        guard initProcess?.status != "stopped" else { throw ShimError(.failedPrecondition, "task " + id + " is not running") }
        let file = bootstrap.bundle + "/resources-\(nextScratch()).json"
        try Sys.writeAtomically(file, resources.bytes)
        helper.run(["cgroup-update", "--resources", file, cgroup]) { error in
            unlink(file)
            // Internal, as tasks.md has it: the kernel refused a value (the message names it).
            if let error { reply.fail(ShimError(.internal, error.message)) } else { reply.ok(.emptyObject) }
        }
    }
}
