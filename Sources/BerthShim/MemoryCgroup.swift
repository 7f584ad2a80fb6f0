import CBerthLinux
import CBerthShim

/// The memory controller's directory of the task's cgroup, for OOM notifications: a v1
/// hierarchy with `memory` (v1 and hybrid hosts, as this one) or the cgroup2 one.
/// The rest of the cgroup work (stats, update) is berthd's (BerthCgroups), which keeps
/// this process small.
struct MemoryCgroup {
    let directory: String
    let isV1: Bool

    /// `cgroupsPath` as in config.json (absolute or relative to the hierarchy's root).
    init?(cgroupsPath: String) {
        guard let mounts = try? Sys.readFile("/proc/self/mountinfo", limit: 4 << 20) else { return nil }
        var v1Memory: String?
        var unified: String?
        for line in mounts.split(separator: 0x0a) {
            let fields = line.split(separator: 0x20).map { String(decoding: $0, as: UTF8.self) }
            guard let dash = fields.firstIndex(of: "-"), dash + 3 < fields.count, fields.count > 4 else { continue }
            let mountPoint = fields[4]
            if fields[dash + 1] == "cgroup", fields[dash + 3].split(separator: ",").contains("memory") { v1Memory = mountPoint }
            if fields[dash + 1] == "cgroup2", unified == nil || mountPoint == "/sys/fs/cgroup" { unified = mountPoint }
        }
        let relative = cgroupsPath.split(separator: "/").filter { $0 != "." && $0 != ".." }.joined(separator: "/")
        guard !relative.isEmpty, let root = v1Memory ?? unified else { return nil }
        directory = root + "/" + relative
        isV1 = v1Memory != nil
    }

    /// The cgroup's OOM-kill count (v1 `memory.oom_control`, v2 `memory.events`).
    func oomKillCount() -> UInt64? {
        guard let bytes = try? Sys.readFile(directory + (isV1 ? "/memory.oom_control" : "/memory.events"), limit: 1 << 16) else { return nil }
        for line in bytes.split(separator: 0x0a) {
            let words = line.split(separator: 0x20)
            if words.count == 2, String(decoding: words[0], as: UTF8.self) == "oom_kill" {
                return UInt64(String(decoding: words[1], as: UTF8.self))
            }
        }
        return 0
    }

    /// A non-blocking descriptor that polls readable when the cgroup may have had an OOM
    /// event: v1 an eventfd registered through `cgroup.event_control`, v2 inotify on
    /// `memory.events`.
    func eventDescriptor() -> Int32? {
        if !isV1 {
            let fd = berth_inotify_watch_modify(directory + "/memory.events")
            return fd >= 0 ? fd : nil
        }
        let efd = berth_eventfd_nonblocking()
        guard efd >= 0 else { return nil }
        let control = berth_shim_open(directory + "/memory.oom_control", O_RDONLY | O_CLOEXEC, 0)
        guard control >= 0 else { _ = close(efd); return nil }
        defer { _ = close(control) }
        let registration = berth_shim_open(directory + "/cgroup.event_control", O_WRONLY | O_CLOEXEC, 0)
        guard registration >= 0 else { _ = close(efd); return nil }
        defer { _ = close(registration) }
        guard Sys.writeAll(registration, Array("\(efd) \(control)".utf8)) else { _ = close(efd); return nil }
        return efd
    }
}

/// `linux.cgroupsPath` of the bundle's config.json (nil when absent).
func cgroupsPath(bundle: String) throws(ShimError) -> String? {
    let spec = try JSON.parse(try Sys.readFile(bundle + "/config.json", limit: 64 << 20))
    return spec["linux"]?["cgroupsPath"]?.string
}
