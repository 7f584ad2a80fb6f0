import CBerthLinux

/// How a host mounts cgroups. `hybrid` is v1 controllers with a cgroup2 hierarchy
/// mounted beside them (at `<root>/unified`), as on this project's CI machines.
public enum CgroupMode: String, Codable, Sendable {
    case v1, v2, hybrid, unavailable

    /// Detects the mode from the file systems under `root` (normally /sys/fs/cgroup).
    public static func detect(root: String = "/sys/fs/cgroup") -> CgroupMode {
        let type = berth_statfs_type(root)
        if type == Int64(BERTH_CGROUP2_SUPER_MAGIC) { return .v2 }
        guard type == Int64(BERTH_TMPFS_MAGIC) || type == Int64(BERTH_CGROUP_SUPER_MAGIC) else {
            return .unavailable
        }
        if berth_statfs_type(root + "/unified") == Int64(BERTH_CGROUP2_SUPER_MAGIC) { return .hybrid }
        return .v1
    }
}
