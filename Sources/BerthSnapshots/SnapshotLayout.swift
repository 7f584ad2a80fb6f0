import BerthAPI

/// What differs between the directory snapshotters: how a new snapshot's directory is
/// filled, which mounts show it, and how its own disk usage is measured. Metadata,
/// atomicity, removal and cleanup are `LocalSnapshotter`'s, shared by all layouts.
protocol SnapshotLayout: Sendable {
    /// Fills `directory` (a new, empty, temporary directory that becomes
    /// `snapshots/<id>`) for a snapshot of `kind` whose parent's file tree is
    /// `parentFS` (nil for a base snapshot).
    func populate(_ directory: String, kind: SnapshotKind, parentFS: String?) throws

    /// The mounts of a snapshot: its own `directory`, and the `fs` directories of its
    /// ancestors, nearest first.
    func mounts(directory: String, kind: SnapshotKind, ancestors: [String]) -> [Mount]

    /// Disk used by the snapshot in `directory` alone, its parent's tree at `parentFS`.
    func usage(directory: String, parentFS: String?) throws -> SnapshotUsage
}

extension SnapshotLayout {
    /// A bind mount of `source`, read-only or writable.
    func bind(_ source: String, readOnly: Bool) -> Mount {
        Mount(type: "bind", source: source, options: [readOnly ? "ro" : "rw", "rbind"])
    }
}
