#if canImport(Glibc)
import Glibc
#endif
import BerthSystem
import CBerthLinux

// Finding hierarchies, and making and removing directories in them.
extension Cgroup {
    /// The components of an OCI cgroups path; `.` and empty components dropped.
    static func components(of path: String) throws -> [String] {
        var out: [String] = []
        for c in path.split(separator: "/") where c != "." {
            if c == ".." { throw SystemError(errno: EINVAL, stage: "cgroup path \(path): '..' is not allowed") }
            out.append(String(c))
        }
        if out.isEmpty { throw SystemError(errno: EINVAL, stage: "cgroup path '\(path)': empty") }
        return out
    }

    /// mkdir that accepts an existing directory.
    static func makeDirectory(_ dir: String) throws {
        if mkdir(dir, 0o755) != 0 && errno != EEXIST {
            throw SystemError(errno: errno, stage: "mkdir \(dir)")
        }
    }

    /// v1 cpuset: a cgroup with empty `cpuset.cpus` or `cpuset.mems` refuses tasks, and
    /// new directories start empty. Copies the parent's values where empty.
    static func inheritCpuset(_ dir: String) throws {
        let parent = FileSystem.parentDirectory(of: dir)
        for name in ["cpuset.cpus", "cpuset.mems"] {
            guard try CgroupFile.read(dir, name).trimmingWhitespace.isEmpty else { continue }
            let value = try CgroupFile.read(parent, name).trimmingWhitespace
            try CgroupFile.write(dir, name, value)
        }
    }

    /// Enables in `dir`'s `cgroup.subtree_control` every controller `dir` offers. Errors
    /// are ignored controller by controller, as runc does (a threaded subtree, a
    /// controller busy elsewhere): `apply` reports what its resources then lack.
    static func enableControllers(in dir: String) {
        guard let offered = try? CgroupFile.read(dir, "cgroup.controllers"),
              let enabled = try? CgroupFile.read(dir, "cgroup.subtree_control") else { return }
        let have = Set(enabled.split(separator: " "))
        let missing = offered.split(separator: " ").filter { !have.contains($0) }
        guard !missing.isEmpty else { return }
        if (try? CgroupFile.write(dir, "cgroup.subtree_control", missing.map { "+" + $0 }.joined(separator: " "))) == nil {
            for c in missing { try? CgroupFile.write(dir, "cgroup.subtree_control", "+" + c) }
        }
    }

    /// `dir` and every directory below it, parents before children; empty if `dir`
    /// does not exist.
    static func tree(_ dir: String) throws -> [String] {
        guard FileSystem.fileType(dir) == S_IFDIR else { return [] }
        var out = [dir]
        var index = 0
        while index < out.count {
            out += try subdirectories(out[index])
            index += 1
        }
        return out
    }

    static func subdirectories(_ dir: String) throws -> [String] {
        guard let handle = opendir(dir) else {
            if errno == ENOENT { return [] }
            throw SystemError(errno: errno, stage: "opendir \(dir)")
        }
        defer { closedir(handle) }
        var out: [String] = []
        while let entry = readdir(handle) {
            guard entry.pointee.d_type == UInt8(DT_DIR) else { continue }
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name == "." || name == ".." { continue }
            out.append(dir + "/" + name)
        }
        return out
    }

    /// rmdir that ignores ENOENT and retries EBUSY (tasks still exiting) for ~2 s.
    static func removeDirectory(_ dir: String) throws {
        var delay = 5
        let deadline = monotonicMilliseconds() + 2000
        while true {
            if rmdir(dir) == 0 { return }
            let err = errno
            if err == ENOENT { return }
            if err == EINTR { continue }
            if err == EBUSY && monotonicMilliseconds() < deadline {
                sleep(milliseconds: delay)
                delay = min(delay * 2, 100)
                continue
            }
            throw SystemError(errno: err, stage: "rmdir \(dir)")
        }
    }
}

extension Hierarchy {
    /// The v1 hierarchies mounted directly under `root`, from /proc/self/mountinfo;
    /// when `root` is not where the mounts are listed (a copy, a test tree), from its
    /// subdirectories that are cgroup v1 file systems, named for their controllers.
    static func v1Mounts(under root: String) -> [(mountPoint: String, controllers: [String])] {
        if let bytes = try? FileSystem.readFile("/proc/self/mountinfo", limit: 8 << 20) {
            let out = v1Mounts(mountinfo: String(decoding: bytes, as: UTF8.self), under: root, known: knownControllers())
            if !out.isEmpty { return out }
        }
        var out: [(mountPoint: String, controllers: [String])] = []
        for dir in (try? Cgroup.subdirectories(root)) ?? [] where FileSystem.fileType(dir) == S_IFDIR {
            guard berth_statfs_type(dir) == Int64(BERTH_CGROUP_SUPER_MAGIC) else { continue }
            let name = dir.split(separator: "/").last.map(String.init) ?? ""
            out.append((dir, name.split(separator: ",").map(String.init)))
        }
        return out
    }

    /// The v1 hierarchies in a mountinfo text mounted directly under `root`, in mount
    /// order; the first mount of each controller set wins (later ones are bind mounts).
    static func v1Mounts(mountinfo: String, under root: String, known: Set<String>) -> [(mountPoint: String, controllers: [String])] {
        var out: [(mountPoint: String, controllers: [String])] = []
        var seen = Set<String>()
        for line in mountinfo.split(separator: "\n") {
            // Most lines are other file systems: skip them before splitting into fields
            // (this runs at every create and delete; a host can have thousands of mounts).
            guard line.containsBytes(" - cgroup ") else { continue }
            let fields = line.split(separator: " ", omittingEmptySubsequences: false)
            guard let dash = fields.firstIndex(of: "-"), fields.count > dash + 3, dash > 4,
                  fields[dash + 1] == "cgroup" else { continue }
            let mountPoint = unescape(fields[4])
            guard FileSystem.parentDirectory(of: mountPoint) == root, !seen.contains(mountPoint) else { continue }
            let controllers = fields[dash + 3].split(separator: ",").map(String.init).filter {
                $0.hasPrefix("name=") || known.contains($0)
            }
            guard !controllers.isEmpty, !out.contains(where: { $0.controllers == controllers }) else { continue }
            seen.insert(mountPoint)
            out.append((mountPoint, controllers))
        }
        return out
    }

    /// Controller names the kernel knows (/proc/cgroups), to tell them from mount
    /// options in mountinfo's super options.
    static func knownControllers() -> Set<String> {
        var out: Set<String> = ["cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "blkio", "pids",
                                "hugetlb", "net_cls", "net_prio", "perf_event", "rdma", "misc"]
        if let bytes = try? FileSystem.readFile("/proc/cgroups", limit: 1 << 16) {
            for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") where !line.hasPrefix("#") {
                if let name = line.split(separator: "\t").first { out.insert(String(name)) }
            }
        }
        return out
    }

    /// mountinfo escapes space, tab, newline and backslash as \ooo.
    static func unescape(_ field: Substring) -> String {
        var bytes: [UInt8] = []
        let raw = Array(field.utf8)
        var i = 0
        while i < raw.count {
            if raw[i] == UInt8(ascii: "\\"), i + 4 <= raw.count,
               let value = UInt8(String(decoding: raw[(i + 1)..<(i + 4)], as: UTF8.self), radix: 8) {
                bytes.append(value)
                i += 4
            } else {
                bytes.append(raw[i])
                i += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
