import BerthAPI
import BerthDigest
import BerthSystem
#if canImport(Glibc)
import Glibc
#endif

/// A write in progress (containerd's `content.Status`).
public struct IngestStatus: Sendable, Equatable {
    public let namespace: String
    public let ref: String
    /// Bytes written so far: where a resumed writer continues.
    public let offset: Int64
    /// The size promised when the ingest was opened, if any.
    public let total: Int64?
    /// The digest promised when the ingest was opened, if any.
    public let expected: Digest?
    /// RFC 3339, when the ingest was first opened.
    public let startedAt: String
    /// RFC 3339, the last write (the data file's modification time).
    public let updatedAt: String
    /// A writer in this process holds it now.
    public let inUse: Bool
}

extension ContentStore {
    /// Opens the ingest `ref` of `namespace` for writing, or resumes it if it exists.
    ///
    /// `writer.offset` is how much an earlier, interrupted writer left: write the rest
    /// from there (the hash is rebuilt by reading those bytes again). `close()` keeps the
    /// ingest for a later resume, `abort()` removes it, `commit` moves it into the store.
    ///
    /// - Parameters:
    ///   - expectedSize, expectedDigest: checked again at commit. Recorded with the
    ///     ingest, so a resumed writer keeps them; a resume that promises different
    ///     ones is `FailedPrecondition`.
    /// - Throws: `Unavailable` when another writer holds `ref` (containerd's "ref
    ///   locked"); `AlreadyExists` when `namespace` already holds `expectedDigest`
    ///   (nothing to write: containerd's answer too, which callers treat as done);
    ///   `InvalidArgument` for an empty ref, a negative size or a bad namespace.
    public func writer(namespace: String, ref: String, expectedSize: Int64? = nil, expectedDigest: Digest? = nil) throws -> ContentWriter {
        try Identifier.validate(namespace, what: "namespace")
        try Self.validate(ref: ref)
        if let expectedSize, expectedSize < 0 {
            throw BerthError.invalidArgument("expected size \(expectedSize) is negative")
        }
        if let expectedDigest, (try? info(namespace: namespace, digest: expectedDigest)) != nil {
            throw BerthError.alreadyExists("content \(expectedDigest) already exists in namespace \"\(namespace)\"")
        }
        let key = Self.ingestKey(namespace, ref)
        try lockIngest(key, ref: ref)
        do {
            return try ContentWriter.open(store: self, namespace: namespace, ref: ref, key: key, directory: ingestPath(key),
                                          expectedSize: expectedSize, expectedDigest: expectedDigest)
        } catch {
            unlockIngest(key)
            throw error
        }
    }

    /// The state of ingest `ref` of `namespace`; `NotFound` when there is none.
    public func status(namespace: String, ref: String) throws -> IngestStatus {
        try Identifier.validate(namespace, what: "namespace")
        try Self.validate(ref: ref)
        let key = Self.ingestKey(namespace, ref)
        guard let status = try readStatus(directory: ingestPath(key)) else {
            throw BerthError.notFound("ingest \"\(ref)\" not found in namespace \"\(namespace)\"")
        }
        return status
    }

    /// Every ingest on disk (of `namespace` when given), by namespace and ref.
    /// Directories that are not ingests of this store are skipped.
    public func listStatuses(namespace: String? = nil) throws -> [IngestStatus] {
        var out: [IngestStatus] = []
        for name in try FileSystem.entries(ingestDirectory) {
            guard let status = try readStatus(directory: ingestDirectory + "/" + name),
                  namespace == nil || status.namespace == namespace else { continue }
            out.append(status)
        }
        return out.sorted { ($0.namespace, $0.ref) < ($1.namespace, $1.ref) }
    }

    /// Removes ingest `ref` of `namespace` and its bytes. `NotFound` when there is none;
    /// `Unavailable` while a writer holds it (that writer aborts with `abort()`).
    public func abort(namespace: String, ref: String) throws {
        try Identifier.validate(namespace, what: "namespace")
        try Self.validate(ref: ref)
        let key = Self.ingestKey(namespace, ref)
        try lockIngest(key, ref: ref)
        defer { unlockIngest(key) }
        let directory = ingestPath(key)
        guard Files.exists(directory) else {
            throw BerthError.notFound("ingest \"\(ref)\" not found in namespace \"\(namespace)\"")
        }
        try Files.removeFlatDirectory(directory)
    }

    /// Removes ingests not written to for `seconds` or more (by the data file's
    /// modification time, so a slow download that still makes progress is kept), except
    /// those a writer holds now. Garbage collection decides the age and which refs
    /// leases protect: it passes those in `keeping` as `namespace/ref`.
    ///
    /// - Returns: what was removed.
    @discardableResult
    public func cleanupIngests(olderThan seconds: Int, keeping: Set<String> = [], now: Int? = nil) throws -> [IngestStatus] {
        let now = now ?? Files.now().seconds
        var removed: [IngestStatus] = []
        for name in try FileSystem.entries(ingestDirectory) {
            let directory = ingestDirectory + "/" + name
            guard let status = try readStatus(directory: directory) else {
                // Not an ingest (no ref file): a crash between mkdir and the first
                // bookkeeping write. Old enough, it goes as well.
                if let st = try Files.stat(directory), now - st.modifiedSeconds >= seconds { try Files.removeFlatDirectory(directory) }
                continue
            }
            let key = Self.ingestKey(status.namespace, status.ref)
            guard !keeping.contains(key) else { continue }
            let modified = try Files.stat(directory + "/data")?.modifiedSeconds ?? 0
            guard now - modified >= seconds else { continue }
            // Skip it if a writer holds it now; otherwise hold it while removing.
            guard (try? lockIngest(key, ref: status.ref)) != nil else { continue }
            defer { unlockIngest(key) }
            try Files.removeFlatDirectory(directory)
            removed.append(status)
        }
        return removed
    }

    // MARK: convenience

    /// Writes everything `fd` has left (or `size` bytes) as one blob and commits it:
    /// what the image importer does for each blob of an archive. On any failure the
    /// ingest is aborted, so nothing is left behind.
    ///
    /// Unlike `commit`, content the namespace already holds is not an error (containerd's
    /// `content.WriteBlob`): its existing info is returned, and nothing is rewritten
    /// when `digest` was given. Use `writer` directly to tell the two apart.
    public func ingest(namespace: String, ref: String, from fd: Int32, size: Int64? = nil, digest: Digest? = nil,
                       labels: [String: String] = [:]) throws -> ContentInfo {
        try ingest(namespace: namespace, ref: ref, size: size, digest: digest, labels: labels) { writer in
            _ = try writer.write(from: fd, count: size)
        }
    }

    /// `ingest(namespace:ref:from:…)` for bytes already in memory (manifests, configs).
    public func ingest(namespace: String, ref: String, bytes: [UInt8], digest: Digest? = nil,
                       labels: [String: String] = [:]) throws -> ContentInfo {
        try ingest(namespace: namespace, ref: ref, size: Int64(bytes.count), digest: digest, labels: labels) { writer in
            try writer.write(bytes)
        }
    }

    private func ingest(namespace: String, ref: String, size: Int64?, digest: Digest?, labels: [String: String],
                        fill: (ContentWriter) throws -> Void) throws -> ContentInfo {
        let writer: ContentWriter
        do {
            writer = try openFresh(namespace: namespace, ref: ref, size: size, digest: digest)
        } catch let error as BerthError where error.kind == .alreadyExists {
            return try info(namespace: namespace, digest: digest!)
        }
        do {
            // A leftover from an earlier failed run is not resumed: the source is read
            // from its start.
            if writer.offset > 0 { try writer.truncate() }
            try fill(writer)
            return try writer.commit(size: size, digest: digest, labels: labels)
        } catch let error as BerthError where error.kind == .alreadyExists {
            // The namespace already held these bytes: commit discarded the ingest.
            guard let computed = writer.computedDigest else { throw error }
            return try info(namespace: namespace, digest: computed)
        } catch {
            try? writer.abort()
            throw error
        }
    }

    /// A writer for `ref`; a leftover ingest of that ref that promised other bytes (an
    /// earlier, abandoned run) is aborted first, since this call starts from scratch.
    private func openFresh(namespace: String, ref: String, size: Int64?, digest: Digest?) throws -> ContentWriter {
        do {
            return try writer(namespace: namespace, ref: ref, expectedSize: size, expectedDigest: digest)
        } catch let error as BerthError where error.kind == .failedPrecondition {
            try abort(namespace: namespace, ref: ref)
            return try writer(namespace: namespace, ref: ref, expectedSize: size, expectedDigest: digest)
        }
    }

    // MARK: internals

    /// The key an ingest is locked and stored by: refs are per namespace, as
    /// containerd's metadata store prefixes them.
    static func ingestKey(_ namespace: String, _ ref: String) -> String {
        namespace + "/" + ref
    }

    func ingestPath(_ key: String) -> String {
        ingestDirectory + "/" + SHA256.digest(Array(key.utf8)).encoded
    }

    /// A ref is any string of 1 to 1024 bytes without NUL: it names a directory only
    /// through its hash.
    static func validate(ref: String) throws {
        if ref.isEmpty { throw BerthError.invalidArgument("ingest ref must not be empty") }
        if ref.utf8.count > 1024 { throw BerthError.invalidArgument("ingest ref \"\(ref.prefix(20))…\" is longer than 1024 bytes") }
        if ref.utf8.contains(0) { throw BerthError.invalidArgument("ingest ref must not contain NUL") }
    }

    func lockIngest(_ key: String, ref: String) throws {
        let taken = ingestsInUse.withLock { !$0.insert(key).inserted }
        if taken { throw BerthError.unavailable("ingest ref \"\(ref)\" is locked: another writer is using it") }
    }

    func unlockIngest(_ key: String) {
        _ = ingestsInUse.withLock { $0.remove(key) }
    }

    func readStatus(directory: String) throws -> IngestStatus? {
        guard let ref = try Files.readText(directory + "/ref"), let namespace = try Files.readText(directory + "/namespace") else { return nil }
        let data = try Files.stat(directory + "/data")
        let total = try Files.readText(directory + "/total").flatMap { Int64($0) }
        let expected = try Files.readText(directory + "/expected").flatMap { try? Digest(parsing: $0) }
        let key = Self.ingestKey(namespace, ref)
        return IngestStatus(
            namespace: namespace, ref: ref, offset: data?.size ?? 0, total: total, expected: expected,
            startedAt: try Files.readText(directory + "/startedat") ?? "",
            updatedAt: data.map { Timestamp.format(seconds: $0.modifiedSeconds, nanoseconds: $0.modifiedNanoseconds) } ?? "",
            inUse: ingestsInUse.withLock { $0.contains(key) })
    }
}
