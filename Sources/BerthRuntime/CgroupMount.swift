import BerthOCI
import BerthSystem
import CBerthLinux
import CBerthRuntime
#if canImport(Glibc)
import Glibc
#endif

/// Mounts cgroups inside the container at the spec's `cgroup` mount: cgroup2 on v2
/// hosts; a tmpfs of per-controller cgroup mounts on v1 (plus `unified` on hybrid hosts).
/// In a new cgroup namespace each shows the container's own cgroup as its root.
struct CgroupMount {
    let config: InitConfig
    let rootFD: Int32

    func mount(_ destination: String, options: MountOptions) throws {
        let mode = CgroupMode.detect()
        let readOnly = options.flags & UInt(MS_RDONLY) != 0
        let base = UInt(MS_NOSUID | MS_NODEV | MS_NOEXEC)
        let target = berth_mkdir_all_in_root(rootFD, destination, 0o755)
        try checkNegativeErrno(target, "mount cgroup on \(destination): resolve in root")
        defer { close(target) }
        if mode == .v2 {
            try checkNegativeErrno(berth_mount("cgroup2", "/proc/self/fd/\(target)", "cgroup2", base | (readOnly ? UInt(MS_RDONLY) : 0), nil),
                                   "mount cgroup2 on \(destination)")
            return
        }
        try checkNegativeErrno(berth_mount("tmpfs", "/proc/self/fd/\(target)", "tmpfs", base, "mode=755"), "mount tmpfs on \(destination)")
        // On a hybrid host the container sees the v1 controllers, as under runc.
        for hierarchy in Self.hostHierarchies() where hierarchy.type == "cgroup" {
            let dir = berth_mkdir_all_in_root(rootFD, destination + "/" + hierarchy.name, 0o755)
            try checkNegativeErrno(dir, "mount cgroup \(hierarchy.name): resolve in root")
            defer { close(dir) }
            let source = hierarchy.options.split(separator: ",").first { $0.hasPrefix("name=") }.map { String($0.dropFirst(5)) } ?? "cgroup"
            let rc = berth_mount(source, "/proc/self/fd/\(dir)", hierarchy.type, base | (readOnly ? UInt(MS_RDONLY) : 0),
                                 hierarchy.type == "cgroup" ? hierarchy.options : nil)
            try checkNegativeErrno(rc, "mount cgroup \(hierarchy.name) on \(destination)")
            // Co-mounted controllers get their single names as links (cpu -> cpu,cpuacct).
            let parts = hierarchy.name.split(separator: ",")
            if parts.count > 1 {
                let parent = berth_open_in_root(rootFD, destination, BERTH_O_PATH | O_DIRECTORY, 0)
                if parent >= 0 {
                    for part in parts { _ = symlinkat(hierarchy.name, parent, String(part)) }
                    close(parent)
                }
            }
        }
        // The tmpfs itself stays writable (as runc leaves it); the hierarchies are read-only.
    }

    struct Hierarchy {
        var name: String
        var type: String
        var options: String
    }

    /// The host's cgroup mounts under /sys/fs/cgroup, from /proc/self/mountinfo.
    static func hostHierarchies() -> [Hierarchy] {
        guard let bytes = try? FileSystem.readFile("/proc/self/mountinfo", limit: 4 << 20) else { return [] }
        var result: [Hierarchy] = []
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            // Only cgroup and cgroup2 mounts matter; most lines are other file systems.
            guard line.containsBytes(" - cgroup") else { continue }
            let halves = line.components(separatedBy: " - ")
            guard halves.count == 2 else { continue }
            let left = halves[0].split(separator: " "), right = halves[1].split(separator: " ")
            guard left.count > 4, right.count > 2 else { continue }
            let mountPoint = String(left[4])
            guard mountPoint.hasPrefix("/sys/fs/cgroup/") else { continue }
            let fsType = String(right[0])
            guard fsType == "cgroup" || fsType == "cgroup2" else { continue }
            let name = String(mountPoint.dropFirst("/sys/fs/cgroup/".count))
            let options = right[2].split(separator: ",").filter { !["rw", "ro", "nosuid", "nodev", "noexec", "relatime"].contains(String($0)) }
            result.append(Hierarchy(name: name, type: fsType, options: options.joined(separator: ",")))
        }
        return result
    }
}

extension String {
    func components(separatedBy separator: String) -> [String] {
        var parts: [String] = []
        var rest = Substring(self)
        while let range = rest.firstRange(of: separator) {
            parts.append(String(rest[..<range.lowerBound]))
            rest = rest[range.upperBound...]
        }
        parts.append(String(rest))
        return parts
    }
}
