import BerthAPI
import BerthSystem
import BerthMetadata

/// One row of the `snapshots` table.
struct SnapshotRecord: Sendable, Equatable {
    let id: Int64
    var key: String
    var kind: SnapshotKind
    let parentID: Int64?
    let parentKey: String?
    var labels: [String: String]
    var usage: SnapshotUsage?
    let createdAt: String
    var updatedAt: String

    var info: SnapshotInfo {
        SnapshotInfo(name: key, parent: parentKey, kind: kind, labels: labels, createdAt: createdAt, updatedAt: updatedAt)
    }
}

/// The snapshots of one snapshotter in the metadata store. Every query is scoped by
/// snapshotter and namespace; the numeric `id` is the only thing that reaches a path.
struct SnapshotStore: Sendable {
    let db: Database
    let snapshotter: String

    private static let columns = """
        s.id, s.key, s.kind, s.parent_id, p.key, s.labels, s.size, s.inodes, s.created_at, s.updated_at
        FROM snapshots AS s LEFT JOIN snapshots AS p ON p.id = s.parent_id
        """

    func get(_ c: Connection, namespace: String, key: String) throws -> SnapshotRecord {
        guard let row = try c.query("SELECT \(Self.columns) WHERE s.snapshotter = ? AND s.namespace = ? AND s.key = ?",
                                    [.text(snapshotter), .text(namespace), .text(key)]).first else {
            throw BerthError.notFound("snapshot \"\(key)\" not found")
        }
        return try Self.record(row)
    }

    func list(_ c: Connection, namespace: String) throws -> [SnapshotRecord] {
        try c.query("SELECT \(Self.columns) WHERE s.snapshotter = ? AND s.namespace = ? ORDER BY s.key",
                    [.text(snapshotter), .text(namespace)]).map(Self.record)
    }

    /// The ids of `id`'s ancestors, nearest first (the parent, its parent, …).
    func ancestors(_ c: Connection, of id: Int64) throws -> [Int64] {
        try c.query("""
            WITH RECURSIVE chain(id, parent_id, depth) AS (
                SELECT id, parent_id, 0 FROM snapshots WHERE id = ?
                UNION ALL
                SELECT s.id, s.parent_id, chain.depth + 1 FROM snapshots AS s JOIN chain ON s.id = chain.parent_id
            )
            SELECT id FROM chain WHERE depth > 0 ORDER BY depth
            """, [.integer(id)]).compactMap { $0.first?.integer }
    }

    /// Inserts a new snapshot and returns its id. `AlreadyExists` if the key is taken.
    func insert(_ c: Connection, namespace: String, key: String, kind: SnapshotKind, parentID: Int64?, labels: [String: String]) throws -> Int64 {
        let now = Timestamp.now()
        do {
            try c.run("""
                INSERT INTO snapshots (snapshotter, namespace, key, kind, parent_id, labels, size, inodes, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, [.text(snapshotter), .text(namespace), .text(key), .text(kind.rawValue),
                      parentID.map { .integer($0) } ?? .null, .text(try Self.encode(labels)),
                      kind == .view ? .integer(0) : .null, kind == .view ? .integer(0) : .null, .text(now), .text(now)])
        } catch let error as SQLiteError where error.isConstraint {
            throw BerthError.alreadyExists("snapshot \"\(key)\" already exists")
        }
        return try c.query("SELECT last_insert_rowid()").first?.first?.integer ?? 0
    }

    /// Renames active `id` to committed `name` with `labels` and its usage.
    func commit(_ c: Connection, id: Int64, namespace: String, name: String, labels: [String: String], usage: SnapshotUsage) throws {
        do {
            try c.run("UPDATE snapshots SET key = ?, kind = 'committed', labels = ?, size = ?, inodes = ?, updated_at = ? WHERE id = ?",
                      [.text(name), .text(try Self.encode(labels)), .integer(usage.size), .integer(usage.inodes),
                       .text(Timestamp.now()), .integer(id)])
        } catch let error as SQLiteError where error.isConstraint {
            throw BerthError.alreadyExists("snapshot \"\(name)\" already exists")
        }
    }

    func childCount(_ c: Connection, of id: Int64) throws -> Int64 {
        try c.query("SELECT count(*) FROM snapshots WHERE parent_id = ?", [.integer(id)]).first?.first?.integer ?? 0
    }

    func delete(_ c: Connection, id: Int64) throws {
        try c.run("DELETE FROM snapshots WHERE id = ?", [.integer(id)])
    }

    func setLabels(_ c: Connection, id: Int64, _ labels: [String: String]) throws -> String {
        let now = Timestamp.now()
        try c.run("UPDATE snapshots SET labels = ?, updated_at = ? WHERE id = ?", [.text(try Self.encode(labels)), .text(now), .integer(id)])
        return now
    }

    /// Every id this snapshotter has, in every namespace.
    func allIDs(_ c: Connection) throws -> Set<Int64> {
        Set(try c.query("SELECT id FROM snapshots WHERE snapshotter = ?", [.text(snapshotter)]).compactMap { $0.first?.integer })
    }

    static func record(_ row: [SQLValue]) throws -> SnapshotRecord {
        let usage: SnapshotUsage? = row[6].integer.map { SnapshotUsage(size: $0, inodes: row[7].integer ?? 0) }
        return SnapshotRecord(
            id: row[0].integer ?? 0, key: row[1].text ?? "", kind: SnapshotKind(rawValue: row[2].text ?? "") ?? .active,
            parentID: row[3].integer, parentKey: row[4].text, labels: try decode(row[5].text), usage: usage,
            createdAt: row[8].text ?? "", updatedAt: row[9].text ?? "")
    }

    static func encode(_ labels: [String: String]) throws -> String {
        String(decoding: try WireJSON.encode(labels), as: UTF8.self)
    }

    static func decode(_ text: String?) throws -> [String: String] {
        guard let text, !text.isEmpty else { return [:] }
        return try WireJSON.decode([String: String].self, from: Array(text.utf8))
    }
}

/// The rule for snapshot keys and names: any non-empty UTF-8 string of at most 4096
/// bytes without NUL or control characters. Keys are never paths, so `/` and `..` are
/// allowed (containerd's image unpacker uses keys like `default/3/sha256:…`).
enum SnapshotKey {
    static let maxLength = 4096

    static func validate(_ key: String, what: String = "key") throws {
        if key.isEmpty { throw BerthError.invalidArgument("snapshot \(what) must not be empty") }
        if key.utf8.count > maxLength {
            throw BerthError.invalidArgument("snapshot \(what) is \(key.utf8.count) bytes; at most \(maxLength) are allowed")
        }
        if key.utf8.contains(where: { $0 < 0x20 || $0 == 0x7f }) {
            throw BerthError.invalidArgument("snapshot \(what) \"\(key.prefix(40))\" holds a control character")
        }
    }
}
