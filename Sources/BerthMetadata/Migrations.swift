/// One step of the schema, applied once, in order, inside a transaction.
public struct Migration: Sendable {
    public let description: String
    public let sql: String

    public init(_ description: String, _ sql: String) {
        self.description = description
        self.sql = sql
    }
}

/// Failures opening the metadata store that an administrator must act on.
public enum SchemaError: Error, CustomStringConvertible, Equatable {
    case newerThanKnown(path: String, found: Int, known: Int)

    public var description: String {
        switch self {
        case let .newerThanKnown(path, found, known):
            "\(path) has schema version \(found), newer than this berthd knows (\(known)); run a newer berthd or restore a backup"
        }
    }
}

/// The schema of `metadata.db`. Append migrations; never edit one that has shipped.
/// `PRAGMA user_version` records how many have been applied.
///
/// Every table holding objects of a namespace has a `namespace` column: deleting a
/// namespace counts rows in all such tables, so new tables are covered without code.
public enum Schema {
    public static let migrations: [Migration] = [
        Migration("namespaces", """
            CREATE TABLE namespaces (
                name       TEXT PRIMARY KEY NOT NULL,
                labels     TEXT NOT NULL DEFAULT '{}',
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL
            ) STRICT;
            """),
        // Snapshots of every snapshotter. `id` names the directory on disk
        // (snapshots/<snapshotter>/snapshots/<id>) and is never reused; `key` is the
        // client's string (an active or view key, or a committed name) and is never a
        // path. A parent is always a committed snapshot of the same snapshotter and
        // namespace; the foreign key keeps a parent from vanishing under its children.
        Migration("snapshots", """
            CREATE TABLE snapshots (
                id          INTEGER PRIMARY KEY AUTOINCREMENT,
                snapshotter TEXT NOT NULL,
                namespace   TEXT NOT NULL,
                key         TEXT NOT NULL,
                kind        TEXT NOT NULL CHECK (kind IN ('active', 'view', 'committed')),
                parent_id   INTEGER REFERENCES snapshots(id),
                labels      TEXT NOT NULL DEFAULT '{}',
                size        INTEGER,
                inodes      INTEGER,
                created_at  TEXT NOT NULL,
                updated_at  TEXT NOT NULL,
                UNIQUE (snapshotter, namespace, key)
            ) STRICT;
            CREATE INDEX snapshots_parent ON snapshots (parent_id);
            """),
        Migration("containers", """
            CREATE TABLE containers (
                namespace  TEXT NOT NULL REFERENCES namespaces(name),
                id         TEXT NOT NULL,
                record     TEXT NOT NULL,
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL,
                PRIMARY KEY (namespace, id)
            ) STRICT;
            """),
        // Blobs a namespace holds (containerd's content metadata). The bytes live once on
        // disk under content/blobs/sha256/<hex> whatever the namespaces referring to them;
        // a row is written only after the blob is synced and renamed into place.
        Migration("content", """
            CREATE TABLE content (
                namespace  TEXT NOT NULL REFERENCES namespaces(name),
                digest     TEXT NOT NULL,
                size       INTEGER NOT NULL,
                labels     TEXT NOT NULL DEFAULT '{}',
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL,
                PRIMARY KEY (namespace, digest)
            ) STRICT;
            """),
        // Leases: garbage-collection roots held by clients for in-flight work, and the
        // resources (content, snapshots, ingests) each one protects.
        Migration("leases", """
            CREATE TABLE leases (
                namespace  TEXT NOT NULL REFERENCES namespaces(name),
                id         TEXT NOT NULL,
                labels     TEXT NOT NULL DEFAULT '{}',
                created_at TEXT NOT NULL,
                PRIMARY KEY (namespace, id)
            ) STRICT;
            CREATE TABLE lease_resources (
                namespace   TEXT NOT NULL,
                lease_id    TEXT NOT NULL,
                type        TEXT NOT NULL,
                resource_id TEXT NOT NULL,
                PRIMARY KEY (namespace, lease_id, type, resource_id),
                FOREIGN KEY (namespace, lease_id) REFERENCES leases(namespace, id) ON DELETE CASCADE
            ) STRICT;
            """),
        // Images: a name and the descriptor of its index or manifest in the content store.
        Migration("images", """
            CREATE TABLE images (
                namespace  TEXT NOT NULL REFERENCES namespaces(name),
                name       TEXT NOT NULL,
                target     TEXT NOT NULL,
                labels     TEXT NOT NULL DEFAULT '{}',
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL,
                PRIMARY KEY (namespace, name)
            ) STRICT;
            """),
    ]
}

enum Migrator {
    static func apply(_ migrations: [Migration], on connection: Connection, path: String) throws {
        let current = Int(try connection.query("PRAGMA user_version").first?.first?.integer ?? 0)
        if current > migrations.count {
            throw SchemaError.newerThanKnown(path: path, found: current, known: migrations.count)
        }
        for (index, migration) in migrations.enumerated().dropFirst(current) {
            try connection.transaction {
                try connection.execute(migration.sql)
                try connection.execute("PRAGMA user_version = \(index + 1)")
            }
        }
    }
}
