import BerthAPI
import BerthDigest
import BerthMetadata
import BerthSystem

/// A row of the `content` table with its namespace, for the garbage collector.
public struct ContentRow: Sendable, Equatable {
    public let namespace: String
    public let info: ContentInfo

    public init(namespace: String, info: ContentInfo) {
        self.namespace = namespace
        self.info = info
    }
}

/// What `ContentStore.check()` found: rows and blobs that do not agree.
public struct ContentCheck: Sendable, Equatable {
    /// Rows whose bytes are missing or of another size on disk. Reads of them fail with
    /// `NotFound`; ingesting the same bytes again repairs them (a commit replaces a
    /// missing or wrongly sized file). Nothing removes these rows on its own: they are
    /// what an operator needs to see (`berthctl content rm` drops one).
    public var damagedRows: [ContentRow] = []
    /// Blobs on disk that no namespace holds: what a crash between a commit's rename
    /// and its row leaves, or a deletion's unlink that did not happen. Harmless;
    /// garbage collection removes them (`removeBlobIfUnreferenced`).
    public var unreferencedBlobs: [Digest] = []

    public var isClean: Bool { damagedRows.isEmpty && unreferencedBlobs.isEmpty }
}

/// What the garbage collector (BerthImages) needs: every row, every blob, and removal
/// of each under the same lock commits take, so a blob being committed is never
/// collected.
extension ContentStore {
    /// Every row of every namespace, by namespace then digest.
    public func allRows() throws -> [ContentRow] {
        try db.withConnection { c in
            try c.query("SELECT namespace, digest, size, labels, created_at, updated_at FROM content ORDER BY namespace, digest").map { row in
                ContentRow(namespace: row[0].text ?? "", info: try Self.info(Array(row.dropFirst())))
            }
        }
    }

    /// Removes `namespace`'s row for `digest` and leaves the bytes (the collector
    /// removes blobs with `removeBlobIfUnreferenced` once it has dropped every row).
    ///
    /// - Returns: whether there was such a row.
    @discardableResult
    public func deleteRow(namespace: String, digest: Digest) throws -> Bool {
        try blobLock.withLock { _ in
            try db.withConnection { c in
                try c.run("DELETE FROM content WHERE namespace = ? AND digest = ?", [.text(namespace), .text(digest.string)])
            } > 0
        }
    }

    /// The digests of the blob files under `blobs/sha256`. Names that are not 64 lowercase
    /// hex digits (nothing Berth writes) are left out, and left alone.
    public func blobsOnDisk() throws -> [Digest] {
        try FileSystem.entries(blobDirectory).compactMap { try? Digest(parsing: "sha256:" + $0) }.sorted()
    }

    /// Unlinks `digest`'s blob if no namespace holds it.
    ///
    /// - Returns: whether a file was removed.
    @discardableResult
    public func removeBlobIfUnreferenced(_ digest: Digest) throws -> Bool {
        try blobLock.withLock { _ in try unlinkBlobIfUnreferencedLocked(digest) }
    }

    /// Compares the rows with the blobs on disk, changing nothing. berthd runs it at
    /// start and logs what it finds; see `ContentCheck` for what each finding means and
    /// who deals with it.
    public func check() throws -> ContentCheck {
        var report = ContentCheck()
        let rows = try allRows()
        var held = Set<String>()
        for row in rows {
            held.insert(row.info.digest)
            guard let digest = try? Digest(parsing: row.info.digest) else {
                report.damagedRows.append(row)
                continue
            }
            if try Files.stat(path(digest))?.size != row.info.size { report.damagedRows.append(row) }
        }
        report.unreferencedBlobs = try blobsOnDisk().filter { !held.contains($0.string) }
        return report
    }
}
