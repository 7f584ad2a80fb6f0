#if canImport(Glibc)
import Glibc
#endif
import BerthOCI
import BerthSystem
import CBerthLinux

/// One container's cgroup, in every hierarchy the host mounts: create it, set limits,
/// put processes in, freeze, signal, measure, watch for OOM kills, and remove it.
///
/// ## Three layouts
///
/// Linux has two cgroup designs, and hosts mount them three ways (`CgroupMode.detect`):
///
/// - **v1**: one hierarchy per controller, each its own mount under the root
///   (`/sys/fs/cgroup/memory`, `/sys/fs/cgroup/pids`, ...). Several controllers may
///   share a mount (`cpu,cpuacct`, with `cpu` and `cpuacct` as symlinks to it), and
///   named hierarchies without a controller exist (`name=systemd`). The mounts are read
///   from `/proc/self/mountinfo` (super options name the controllers), so co-mounts are
///   handled whatever their directory is called. A container's cgroup is one directory
///   in *each* hierarchy, named controllers and named hierarchies alike, as runc does;
///   `add(pid:)` writes the pid into every one of them.
/// - **v2**: a single unified hierarchy at the root. Controllers are switched on for a
///   child by writing `+name` into the parent's `cgroup.subtree_control`, so `create()`
///   enables every controller the parent offers at each level above the leaf (the
///   leaf itself enables nothing: a v2 cgroup with processes may not delegate domain
///   controllers). Freezing, killing and device control are part of the core: the
///   files `cgroup.freeze`, `cgroup.kill` and an eBPF program attached to the directory.
/// - **hybrid**: v1 mounts for the controllers plus a cgroup2 mount at `<root>/unified`.
///   The unified hierarchy holds processes and whatever controllers no v1 mount took
///   (on this project's CI hosts, only `hugetlb`). Berth creates the cgroup in both and
///   adds processes to both; each *controller* is then driven where it lives: in its v1
///   mount when there is one, else in the unified hierarchy with v2 file names. So a
///   hybrid host's memory limit is `memory.limit_in_bytes` while its hugepage limit is
///   `hugetlb.2MB.max`. `unified` resources are accepted for controllers of the unified
///   hierarchy only.
///
/// The systemd driver (runc's `--systemd-cgroup`) is not implemented: it needs systemd
/// as PID 1.
///
/// ## Paths
///
/// `path` is the OCI `linux.cgroupsPath`. Absolute (`/berth/ctr1`) and relative
/// (`berth/ctr1`) paths both name `<hierarchy root>/berth/ctr1`. (runc resolves a
/// relative path against its own cgroup; Berth does not, so a runtime running inside a
/// cgroup still places containers predictably.) `..` components are refused.
///
/// ## Order
///
/// `create()` → `apply(_:)` → `add(pid:)` (or the new process joins by itself). Limits
/// set before the first process joins mean no instant without them; v1 `cpuset` needs
/// cpus and mems before any task may join, so `create()` copies them from the parent. `apply(_:)` may be called again
/// later (`update`). `remove()` after every process is gone (`kill(signal: SIGKILL)`,
/// then reap).
///
/// ## Errors
///
/// Everything throws `SystemError`: the kernel's errno and a stage naming the file and
/// value (`write /sys/fs/cgroup/memory/b/memory.limit_in_bytes = 1024: EINVAL`).
/// Requests this host cannot honour are `ENOTSUP`, malformed ones `EINVAL`, a freeze
/// that does not settle `ETIMEDOUT`.
///
/// The object holds no open descriptors and no mutable state: it is a set of paths,
/// safe to share between threads and to recreate from the same arguments later (a
/// restarted shim).
public final class Cgroup: Sendable {
    /// The cleaned cgroup path, always absolute (`/berth/ctr1`).
    public let path: String
    /// The directory holding the hierarchies (`/sys/fs/cgroup`).
    public let root: String
    public let mode: CgroupMode

    /// v1 hierarchies (empty on v2).
    let v1: [Hierarchy]
    /// The cgroup2 hierarchy: the root on v2, `<root>/unified` on hybrid, nil on v1.
    let unified: Hierarchy?
    /// Controllers the unified hierarchy's root offers (`cgroup.controllers`).
    let unifiedControllers: Set<String>

    /// - Parameters:
    ///   - path: the OCI `linux.cgroupsPath`.
    ///   - root: where the hierarchies are mounted.
    ///   - mode: the layout; detected from `root` when nil.
    /// - Throws: `EINVAL` for an empty path or one with `..`; `ENOTSUP` when `root` holds
    ///   no cgroup file system (or, for `.v2`, is not a cgroup2 mount). Nothing is
    ///   created: the directories may or may not exist yet.
    public init(path: String, root: String = "/sys/fs/cgroup", mode: CgroupMode? = nil) throws {
        let components = try Cgroup.components(of: path)
        let relative = components.joined(separator: "/")
        let root = root.count > 1 && root.hasSuffix("/") ? String(root.dropLast()) : root
        let mode = mode ?? CgroupMode.detect(root: root)
        self.path = "/" + relative
        self.root = root
        self.mode = mode
        switch mode {
        case .unavailable:
            throw SystemError(errno: ENOTSUP, stage: "cgroup \(self.path): no cgroup file system under \(root)")
        case .v2:
            guard berth_statfs_type(root) == Int64(BERTH_CGROUP2_SUPER_MAGIC) else {
                throw SystemError(errno: ENOTSUP, stage: "cgroup \(self.path): \(root) is not a cgroup2 file system")
            }
            v1 = []
            unified = Hierarchy(mountPoint: root, controllers: [], relative: relative)
        case .v1, .hybrid:
            let mounts = Hierarchy.v1Mounts(under: root)
            guard !mounts.isEmpty else {
                throw SystemError(errno: ENOTSUP, stage: "cgroup \(self.path): no cgroup v1 mounts under \(root)")
            }
            v1 = mounts.map { Hierarchy(mountPoint: $0.mountPoint, controllers: $0.controllers, relative: relative) }
            unified = mode == .hybrid ? Hierarchy(mountPoint: root + "/unified", controllers: [], relative: relative) : nil
        }
        if let unified, let list = try? CgroupFile.read(unified.mountPoint, "cgroup.controllers") {
            unifiedControllers = Set(list.split(separator: " ").map(String.init))
        } else {
            unifiedControllers = []
        }
    }

    /// The cgroup's directory in each hierarchy, keyed like runc's `cgroup_paths`: the
    /// v1 controllers of the mount joined by commas (`cpu,cpuacct`, `name=systemd`), and
    /// `""` for the unified hierarchy.
    public var directories: [String: String] {
        var out: [String: String] = [:]
        for h in v1 { out[h.controllers.joined(separator: ",")] = h.directory }
        if let unified { out[""] = unified.directory }
        return out
    }

    var allHierarchies: [Hierarchy] { v1 + (unified.map { [$0] } ?? []) }

    /// Whether the cgroup's directory exists in any hierarchy (so `remove()` has work).
    public func exists() -> Bool {
        allHierarchies.contains { FileSystem.fileType($0.directory) == S_IFDIR }
    }

    /// Creates the cgroup's directory in every hierarchy (existing ones are fine).
    ///
    /// v1 `cpuset` directories get `cpuset.cpus` and `cpuset.mems` copied from their
    /// parent when empty, at every level; v2 parents get all their controllers enabled
    /// in `cgroup.subtree_control` (a controller the kernel refuses there is skipped,
    /// as runc does; `apply` then names what is missing).
    public func create() throws {
        try createV1()
        try createUnified()
    }

    /// `create()` in the v1 hierarchies only (none on v2).
    public func createV1() throws {
        let components = Array(path.split(separator: "/").map(String.init))
        for h in v1 {
            var dir = h.mountPoint
            for c in components {
                dir += "/" + c
                try Cgroup.makeDirectory(dir)
                if h.controllers.contains("cpuset") { try Cgroup.inheritCpuset(dir) }
            }
        }
    }

    /// `create()` in the cgroup2 hierarchy only (none on v1).
    public func createUnified() throws {
        guard let unified else { return }
        var dir = unified.mountPoint
        for c in path.split(separator: "/").map(String.init) {
            Cgroup.enableControllers(in: dir)
            dir += "/" + c
            try Cgroup.makeDirectory(dir)
        }
    }

    /// Moves `pid` (and so all its threads) into the cgroup in every hierarchy, or only
    /// in the v1 ones or only in the unified one.
    ///
    /// Moving another process in through `cgroup.procs` takes the kernel's global
    /// threadgroup lock for writing, which waits for an RCU grace period (5–20 ms on
    /// this kind of host: the largest single cost of starting a container). A new
    /// process can join faster by itself: see `v1TaskFiles` and `unifiedDirectory`.
    public func add(pid: Int32, v1 includeV1: Bool = true, unified includeUnified: Bool = true) throws {
        for h in (includeV1 ? v1 : []) + (includeUnified ? unified.map { [$0] } ?? [] : []) {
            try CgroupFile.write(h.directory, "cgroup.procs", String(pid))
        }
    }

    /// The `tasks` file of the cgroup in each v1 hierarchy. A single-threaded process
    /// that writes "0" (itself) into them joins the cgroup without the global lock that
    /// `add(pid:)` waits for (Linux 6.0 and later; older kernels take it either way).
    public var v1TaskFiles: [String] { v1.map { $0.directory + "/tasks" } }

    /// The cgroup's directory in the cgroup2 hierarchy (nil on v1): clone3 with
    /// `CLONE_INTO_CGROUP` and this directory's fd starts a process inside it.
    public var unifiedDirectory: String? { unified?.directory }

    /// Every process in the cgroup and its descendant cgroups, sorted.
    public func pids() throws -> [Int32] {
        var found = Set<Int32>()
        for dir in try Cgroup.tree(processHierarchy.directory) {
            guard let text = try CgroupFile.readIfPresent(dir, "cgroup.procs") else { continue }
            for line in text.split(separator: "\n") { if let pid = Int32(line) { found.insert(pid) } }
        }
        return found.sorted()
    }

    /// The hierarchy whose `cgroup.procs` lists the container's processes: the unified
    /// one on v2, the freezer (whose view `kill` relies on) on v1 and hybrid.
    var processHierarchy: Hierarchy {
        if mode == .v2, let unified { return unified }
        if let freezer = v1.first(where: { $0.controllers.contains("freezer") }) { return freezer }
        return v1.first(where: { !($0.controllers.first?.hasPrefix("name=") ?? true) }) ?? unified ?? v1[0]
    }

    /// Removes the cgroup's directory in every hierarchy, with any child cgroups below
    /// it. Not an error: a directory that is already gone. `EBUSY` (processes that were
    /// just killed and are still leaving) is retried for about two seconds.
    public func remove() throws {
        var firstError: Error?
        for h in allHierarchies {
            do {
                for dir in try Cgroup.tree(h.directory).reversed() { try Cgroup.removeDirectory(dir) }
            } catch {
                if firstError == nil { firstError = error }
            }
        }
        if let firstError { throw firstError }
    }
}

/// A mounted cgroup hierarchy and the cgroup's directory in it.
struct Hierarchy: Sendable, Equatable {
    let mountPoint: String
    /// v1 controllers of the mount (`["cpu", "cpuacct"]`, `["name=systemd"]`); empty
    /// for the unified hierarchy.
    let controllers: [String]
    let directory: String

    init(mountPoint: String, controllers: [String], relative: String) {
        self.mountPoint = mountPoint
        self.controllers = controllers
        self.directory = relative.isEmpty ? mountPoint : mountPoint + "/" + relative
    }
}
