import BerthAPI
import BerthMetadata
import BerthSystem
#if canImport(Glibc)
import Glibc
#endif

/// The `overlayfs` snapshotter's layout, as containerd's: each snapshot keeps only its
/// own changes in `snapshots/<id>/fs` (an overlay upper directory), with `work` beside
/// it for active snapshots.
///
/// - no parent: a bind mount of `fs` (read-only for a view);
/// - a view of one parent: a read-only bind mount of the parent's `fs`;
/// - otherwise an overlay: `lowerdir` = the ancestors' `fs`, nearest first, and for an
///   active snapshot `upperdir=fs`, `workdir=work`.
///
/// `index=off` is added when the kernel has overlay's `index` feature, `userxattr`
/// when running in a user namespace. Mount values always carry the full `lowerdir=`
/// list; `MountExecutor` mounts lists past the 4096-byte mount(2) limit.
struct OverlayLayout: SnapshotLayout {
    let extraOptions: [String]

    func populate(_ directory: String, kind: SnapshotKind, parentFS: String?) throws {
        let fs = directory + "/fs"
        try Directories.makeDirectory(fs, mode: 0o755)
        if kind == .active { try Directories.makeDirectory(directory + "/work", mode: 0o711) }
        // The upper directory becomes the root of the mounted tree: give it the
        // parent root's owner and mode, as containerd does.
        if let parentFS {
            var st = stat()
            try retryingEINTR("lstat \(parentFS)") { lstat(parentFS, &st) }
            try retryingEINTR("chown \(fs)") { lchown(fs, st.st_uid, st.st_gid) }
            try retryingEINTR("chmod \(fs)") { chmod(fs, st.st_mode & 0o7777) }
        }
    }

    func mounts(directory: String, kind: SnapshotKind, ancestors: [String]) -> [Mount] {
        if ancestors.isEmpty { return [bind(directory + "/fs", readOnly: kind != .active)] }
        if kind != .active && ancestors.count == 1 { return [bind(ancestors[0], readOnly: true)] }
        var options = extraOptions
        if kind == .active {
            options += ["upperdir=\(directory)/fs", "workdir=\(directory)/work"]
        }
        options.append("lowerdir=" + ancestors.joined(separator: ":"))
        return [Mount(type: "overlay", source: "overlay", options: options)]
    }

    func usage(directory: String, parentFS: String?) throws -> SnapshotUsage {
        try DiskUsage.of(directory + "/fs")
    }

    /// The options every overlay of this host needs.
    static func detectOptions() -> [String] {
        var options: [String] = []
        if FileSystem.fileType("/sys/module/overlay/parameters/index") != nil { options.append("index=off") }
        if inUserNamespace() { options.append("userxattr") }
        return options
    }

    /// Whether this process runs in a user namespace other than the initial one.
    static func inUserNamespace() -> Bool {
        guard let bytes = try? FileSystem.readFile("/proc/self/uid_map", limit: 4096) else { return false }
        let fields = String(decoding: bytes, as: UTF8.self).split(whereSeparator: { $0 == " " || $0 == "\n" })
        return fields != ["0", "0", "4294967295"]
    }
}

extension LocalSnapshotter {
    /// The `overlayfs` snapshotter under `root` (normally `<berth root>/snapshots/overlayfs`).
    /// Fails when overlay cannot be mounted on `root`'s file system, which it checks by
    /// mounting a two-layer overlay in a scratch directory.
    public static func overlay(root: String, database: Database) throws -> LocalSnapshotter {
        let options = OverlayLayout.detectOptions()
        let snapshotter = try LocalSnapshotter(name: "overlayfs", root: root, database: database, layout: OverlayLayout(extraOptions: options))
        try probeOverlay(in: root, options: options)
        return snapshotter
    }

    static func probeOverlay(in root: String, options: [String]) throws {
        // A probe interrupted by a crash left its scratch directory behind.
        for stale in (try? Directories.entries(root)) ?? [] where stale.hasPrefix("probe-") {
            try? Directories.removeTree(root + "/" + stale)
        }
        let scratch = try Directories.makeTemporary(in: root, prefix: "probe-")
        defer { try? Directories.removeTree(scratch) }
        for dir in ["l1", "l2", "up", "work", "merged"] { try Directories.makeDirectory(scratch + "/" + dir, mode: 0o700) }
        let data = (options + ["lowerdir=\(scratch)/l2:\(scratch)/l1", "upperdir=\(scratch)/up", "workdir=\(scratch)/work"]).joined(separator: ",")
        try Mounting.mount(source: "overlay", target: scratch + "/merged", type: "overlay", flags: 0, data: data)
        try Mounting.unmount(scratch + "/merged", detach: true)
    }
}
