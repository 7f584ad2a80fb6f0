import BerthAPI
import BerthMetadata
import BerthSystem
#if canImport(Glibc)
import Glibc
#endif

/// The `native` snapshotter's layout: every snapshot is a full copy of its parent in
/// `snapshots/<id>/fs`, shown by a bind mount. Slow to prepare and heavy on disk, but
/// it works on any file system, where overlay is unavailable.
struct NativeLayout: SnapshotLayout {
    func populate(_ directory: String, kind: SnapshotKind, parentFS: String?) throws {
        let fs = directory + "/fs"
        try Directories.makeDirectory(fs, mode: 0o755)
        if let parentFS {
            try TreeCopy.copy(from: parentFS, to: fs)
            // The copy's data must be on disk before the metadata points at it.
            try LocalSnapshotter.syncFileSystem(of: fs)
        }
    }

    func mounts(directory: String, kind: SnapshotKind, ancestors: [String]) -> [Mount] {
        [bind(directory + "/fs", readOnly: kind != .active)]
    }

    func usage(directory: String, parentFS: String?) throws -> SnapshotUsage {
        guard let parentFS else { return try DiskUsage.of(directory + "/fs") }
        return try DiskUsage.difference(directory + "/fs", from: parentFS)
    }
}

extension LocalSnapshotter {
    /// The `native` snapshotter under `root` (normally `<berth root>/snapshots/native`).
    public static func native(root: String, database: Database) throws -> LocalSnapshotter {
        try LocalSnapshotter(name: "native", root: root, database: database, layout: NativeLayout())
    }
}
