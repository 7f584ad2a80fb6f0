#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import BerthAPI
import BerthCgroups
import BerthOCI
import BerthSystem
#if canImport(Glibc)
import Glibc
#endif

/// The task's cgroup: its processes, pause and resume, OOM notifications.
extension TaskService {
    /// The task's cgroup, from the bundle's config.json (the runtime's default when absent).
    func cgroup() throws -> Cgroup {
        if let cached = cachedCgroup.withLock({ $0 }) { return cached }
        let config = try JSONDecoder().decode(Spec.CgroupsPathOnly.self,
                                              from: Data(try FileSystem.readFile(bootstrap.bundle + "/config.json", limit: 64 << 20)))
        let cgroup = try Cgroup(path: config.cgroupsPath ?? "/berth-runtime/\(id)")
        cachedCgroup.withLock { $0 = cgroup }
        return cgroup
    }

    func pids() async throws -> ShimPidsResponse {
        let path = bootstrap.bundle + "/pids.json"
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw BerthError.internal("open \(path): errno \(errno)") }
        defer { close(fd); unlink(path) }
        try await runner.run(["ps", "--format", "json", id], stdout: fd)
        let bytes = try FileSystem.readFile(path, limit: 16 << 20)
        return ShimPidsResponse(pids: try JSONDecoder().decode([Int32].self, from: Data(bytes)))
    }

    func pauseResume(pause: Bool) async throws {
        try await runner.run([pause ? "pause" : "resume", id])
        setInitStatus(pause ? "paused" : "running")
        events.publish(pause ? "/tasks/paused" : "/tasks/resumed", ShimEventPayload(containerID: id))
    }

    /// Publishes /tasks/oom each time the kernel OOM-kills in the task's cgroup, until
    /// the init exits. The notification descriptor (v1: a `memory.oom_control` eventfd;
    /// v2: inotify on `memory.events`) is read on the shim's I/O thread: no thread of
    /// its own, and no polling.
    func watchOOM() async {
        guard let cgroup = try? cgroup(), let fd = try? cgroup.oomEventDescriptor() else { return }
        oomKillsSeen.withLock { $0 = (try? cgroup.oomKillCount()) ?? 0 }
        let channel = try? await watchReadable(fd) { [self] in checkOOM() }
        // On failure the descriptor is NIO's to close (it may have done so): no close here.
        oomChannel.withLock { $0 = channel }
    }

    /// Publishes /tasks/oom when the cgroup's OOM-kill counter has grown since last seen.
    func checkOOM() {
        guard let cgroup = try? cgroup(), let now = try? cgroup.oomKillCount() else { return }
        let grew = oomKillsSeen.withLock { seen -> Bool in
            guard now > seen else { return false }
            seen = now
            return true
        }
        if grew { events.publish("/tasks/oom", ShimEventPayload(containerID: id)) }
    }
}
