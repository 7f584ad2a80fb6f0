import BerthAPI
import BerthMetadata
import BerthSystem
import CBerthLinux
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A snapshotter that keeps snapshots as directories under its root and their metadata
/// in the daemon's SQLite store; the layout (overlay or native copies) is pluggable.
///
/// On disk, under `root` (`<berth root>/snapshots/<name>`):
///
/// ```
/// snapshots/<id>/fs      the snapshot's files (overlay: its upper directory)
/// snapshots/<id>/work    overlay's work directory (active overlay snapshots)
/// snapshots/new-XXXXXX   a snapshot being created (renamed to <id> when recorded)
/// snapshots/rm-<id>      a snapshot being removed (its row is already gone)
/// ```
///
/// `<id>` is the row's id in the `snapshots` table, so keys never reach a path.
public final class LocalSnapshotter: Snapshotter {
    public let name: String
    /// This snapshotter's directory.
    public let root: String
    let store: SnapshotStore
    let layout: any SnapshotLayout
    let state = Mutex(State())

    struct State {
        var closed = false
        /// Temporary directories being filled, which `cleanup` must leave alone.
        var inFlight: Set<String> = []
    }

    var snapshotsDirectory: String { root + "/snapshots" }

    func directory(_ id: Int64) -> String { "\(snapshotsDirectory)/\(id)" }

    init(name: String, root: String, database: Database, layout: any SnapshotLayout) throws {
        guard root.hasPrefix("/"), !root.contains(","), !root.contains(":") else {
            throw BerthError.invalidArgument("snapshotter root \"\(root)\" must be an absolute path without ',' or ':' (they separate overlay options)")
        }
        self.name = name
        self.root = root
        self.store = SnapshotStore(db: database, snapshotter: name)
        self.layout = layout
        try FileSystem.makeDirectory(root, mode: 0o700)
        try FileSystem.makeDirectory(root + "/snapshots", mode: 0o700)
    }

    // MARK: reading

    public func stat(namespace: String, key: String) throws -> SnapshotInfo {
        try validate(namespace: namespace, key: key)
        return try store.db.withConnection { try store.get($0, namespace: namespace, key: key) }.info
    }

    public func list(namespace: String, filters: [String]) throws -> [SnapshotInfo] {
        try checkOpen()
        try Identifier.validate(namespace, what: "namespace")
        let parsed = try filters.map(SnapshotFilter.init)
        let infos = try store.db.withConnection { try store.list($0, namespace: namespace) }.map(\.info)
        return parsed.isEmpty ? infos : infos.filter { info in parsed.contains { $0.matches(info) } }
    }

    public func mounts(namespace: String, key: String) throws -> [Mount] {
        try validate(namespace: namespace, key: key)
        let (record, ancestors) = try store.db.withConnection { c in
            let record = try store.get(c, namespace: namespace, key: key)
            return (record, try store.ancestors(c, of: record.id))
        }
        guard record.kind != .committed else {
            throw BerthError.failedPrecondition("snapshot \"\(key)\" is committed; only active and view snapshots have mounts (make a view of it)")
        }
        return layout.mounts(directory: directory(record.id), kind: record.kind, ancestors: ancestors.map { directory($0) + "/fs" })
    }

    public func usage(namespace: String, key: String) throws -> SnapshotUsage {
        try validate(namespace: namespace, key: key)
        let record = try store.db.withConnection { try store.get($0, namespace: namespace, key: key) }
        if record.kind == .active {
            return try layout.usage(directory: directory(record.id), parentFS: record.parentID.map { directory($0) + "/fs" })
        }
        return record.usage ?? SnapshotUsage()
    }

    // MARK: changing

    public func update(namespace: String, info: SnapshotInfo, fieldPaths: [String]) throws -> SnapshotInfo {
        try validate(namespace: namespace, key: info.name)
        return try store.db.transaction { c in
            var record = try store.get(c, namespace: namespace, key: info.name)
            if fieldPaths.isEmpty || fieldPaths.contains("labels") {
                record.labels = info.labels.filter { !$0.value.isEmpty }
            }
            for path in fieldPaths where path != "labels" {
                guard path.hasPrefix("labels."), path.count > "labels.".count else {
                    throw BerthError.invalidArgument("cannot update \"\(path)\" of a snapshot: only labels and labels.<key> may be updated")
                }
                let label = String(path.dropFirst("labels.".count))
                let value = info.labels[label] ?? ""
                record.labels[label] = value.isEmpty ? nil : value
            }
            try Labels.validate(record.labels)
            record.updatedAt = try store.setLabels(c, id: record.id, record.labels)
            return record.info
        }
    }

    public func prepare(namespace: String, key: String, parent: String?, labels: [String: String]) throws -> [Mount] {
        try create(.active, namespace: namespace, key: key, parent: parent, labels: labels)
        return try mounts(namespace: namespace, key: key)
    }

    public func view(namespace: String, key: String, parent: String?, labels: [String: String]) throws -> [Mount] {
        try create(.view, namespace: namespace, key: key, parent: parent, labels: labels)
        return try mounts(namespace: namespace, key: key)
    }

    /// Builds the snapshot in `new-XXXXXX`, then, in one transaction, records it and
    /// renames the directory to its id (synced before the transaction commits). A
    /// failure removes the temporary directory; a crash leaves one for `cleanup`.
    func create(_ kind: SnapshotKind, namespace: String, key: String, parent: String?, labels: [String: String]) throws {
        try validate(namespace: namespace, key: key)
        if let parent { try SnapshotKey.validate(parent, what: "parent") }
        try Labels.validate(labels)
        let parentRecord = try store.db.withConnection { c -> SnapshotRecord? in
            if (try? store.get(c, namespace: namespace, key: key)) != nil {
                throw BerthError.alreadyExists("snapshot \"\(key)\" already exists")
            }
            return try parent.map { try committedParent(c, namespace: namespace, $0) }
        }
        let temporary = try state.withLock { state in
            let path = try Directories.makeTemporary(in: snapshotsDirectory, prefix: "new-")
            state.inFlight.insert(path)
            return path
        }
        defer { _ = state.withLock { $0.inFlight.remove(temporary) } }
        var final: String?
        do {
            try layout.populate(temporary, kind: kind, parentFS: parentRecord.map { directory($0.id) + "/fs" })
            try store.db.transaction { c in
                let parentID = try parent.map { try committedParent(c, namespace: namespace, $0).id }
                guard parentID == parentRecord?.id else {
                    throw BerthError.failedPrecondition("parent \"\(parent ?? "")\" changed while \"\(key)\" was prepared")
                }
                let id = try store.insert(c, namespace: namespace, key: key, kind: kind, parentID: parentID, labels: labels)
                try Directories.rename(temporary, directory(id))
                final = directory(id)
                try FileSystem.syncDirectory(snapshotsDirectory)
                // events: /snapshot/prepare is published by the service once this returns.
            }
        } catch {
            try? Directories.removeTree(final ?? temporary)
            throw error
        }
    }

    private func committedParent(_ c: Connection, namespace: String, _ parent: String) throws -> SnapshotRecord {
        let record: SnapshotRecord
        do {
            record = try store.get(c, namespace: namespace, key: parent)
        } catch let error as BerthError where error.kind == .notFound {
            throw BerthError.notFound("parent snapshot \"\(parent)\" not found")
        }
        guard record.kind == .committed else {
            throw BerthError.invalidArgument("parent \"\(parent)\" is a\(record.kind == .active ? "n" : "") \(record.kind.rawValue) snapshot; a parent must be committed")
        }
        return record
    }

    public func commit(namespace: String, name: String, key: String, labels: [String: String]) throws {
        try validate(namespace: namespace, key: key)
        try SnapshotKey.validate(name, what: "name")
        try Labels.validate(labels)
        let record = try store.db.withConnection { try store.get($0, namespace: namespace, key: key) }
        guard record.kind == .active else {
            throw BerthError.failedPrecondition("snapshot \"\(key)\" is a \(record.kind.rawValue) snapshot; only an active snapshot can be committed")
        }
        let dir = directory(record.id)
        let usage = try layout.usage(directory: dir, parentFS: record.parentID.map { directory($0) + "/fs" })
        try Self.syncFileSystem(of: dir + "/fs")
        try store.db.transaction { c in
            let current = try store.get(c, namespace: namespace, key: key)
            guard current.id == record.id, current.kind == .active else {
                throw BerthError.failedPrecondition("snapshot \"\(key)\" changed while it was committed")
            }
            try store.commit(c, id: record.id, namespace: namespace, name: name, labels: labels, usage: usage)
        }
    }

    public func remove(namespace: String, key: String) throws {
        try validate(namespace: namespace, key: key)
        let doomed = try store.db.transaction { c -> String in
            let record = try store.get(c, namespace: namespace, key: key)
            let children = try store.childCount(c, of: record.id)
            if children > 0 {
                throw BerthError.failedPrecondition("snapshot \"\(key)\" has \(children) child snapshot\(children == 1 ? "; remove it" : "s; remove them") first")
            }
            try store.delete(c, id: record.id)
            let doomed = "\(snapshotsDirectory)/rm-\(record.id)"
            do {
                try Directories.rename(directory(record.id), doomed)
            } catch let error as SystemError where error.errno == ENOENT {
                return "" // the row pointed at nothing; dropping it is the repair
            }
            // No directory sync: if the rename is lost in a crash, `<id>` has no row
            // and cleanup removes it just the same.
            return doomed
        }
        if !doomed.isEmpty { try Directories.removeTree(doomed) }
    }

    public func cleanup() throws -> [String] {
        try checkOpen()
        // Under the store's lock no create or remove is between its rename and its
        // commit, so the directory listing and the ids agree.
        let doomed = try store.db.withConnection { c -> [String] in
            let ids = try store.allIDs(c)
            let busy = state.withLock { $0.inFlight }
            var doomed: [String] = []
            for entry in try Directories.entries(snapshotsDirectory).sorted() {
                let path = snapshotsDirectory + "/" + entry
                if busy.contains(path) { continue }
                if let id = Int64(entry), String(id) == entry, ids.contains(id) { continue }
                doomed.append(entry)
            }
            return doomed
        }
        for entry in doomed { try Directories.removeTree(snapshotsDirectory + "/" + entry) }
        return doomed
    }

    public func close() {
        state.withLock { $0.closed = true }
    }

    // MARK: helpers

    func checkOpen() throws {
        if state.withLock({ $0.closed }) { throw BerthError.failedPrecondition("snapshotter \(name) is closed") }
    }

    func validate(namespace: String, key: String) throws {
        try checkOpen()
        try Identifier.validate(namespace, what: "namespace")
        try SnapshotKey.validate(key)
    }

    /// syncfs(2) of the file system holding `path`.
    static func syncFileSystem(of path: String) throws {
        let fd = try retryingEINTR("open \(path)") { open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        defer { Glibc.close(fd) }
        try checkNegativeErrno(berth_syncfs(fd), "syncfs \(path)")
    }
}
