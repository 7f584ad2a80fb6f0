import BerthAPI
import BerthDigest
import BerthSystem
#if canImport(Glibc)
import Glibc
#endif

/// One ingest being written: bytes in, digest computed on the way, then `commit`.
///
/// Get one from `ContentStore.writer`. It holds its ref until `commit`, `close` or
/// `abort` (or deinit, which closes): no other writer in this process can open the
/// same ref meanwhile. Not for concurrent use: one caller at a time.
///
/// How a writer ends, as containerd's:
/// - `commit` succeeds: the bytes are a blob, the ingest is gone.
/// - `commit` finds a size or digest other than promised: `FailedPrecondition`, nothing
///   under `blobs/`, the writer closed and **the ingest left on disk**. Too few bytes is
///   an interrupted transfer: open a writer on the same ref again and finish it.
///   Wrong bytes will never become right: `abort()` (or `ContentStore.abort`) them.
/// - `close()`: the ingest stays for a later writer to resume from `offset`.
/// - `abort()`: the ingest and its bytes are removed.
public final class ContentWriter: @unchecked Sendable {
    public let namespace: String
    public let ref: String
    /// Bytes in the ingest so far, including those an earlier writer left.
    public private(set) var offset: Int64
    /// Promised at open (or by the writer this one resumes); checked at commit.
    public let expectedSize: Int64?
    public let expectedDigest: Digest?

    enum State { case open, closed, done }

    private let store: ContentStore
    private let key: String
    private let directory: String
    private var fd: Int32
    private var hasher: SHA256
    private var state = State.open
    /// The digest of the bytes, once `commit` has computed it.
    public private(set) var computedDigest: Digest?

    private var dataPath: String { directory + "/data" }

    private init(store: ContentStore, namespace: String, ref: String, key: String, directory: String, fd: Int32,
                 hasher: SHA256, expectedSize: Int64?, expectedDigest: Digest?) {
        self.store = store
        self.namespace = namespace
        self.ref = ref
        self.key = key
        self.directory = directory
        self.fd = fd
        self.hasher = hasher
        offset = hasher.count
        self.expectedSize = expectedSize
        self.expectedDigest = expectedDigest
    }

    deinit {
        if state == .open {
            Glibc.close(fd)
            store.unlockIngest(key)
        }
    }

    /// Creates the ingest directory, or resumes the one there. The caller holds the ref.
    static func open(store: ContentStore, namespace: String, ref: String, key: String, directory: String,
                     expectedSize: Int64?, expectedDigest: Digest?) throws -> ContentWriter {
        var size = expectedSize
        var digest = expectedDigest
        if try Files.readText(directory + "/ref") != nil {
            // Resume: the promises recorded at the first open stand.
            let recordedSize = try Files.readText(directory + "/total").flatMap { Int64($0) }
            let recordedDigest = try Files.readText(directory + "/expected").flatMap { try? Digest(parsing: $0) }
            if let recordedSize, let size, recordedSize != size {
                throw BerthError.failedPrecondition("ingest \"\(ref)\" was opened for \(recordedSize) bytes, not \(size)")
            }
            if let recordedDigest, let digest, recordedDigest != digest {
                throw BerthError.failedPrecondition("ingest \"\(ref)\" was opened for \(recordedDigest), not \(digest)")
            }
            if recordedSize == nil, let size { try Files.writeText(directory + "/total", String(size)) }
            if recordedDigest == nil, let digest { try Files.writeText(directory + "/expected", digest.string) }
            size = size ?? recordedSize
            digest = digest ?? recordedDigest
        } else {
            if mkdir(directory, 0o700) != 0 && errno != EEXIST { throw SystemError(errno: errno, stage: "mkdir \(directory)") }
            try Files.writeText(directory + "/namespace", namespace)
            try Files.writeText(directory + "/startedat", Timestamp.now())
            if let size { try Files.writeText(directory + "/total", String(size)) }
            if let digest { try Files.writeText(directory + "/expected", digest.string) }
            // `ref` last: its presence is what makes the directory an ingest.
            try Files.writeText(directory + "/ref", ref)
        }
        // O_APPEND: writes go to the end whatever the file position; reading the bytes
        // already there (to rebuild the hash) uses pread.
        let fd = try Files.open(directory + "/data", O_RDWR | O_CREAT | O_APPEND, mode: 0o644)
        do {
            let hasher = try rehash(fd, path: directory + "/data")
            return ContentWriter(store: store, namespace: namespace, ref: ref, key: key, directory: directory, fd: fd,
                                 hasher: hasher, expectedSize: size, expectedDigest: digest)
        } catch {
            Glibc.close(fd)
            throw error
        }
    }

    /// A hasher fed with the bytes already in the file.
    private static func rehash(_ fd: Int32, path: String) throws -> SHA256 {
        let hasher = SHA256()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        var position: off_t = 0
        while true {
            let n = try retryingEINTR("read \(path)") { pread(fd, buffer.baseAddress, buffer.count, position) }
            if n == 0 { return hasher }
            hasher.update(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            position += off_t(n)
        }
    }

    // MARK: writing

    /// Appends `bytes`.
    public func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }

    /// Appends `bytes`. On a failure (disk full) `offset` and the hash still match what
    /// reached the file, so the ingest stays resumable.
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        try requireOpen()
        var written = 0
        defer {
            hasher.update(UnsafeRawBufferPointer(rebasing: bytes[0..<written]))
            offset += Int64(written)
        }
        try Files.writeAll(fd, bytes, path: dataPath, written: &written)
    }

    /// Copies from `source` until its end, or until `count` bytes when given, in 1 MiB
    /// pieces. Returns how many bytes were copied (fewer than `count` when the source
    /// ended early: `commit` will then refuse the size).
    @discardableResult
    public func write(from source: Int32, count: Int64? = nil) throws -> Int64 {
        try requireOpen()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        var copied: Int64 = 0
        while count.map({ copied < $0 }) ?? true {
            let want = min(buffer.count, Int(clamping: (count ?? Int64.max) - copied))
            let n = try Files.read(source, into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<want]), path: "ingest source")
            if n == 0 { break }
            try write(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            copied += Int64(n)
        }
        return copied
    }

    /// Drops every byte written so far (the ingest restarts at offset 0).
    public func truncate() throws {
        try requireOpen()
        try retryingEINTR("truncate \(dataPath)") { ftruncate(fd, 0) }
        hasher = SHA256()
        offset = 0
    }

    // MARK: ending

    /// Makes the bytes a blob of `namespace` with `labels`, after checking them against
    /// `size` and `digest` (when given) and the expectations given at open.
    ///
    /// - Returns: the new row's info.
    /// - Throws: `FailedPrecondition` on a size or digest mismatch (see the type's doc:
    ///   the ingest is kept, the writer closed); `AlreadyExists` when the namespace
    ///   already holds this digest (the ingest is discarded, the blob and its row are
    ///   as they were); `InvalidArgument` for bad labels (nothing changes, the writer
    ///   stays open).
    public func commit(size: Int64? = nil, digest: Digest? = nil, labels: [String: String] = [:]) throws -> ContentInfo {
        try requireOpen()
        try Labels.validate(labels)
        for (want, what) in [(size, "commit size"), (expectedSize, "expected size")] {
            if let want, want != offset {
                close()
                throw BerthError.failedPrecondition("ingest \"\(ref)\": unexpected commit size \(offset), \(what) \(want)")
            }
        }
        let actual = hasher.finish()
        computedDigest = actual
        for (want, what) in [(digest, "commit digest"), (expectedDigest, "expected digest")] {
            if let want, want != actual {
                close()
                throw BerthError.failedPrecondition("ingest \"\(ref)\": unexpected commit digest \(actual), \(what) \(want)")
            }
        }
        // The bytes are durable before anything can point at them.
        do {
            try retryingEINTR("fsync \(dataPath)") { fsync(fd) }
        } catch {
            close()
            throw error
        }
        Glibc.close(fd)
        state = .done
        defer { store.unlockIngest(key) }
        do {
            let info = try store.commitBlob(namespace: namespace, digest: actual, size: offset,
                                            labels: labels.filter { !$0.value.isEmpty }, data: dataPath)
            try? Files.removeFlatDirectory(directory)
            store.onCommit?(namespace, info)
            return info
        } catch {
            // Renamed into blobs/ (the row failed) or not needed (the namespace has the
            // blob): the ingest has nothing left to give. Otherwise keep it to retry.
            if !Files.exists(dataPath) || (error as? BerthError)?.kind == .alreadyExists {
                try? Files.removeFlatDirectory(directory)
            } else {
                state = .closed
            }
            throw error
        }
    }

    /// Ends this writer and keeps the ingest, for a later writer to resume.
    public func close() {
        guard state == .open else { return }
        _ = fsync(fd)
        Glibc.close(fd)
        state = .closed
        store.unlockIngest(key)
    }

    /// Ends this writer and removes the ingest with its bytes. After a failed commit
    /// too; after a successful one there is nothing left to remove.
    public func abort() throws {
        switch state {
        case .open:
            Glibc.close(fd)
            defer { store.unlockIngest(key) }
            state = .done
            try Files.removeFlatDirectory(directory)
        case .closed:
            state = .done
            do { try store.abort(namespace: namespace, ref: ref) } catch let error as BerthError where error.kind == .notFound {}
        case .done:
            return
        }
    }

    private func requireOpen() throws {
        guard state == .open else { throw BerthError.failedPrecondition("ingest \"\(ref)\": the writer is closed") }
    }
}

extension ContentStore {
    /// Moves a verified, synced data file into `blobs/` (unless the same bytes are
    /// there already) and inserts `namespace`'s row, under the blob lock.
    func commitBlob(namespace: String, digest: Digest, size: Int64, labels: [String: String], data: String) throws -> ContentInfo {
        try namespaces.ensure(namespace)
        return try blobLock.withLock { _ in
            let target = path(digest)
            // Present with the right size: another namespace's, or one whose rows are all
            // gone but that garbage collection has not removed yet. Keep it, drop ours.
            // Absent, or damaged to another size: ours takes its place.
            if try Files.stat(target)?.size != size {
                try retryingEINTR("rename \(data) to \(target)") { rename(data, target) }
                _ = chmod(target, 0o444)
                try FileSystem.syncDirectory(blobDirectory)
            }
            let now = Timestamp.now()
            let info = ContentInfo(digest: digest.string, size: size, labels: labels, createdAt: now, updatedAt: now)
            try db.transaction { c in
                let held = try c.query("SELECT 1 FROM content WHERE namespace = ? AND digest = ?", [.text(namespace), .text(digest.string)])
                if !held.isEmpty {
                    throw BerthError.alreadyExists("content \(digest) already exists in namespace \"\(namespace)\"")
                }
                try c.run("INSERT INTO content (namespace, digest, size, labels, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                          [.text(namespace), .text(digest.string), .integer(size), .text(try Self.encode(labels)), .text(now), .text(now)])
            }
            return info
        }
    }
}
