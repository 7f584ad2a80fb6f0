#if canImport(Glibc)
import Glibc
#endif
import BerthAPI
import BerthArchive
import BerthContent
import BerthDigest
import BerthOCI

/// What images need from the content store, in one place: storing a stream or a
/// document, reading a bounded document back, opening a layer, labelling.
struct ContentAccess: Sendable {
    let store: ContentStore
    let namespace: String

    /// Largest JSON document (index, manifest, config) read from an import or from the
    /// store: containerd CVE-2023-25153 was an unbounded read of one.
    static let maxDocumentBytes = 20 << 20

    /// Stores what `fd` yields (up to EOF), verified against `digest`/`size` when given.
    /// `new` is false when the namespace already had the blob.
    func store(ref: String, from fd: Int32, size: Int64?, digest: Digest?) throws -> (info: ContentInfo, new: Bool) {
        if let digest, let info = try? store.info(namespace: namespace, digest: digest) { return (info, false) }
        try? store.abort(namespace: namespace, ref: ref)
        // Content the namespace already has comes back as its info, not an error.
        let known = Set(try store.list(namespace: namespace).map(\.digest))
        let info = try store.ingest(namespace: namespace, ref: ref, from: fd, size: size, digest: digest)
        return (info, !known.contains(info.digest))
    }

    /// Stores the current entry of `reader`, verified against `digest`/`size` when given.
    func store(ref: String, from reader: TarReader, size: Int64?, digest: Digest?) throws -> (info: ContentInfo, new: Bool) {
        if let digest, let info = try? store.info(namespace: namespace, digest: digest) {
            try reader.readData { _ in }
            return (info, false)
        }
        try? store.abort(namespace: namespace, ref: ref)
        let writer = try store.writer(namespace: namespace, ref: ref, expectedSize: size, expectedDigest: digest)
        // Hashed here too, to know which blob it was when the namespace already has it.
        let hasher = SHA256()
        do {
            try reader.readData { chunk in
                hasher.update(chunk)
                try writer.write(chunk)
            }
            return (try writer.commit(size: size, digest: digest, labels: [:]), true)
        } catch let error as BerthError where error.kind == .alreadyExists {
            try? writer.abort()
            guard let info = try? store.info(namespace: namespace, digest: digest ?? hasher.finish()) else { throw error }
            return (info, false)
        } catch {
            try? writer.abort()
            throw error
        }
    }

    func store(ref: String, bytes: [UInt8]) throws -> (info: ContentInfo, new: Bool) {
        let digest = SHA256.digest(bytes)
        if let info = try? store.info(namespace: namespace, digest: digest) { return (info, false) }
        return (try store.ingest(namespace: namespace, ref: ref, bytes: bytes, digest: digest), true)
    }

    func info(_ digest: Digest) throws -> ContentInfo {
        try store.info(namespace: namespace, digest: digest)
    }

    /// A document's bytes, refusing more than `maxDocumentBytes`.
    func document(_ descriptor: Descriptor) throws -> [UInt8] {
        let digest = try Self.digest(descriptor.digest)
        let info = try info(digest)
        guard info.size <= Int64(Self.maxDocumentBytes) else {
            throw BerthError.failedPrecondition("\(descriptor.mediaType) \(digest) is \(info.size) bytes, more than the \(Self.maxDocumentBytes)-byte limit for documents")
        }
        let fd = try store.openBlob(namespace: namespace, digest: digest)
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: Int(info.size))
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw BerthError.internal("read \(digest): short read") }
            offset += n
        }
        return bytes
    }

    func open(_ digest: Digest) throws -> Int32 {
        try store.openBlob(namespace: namespace, digest: digest)
    }

    /// Sets `labels` on a blob, leaving its other labels alone.
    func label(_ digest: Digest, _ labels: [String: String]) throws {
        guard !labels.isEmpty else { return }
        var info = try info(digest)
        for (k, v) in labels { info.labels[k] = v }
        _ = try store.update(namespace: namespace, info: info, fieldPaths: labels.keys.map { "labels." + $0 })
    }

    static func digest(_ s: String) throws -> Digest {
        do { return try Digest(parsing: s) } catch { throw BerthError.invalidArgument(error.description) }
    }
}
