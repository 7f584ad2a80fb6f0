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

    /// The task's cgroup path: config.json's `linux.cgroupsPath` (berth-runtime's
    /// default when absent). NotFound before the task is created or once it is deleted.
    private func cgroupCall() throws(ShimError) -> (RuntimeRunner, String) {
        guard let p = initProcess, p.status != "creating" else { throw ShimError(.notFound, "task " + id + " not created") }
        guard !deletingInit else { throw ShimError(.failedPrecondition, "task " + id + " is being deleted") }
        guard let helper = cgroupRunner else { throw ShimError(.failedPrecondition, "berth-runtime is not beside berth-shim") }
        return (helper, try cgroupsPath(bundle: bootstrap.bundle) ?? "/berth-runtime/" + id)
    }

    func stats(_ reply: Reply) throws(ShimError) {
        let (helper, cgroup) = try cgroupCall()
        let path = bootstrap.bundle + "/stats-\(nextScratch()).json"
        let fd = berth_shim_open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw ShimError.system("open " + path, errno: -fd) }
        helper.run(["cgroup-stats", cgroup], stdout: fd) { error in
            _ = close(fd)
            defer { unlink(path) }
            if let error { return reply.fail(ShimError(.internal, error.message)) }
            do throws(ShimError) {
                reply.ok(.object([("stats", try JSON.parse(try Sys.readFile(path, limit: 16 << 20)))]))
            } catch {
                reply.fail(error)
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
