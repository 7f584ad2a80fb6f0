import BerthSystem

/// Facts about this machine that tests compare berthd's answers with, computed
/// independently of berthd's own code.
enum Host {
    /// The cgroup layout as /proc/self/mounts shows it: `v2` (cgroup2 at
    /// /sys/fs/cgroup), `hybrid` (v1 hierarchies with cgroup2 at
    /// /sys/fs/cgroup/unified), `v1`, or `unavailable`.
    static func cgroupMode() throws -> String {
        let bytes = try FileSystem.readFile("/proc/self/mounts", limit: 1 << 22)
        // fields: source mountpoint fstype options dump pass; the last mount on a path wins
        var types: [String: String] = [:]
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            let fields = line.split(separator: " ")
            if fields.count >= 3 { types[String(fields[1])] = String(fields[2]) }
        }
        switch types["/sys/fs/cgroup"] {
        case "cgroup2": return "v2"
        case "tmpfs", "cgroup": return types["/sys/fs/cgroup/unified"] == "cgroup2" ? "hybrid" : "v1"
        default: return "unavailable"
        }
    }
}
