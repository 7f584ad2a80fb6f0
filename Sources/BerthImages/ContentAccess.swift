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
        try stream(ref: ref, size: size, digest: digest, skip: {}) { writer in _ = try writer.write(from: fd, count: size) }
    }

    /// Stores the current entry of `reader`, verified against `digest`/`size` when given.
    func store(ref: String, from reader: TarReader, size: Int64?, digest: Digest?) throws -> (info: ContentInfo, new: Bool) {
        try stream(ref: ref, size: size, digest: digest, skip: { try reader.readData { _ in } }) { writer in
            try reader.readData { chunk in try writer.write(chunk) }
        }
    }

    /// One blob through a writer: `fill` writes it, the commit verifies it. A blob the
    /// namespace already has is not written again when its digest is known (`skip`
    /// consumes the input), and otherwise comes back from the commit as `AlreadyExists`,
    /// named by the digest the writer computed.
    private func stream(ref: String, size: Int64?, digest: Digest?, skip: () throws -> Void,
                        fill: (ContentWriter) throws -> Void) throws -> (info: ContentInfo, new: Bool) {
        if let digest, let info = try? store.info(namespace: namespace, digest: digest) {
            try skip()
            return (info, false)
        }
        try? store.abort(namespace: namespace, ref: ref)
        let writer = try store.writer(namespace: namespace, ref: ref, expectedSize: size, expectedDigest: digest)
        do {
            try fill(writer)
            return (try writer.commit(size: size, digest: digest), true)
        } catch let error as BerthError where error.kind == .alreadyExists {
            try? writer.abort()
            guard let known = writer.computedDigest ?? digest, let info = try? store.info(namespace: namespace, digest: known) else { throw error }
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
        try store.readBlob(namespace: namespace, digest: try Self.digest(descriptor.digest), limit: Self.maxDocumentBytes)
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
