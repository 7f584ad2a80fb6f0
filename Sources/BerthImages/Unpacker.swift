#if canImport(Glibc)
import Glibc
#endif
import BerthAPI
import BerthArchive
import BerthContent
import BerthDigest
import BerthEvents
import BerthOCI
import BerthSnapshots

/// Applies an image's layers into a snapshotter, as containerd's unpacker does: layer
/// *n* becomes the committed snapshot named by its chain ID, on the snapshot of layer
/// *n−1*. A chain already committed (by another image sharing those layers) is reused
/// and not applied again.
///
/// Each layer is applied inside an active snapshot `extract-<random> <chainID>`,
/// directly into the directory that snapshot's mount would write to (the overlay's
/// upper directory, or the native copy), by `LayerApplier`, which keeps every write
/// inside that directory and verifies the layer's diffID. On any failure the active
/// snapshot is removed: a half-applied layer is never committed.
public struct Unpacker: Sendable {
    let content: ContentAccess
    let snapshotter: any Snapshotter
    /// Called with every snapshot key created, so the caller's lease protects it.
    let track: @Sendable (String) throws -> Void
    /// Where `/snapshot/prepare`, `/snapshot/commit` and `/snapshot/remove` of the
    /// unpack go, as containerd's snapshot service publishes them during an unpack.
    let events: (any EventPublisher)?
    let maxLayerBytes: Int64
    /// Told after each layer: whether it was applied (true) or reused (false).
    var onLayer: @Sendable (Bool) -> Void = { _ in }

    public struct Result: Sendable, Equatable {
        public var chainIDs: [String]
        public var unpacked: Int
        public var reused: Int
    }

    init(content: ContentAccess, snapshotter: any Snapshotter, events: (any EventPublisher)? = nil,
         maxLayerBytes: Int64 = ApplyLimits().maxUncompressedBytes, track: @escaping @Sendable (String) throws -> Void = { _ in }) {
        self.maxLayerBytes = maxLayerBytes
        self.content = content
        self.snapshotter = snapshotter
        self.events = events
        self.track = track
    }

    /// The chain IDs of `diffIDs` (image-spec `config.md`): the first is the first
    /// diffID, then `sha256(previous + " " + diffID)`.
    public static func chainIDs(_ diffIDs: [String]) -> [String] {
        var out: [String] = []
        for diffID in diffIDs {
            out.append(out.last.map { SHA256.digest(Array(($0 + " " + diffID).utf8)).string } ?? diffID)
        }
        return out
    }

    func unpack(manifest: ImageManifest, config: ImageConfig) throws -> Result {
        let diffIDs = config.rootfs.diffIDs
        guard diffIDs.count == manifest.layers.count else {
            throw BerthError.failedPrecondition("image config lists \(diffIDs.count) diffIDs for \(manifest.layers.count) layers")
        }
        for d in diffIDs { _ = try ContentAccess.digest(d) }
        let chain = Self.chainIDs(diffIDs)
        var result = Result(chainIDs: chain, unpacked: 0, reused: 0)
        for (index, layer) in manifest.layers.enumerated() {
            let chainID = chain[index]
            let parent = index == 0 ? nil : chain[index - 1]
            if let info = try? snapshotter.stat(namespace: content.namespace, key: chainID) {
                guard info.kind == .committed else {
                    throw BerthError.failedPrecondition("snapshot \"\(chainID)\" exists and is \(info.kind.rawValue), not committed: cannot unpack onto it")
                }
                try track(chainID)
                result.reused += 1
                onLayer(false)
                continue
            }
            guard MediaType.isLayer(layer.mediaType) else {
                throw BerthError.failedPrecondition("layer \(index) has media type \(layer.mediaType), not a layer")
            }
            if try apply(layer, diffID: diffIDs[index], chainID: chainID, parent: parent) {
                result.unpacked += 1
                onLayer(true)
            } else {
                result.reused += 1
                onLayer(false)
            }
        }
        return result
    }

    /// Applies one layer and commits it as `chainID`; false when another unpack
    /// committed the same chain first.
    private func apply(_ layer: Descriptor, diffID: String, chainID: String, parent: String?) throws -> Bool {
        let digest = try ContentAccess.digest(layer.digest)
        let key = "extract-\(Self.randomSuffix()) \(chainID)"
        let ns = content.namespace
        let mounts = try snapshotter.prepare(namespace: ns, key: key, parent: parent, labels: [:])
        events?.publish(EventTopics.snapshotPrepare, namespace: ns, SnapshotPrepareEvent(key: key, parent: parent ?? "", snapshotter: snapshotter.name))
        do {
            try track(key)
            let directory = try Self.applyDirectory(mounts)
            let fd = try content.open(digest)
            defer { close(fd) }
            var limits = ApplyLimits()
            limits.maxUncompressedBytes = maxLayerBytes
            let options = ApplyOptions(whiteouts: snapshotter.name == "native" ? .native : .overlay, limits: limits,
                                       expectedDiffID: try ContentAccess.digest(diffID))
            do {
                _ = try LayerApplier.apply(from: fd, into: directory, options: options)
            } catch let error as ArchiveError {
                let kind: ErrorKind = switch error.kind {
                case .io: .internal
                case .limitExceeded: .resourceExhausted
                default: .failedPrecondition
                }
                let hint = error.kind == .limitExceeded ? " ([images] max_layer_bytes)" : ""
                throw BerthError(kind, "layer \(digest): \(error.message)\(hint)")
            }
            do {
                try snapshotter.commit(namespace: content.namespace, name: chainID, key: key, labels: [:])
            } catch let error as BerthError where error.kind == .alreadyExists {
                removeExtract(key)
                // Another unpack committed this chain first: reuse it. An *active*
                // snapshot that happens to have the chain ID as its key is no parent.
                guard (try? snapshotter.stat(namespace: content.namespace, key: chainID))?.kind == .committed else {
                    throw BerthError.failedPrecondition("snapshot \"\(chainID)\" exists and is not committed: cannot unpack onto it")
                }
                try track(chainID)
                return false
            }
            events?.publish(EventTopics.snapshotCommit, namespace: ns, SnapshotCommitEvent(key: key, name: chainID, snapshotter: snapshotter.name))
            try track(chainID)
            return true
        } catch {
            removeExtract(key)
            throw error
        }
    }

    private func removeExtract(_ key: String) {
        guard (try? snapshotter.remove(namespace: content.namespace, key: key)) != nil else { return }
        events?.publish(EventTopics.snapshotRemove, namespace: content.namespace, SnapshotRemoveEvent(key: key, snapshotter: snapshotter.name))
    }

    /// The directory a layer is written into: a bind mount's source, or an overlay's
    /// upper directory (whiteouts then become overlay whiteouts).
    static func applyDirectory(_ mounts: [Mount]) throws -> String {
        guard mounts.count == 1, let m = mounts.first else {
            throw BerthError.failedPrecondition("cannot unpack into \(mounts.count) mounts")
        }
        if m.type == "bind" { return m.source }
        if m.type == "overlay", let upper = m.options.first(where: { $0.hasPrefix("upperdir=") }) {
            return String(upper.dropFirst("upperdir=".count))
        }
        throw BerthError.failedPrecondition("cannot unpack into a \(m.type) mount without an upper directory")
    }

    static func randomSuffix() -> String {
        let n = UInt64.random(in: .min ... .max)
        let hex = String(n, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
