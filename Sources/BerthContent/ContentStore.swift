import BerthAPI
import BerthDigest
import BerthMetadata
import BerthSystem
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Content-addressed blobs (image manifests, configs, layers), containerd's content
/// store: bytes on disk once, metadata rows per namespace.
///
/// On disk, under `root` (berthd's `<root>/content`):
///
///     blobs/sha256/<hex>          the bytes, read-only (0444), named by their digest
///     ingest/<sha256(ns/ref)>/    one write in progress ("ingest"), resumable:
///         data                    the bytes so far
///         ref, namespace          who it belongs to
///         total, expected         the size and digest promised at open, if any
///         startedat               RFC 3339
///
/// In the metadata store, the `content` table has a row per (namespace, digest): a
/// namespace *holds* a blob only through its row, and every read checks it, so
/// namespaces are isolated although bytes are shared. A namespace gains a row only by
/// writing the bytes itself (containerd's "isolated" sharing policy): knowing a digest
/// another namespace holds is not enough.
///
/// Durability (DESIGN.md §8): a commit fsyncs the data, renames it into `blobs/`,
/// fsyncs that directory, and only then inserts the row. So a crash leaves at worst a
/// blob without a row (reported by `check()`, removed by garbage collection), never a
/// row pointing at bytes that were not durable.
///
/// Thread-safe: ingests in use are a set under a lock (a second writer for a ref in use
/// fails with `Unavailable`), and a commit's "blob exists? rename, insert row" and a
/// delete's "delete row, unlink blob if unreferenced" run under one store-wide lock, so
/// a blob is never unlinked between a commit's check and its row. The disk I/O blocks:
/// call from a thread that may block (berthd's blocking pool).
public final class ContentStore: Sendable {
    /// `<root>/content`.
    public let root: String
    let db: Database
    let namespaces: NamespaceStore
    /// Keys (`namespace/ref`) of ingests with an open writer in this process.
    let ingestsInUse = Mutex<Set<String>>([])
    /// Serializes blob creation and removal against row insertion and deletion.
    let blobLock = Mutex(())
    /// Told of every commit that gave a namespace a new row.
    let onCommit: CommitObserver?

    /// Called after each commit that inserted a row (not for content the namespace
    /// already held), outside the blob and database locks (the writer's ref is still
    /// held), so it must not open a writer on the same ref: berthd publishes `/content/create` from it,
    /// so every writer through the daemon's store announces its blobs without having to
    /// remember to.
    public typealias CommitObserver = @Sendable (_ namespace: String, _ info: ContentInfo) -> Void

    /// Opens the store at `root`, creating `blobs/sha256` and `ingest` if missing.
    public init(root: String, database: Database, onCommit: CommitObserver? = nil) throws {
        self.root = root
        self.onCommit = onCommit
        db = database
        namespaces = NamespaceStore(database)
        try FileSystem.makeDirectory(root, mode: 0o711)
        try FileSystem.makeDirectory(root + "/blobs/sha256", mode: 0o755)
        // Ingests are private: a half-written blob is nobody's business yet.
        try FileSystem.makeDirectory(root + "/ingest", mode: 0o700)
    }

    var blobDirectory: String { root + "/blobs/sha256" }
    var ingestDirectory: String { root + "/ingest" }

    /// Where `digest`'s bytes are (or would be). Whether any namespace holds it is
    /// another question: see `openBlob` and `info`.
    public func path(_ digest: Digest) -> String {
        blobDirectory + "/" + digest.encoded
    }

    /// Parses a digest from the wire: `InvalidArgument` (naming `what`) unless it is
    /// `sha256:` and 64 lowercase hex digits.
    public static func parseDigest(_ string: String, what: String = "digest") throws -> Digest {
        do { return try Digest(parsing: string) } catch {
            throw BerthError.invalidArgument("\(what): \(error.description)")
        }
    }

    // MARK: metadata

    /// What `namespace` knows about `digest`; `NotFound` when it holds no such blob.
    public func info(namespace: String, digest: Digest) throws -> ContentInfo {
        try Identifier.validate(namespace, what: "namespace")
        return try db.withConnection { try fetch($0, namespace, digest) }
    }

    /// The blobs `namespace` holds, by digest, that match any of `filters` (containerd's
    /// syntax; fields `digest`, `size`, `labels.<key>`). No filters: all.
    public func list(namespace: String, filters: [String] = []) throws -> [ContentInfo] {
        try Identifier.validate(namespace, what: "namespace")
        let filter = try ContentFilters.parse(filters)
        let rows = try db.withConnection { c in
            try c.query("SELECT digest, size, labels, created_at, updated_at FROM content WHERE namespace = ? ORDER BY digest",
                        [.text(namespace)]).map(Self.info)
        }
        return rows.filter { filter.matches(ContentInfoFields(info: $0)) }
    }

    /// Changes the labels of `namespace`'s row for `info.digest` (nothing else about a
    /// blob can change: its bytes are its name).
    ///
    /// `fieldPaths`: `labels` replaces every label with `info.labels`; `labels.<key>`
    /// sets that one label from `info.labels` (absent or empty: removed); an empty list
    /// replaces all labels, as containerd. Empty label values are dropped everywhere.
    /// Any other path is `InvalidArgument`, and nothing changes.
    public func update(namespace: String, info: ContentInfo, fieldPaths: [String]) throws -> ContentInfo {
        try Identifier.validate(namespace, what: "namespace")
        let digest = try Self.parseDigest(info.digest)
        for path in fieldPaths where path != "labels" && !(path.hasPrefix("labels.") && path.count > "labels.".count) {
            throw BerthError.invalidArgument("cannot update \"\(path)\" of content: only labels and labels.<key> may be updated")
        }
        return try db.transaction { c in
            var current = try fetch(c, namespace, digest)
            if fieldPaths.isEmpty || fieldPaths.contains("labels") {
                current.labels = info.labels.filter { !$0.value.isEmpty }
            }
            for path in fieldPaths where path != "labels" {
                let key = String(path.dropFirst("labels.".count))
                let value = info.labels[key] ?? ""
                current.labels[key] = value.isEmpty ? nil : value
            }
            try Labels.validate(current.labels)
            current.updatedAt = Timestamp.now()
            try c.run("UPDATE content SET labels = ?, updated_at = ? WHERE namespace = ? AND digest = ?",
                      [.text(try Self.encode(current.labels)), .text(current.updatedAt), .text(namespace), .text(digest.string)])
            return current
        }
    }

    /// Removes `namespace`'s row for `digest` (`NotFound` without one); the bytes go too
    /// when no namespace holds them any more.
    ///
    /// - Returns: whether the blob file was removed (false: another namespace still
    ///   holds it).
    @discardableResult
    public func delete(namespace: String, digest: Digest) throws -> Bool {
        try Identifier.validate(namespace, what: "namespace")
        return try blobLock.withLock { _ in
            let changed = try db.withConnection { c in
                try c.run("DELETE FROM content WHERE namespace = ? AND digest = ?", [.text(namespace), .text(digest.string)])
            }
            if changed == 0 { throw Self.notFound(digest, namespace) }
            return try unlinkBlobIfUnreferencedLocked(digest)
        }
    }

    // MARK: reading

    /// Opens `digest`'s bytes for reading (O_RDONLY, close-on-exec); the caller closes
    /// the descriptor. `NotFound` when `namespace` holds no such blob, even if another
    /// namespace does, or when the row's bytes are missing on disk (see `check()`).
    public func openBlob(namespace: String, digest: Digest) throws -> Int32 {
        _ = try info(namespace: namespace, digest: digest)
        do {
            return try Files.open(path(digest), O_RDONLY)
        } catch let error as SystemError where error.errno == ENOENT {
            throw BerthError.notFound("content \(digest) of namespace \"\(namespace)\" is missing on disk")
        }
    }

    /// A whole blob in memory (manifests, configs, indexes), at most `limit` bytes: a
    /// larger one is `FailedPrecondition` rather than an allocation the caller did not
    /// expect.
    public func readBlob(namespace: String, digest: Digest, limit: Int = 4 << 20) throws -> [UInt8] {
        let size = try info(namespace: namespace, digest: digest).size
        guard size <= Int64(limit) else {
            throw BerthError.failedPrecondition("content \(digest) is \(size) bytes, more than the \(limit) that may be read at once")
        }
        let fd = try openBlob(namespace: namespace, digest: digest)
        defer { close(fd) }
        var out = [UInt8](repeating: 0, count: Int(size))
        var filled = 0
        while filled < out.count {
            let n = try out.withUnsafeMutableBytes { try Files.read(fd, into: UnsafeMutableRawBufferPointer(rebasing: $0[filled...]), path: path(digest)) }
            if n == 0 { break }
            filled += n
        }
        guard filled == out.count else {
            throw BerthError.internal("content \(digest): read \(filled) bytes, its row says \(size)")
        }
        return out
    }

    // MARK: rows

    func fetch(_ c: Connection, _ namespace: String, _ digest: Digest) throws -> ContentInfo {
        guard let row = try c.query("SELECT digest, size, labels, created_at, updated_at FROM content WHERE namespace = ? AND digest = ?",
                                    [.text(namespace), .text(digest.string)]).first else {
            throw Self.notFound(digest, namespace)
        }
        return try Self.info(row)
    }

    static func info(_ row: [SQLValue]) throws -> ContentInfo {
        ContentInfo(digest: row[0].text ?? "", size: row[1].integer ?? 0, labels: try decode(row[2].text),
                    createdAt: row[3].text ?? "", updatedAt: row[4].text ?? "")
    }

    static func notFound(_ digest: Digest, _ namespace: String) -> BerthError {
        .notFound("content \(digest) not found in namespace \"\(namespace)\"")
    }

    static func encode(_ labels: [String: String]) throws -> String {
        String(decoding: try WireJSON.encode(labels), as: UTF8.self)
    }

    static func decode(_ text: String?) throws -> [String: String] {
        guard let text, !text.isEmpty else { return [:] }
        return try WireJSON.decode([String: String].self, from: Array(text.utf8))
    }

    /// Unlinks the blob when no row refers to it. Caller holds `blobLock`.
    func unlinkBlobIfUnreferencedLocked(_ digest: Digest) throws -> Bool {
        let holders = try db.withConnection { c in
            try c.query("SELECT COUNT(*) FROM content WHERE digest = ?", [.text(digest.string)]).first?.first?.integer ?? 0
        }
        guard holders == 0, Files.exists(path(digest)) else { return false }
        try Files.unlinkIfPresent(path(digest))
        try FileSystem.syncDirectory(blobDirectory)
        return true
    }
}
