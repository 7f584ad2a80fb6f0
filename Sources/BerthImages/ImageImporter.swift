#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
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
import BerthSystem
import Synchronization

/// Imports images from an archive: an OCI image layout tar (skopeo's `oci-archive:`,
/// containerd's export), a docker-save tar, or a plain root file system tar.
///
/// Everything the import writes is held by a lease while it runs, so a garbage
/// collection meanwhile keeps it; when the images are recorded the lease goes and the
/// images' `gc.ref` labels keep what they use. Blobs of the archive that no kept image
/// refers to (other platforms, stray files) are left for the next collection.
public struct ImageImporter: Sendable {
    public let images: ImageStore
    public let content: ContentStore
    public let leases: LeaseStore
    /// Where the unpack's `/snapshot/*` events go (none: not published).
    public let events: (any EventPublisher)?

    public init(images: ImageStore, content: ContentStore, leases: LeaseStore, events: (any EventPublisher)? = nil) {
        self.images = images
        self.content = content
        self.leases = leases
        self.events = events
    }

    public struct Options: Sendable {
        public var namespace: String
        public var rootfsTar: Bool
        public var name: String?
        public var allPlatforms: Bool
        public var platform: Platform
        /// Where to unpack the host platform's layers; nil: do not unpack.
        public var snapshotter: (any Snapshotter)?
        public var labels: [String: String]
        /// Most bytes one layer may decompress to (a bomb past it fails the import).
        public var maxLayerBytes: Int64
        /// Told as the import goes: stage, bytes read, layers (see `ImportProgress`).
        public var progress: (@Sendable (ImportProgress) -> Void)?

        public init(namespace: String, rootfsTar: Bool = false, name: String? = nil, allPlatforms: Bool = false,
                    platform: Platform = .host, snapshotter: (any Snapshotter)? = nil, labels: [String: String] = [:],
                    maxLayerBytes: Int64 = ApplyLimits().maxUncompressedBytes, progress: (@Sendable (ImportProgress) -> Void)? = nil) {
            self.maxLayerBytes = maxLayerBytes
            self.progress = progress
            self.namespace = namespace
            self.rootfsTar = rootfsTar
            self.name = name
            self.allPlatforms = allPlatforms
            self.platform = platform
            self.snapshotter = snapshotter
            self.labels = labels
        }
    }

    public struct Imported: Sendable {
        public var images: [(image: Image, created: Bool)]
        public var bytesRead: Int64
        public var blobsStored: Int
        public var layersUnpacked: Int
        public var layersReused: Int
    }

    /// Imports the archive read from `fd` (to its end).
    public func importArchive(from fd: Int32, options: Options) throws -> Imported {
        let access = ContentAccess(store: content, namespace: options.namespace)
        if options.rootfsTar, options.name == nil {
            throw BerthError.invalidArgument("a rootfs tar import needs a name for the image")
        }
        let fixedName = try options.name.map { try Self.normalizeName($0) }
        let lease = try leases.create(namespace: options.namespace, id: "import-" + Unpacker.randomSuffix(),
                                      labels: [GCLabels.expire: Self.inOneDay()])
        defer { try? leases.delete(namespace: options.namespace, id: lease.id) }
        let track: @Sendable (Digest) throws -> Void = { digest in
            try leases.addResource(namespace: options.namespace, id: lease.id, resource: LeaseResource(id: digest.string, type: "content"))
        }
        // The import's ingests are named after its lease: `import-<random>/<entry>`.
        let refPrefix = lease.id + "/"

        var work = Work(access: access, options: options, track: track)
        var bytesRead: Int64 = 0
        var blobsStored = 0
        if options.rootfsTar {
            let stored = try access.store(ref: refPrefix + "rootfs", from: fd, size: nil, digest: nil)
            bytesRead = stored.info.size
            blobsStored = stored.new ? 1 : 0
            let layerDigest = try ContentAccess.digest(stored.info.digest)
            try track(layerDigest)
            options.progress?(ImportProgress(path: "", stage: "stored", bytesRead: bytesRead))
            try work.addRootfs(layer: layerDigest, size: stored.info.size, name: fixedName!)
        } else {
            let archive = try ImportArchive.read(from: fd, content: access, refPrefix: refPrefix, track: track)
            bytesRead = archive.bytesRead
            blobsStored = archive.blobsStored
            options.progress?(ImportProgress(path: "", stage: "stored", bytesRead: bytesRead))
            if let index = archive.documents["index.json"] {
                try work.addLayout(index: index, baseName: fixedName)
            } else if let manifest = archive.documents["manifest.json"] {
                try work.addDockerSave(manifest: manifest, archive: archive, baseName: fixedName)
            } else {
                throw BerthError.invalidArgument("the archive is neither an OCI image layout (no index.json) nor a docker-save tar (no manifest.json); for a root file system tar use --rootfs-tar")
            }
        }
        guard !work.found.isEmpty else { throw BerthError.invalidArgument("the archive holds no image") }

        // Unpack the host platform of each image before recording it, so that an image
        // that is listed can be run.
        var unpacked = 0
        var reused = 0
        if let snapshotter = options.snapshotter {
            var done: Set<String> = []
            var plan: [ImageResolver.Resolved] = []
            for found in work.found where done.insert(found.target.digest).inserted {
                if let resolved = try ImageResolver(access: access).resolve(found.target, platform: options.platform, required: false) {
                    plan.append(resolved)
                }
            }
            let total = plan.reduce(0) { $0 + $1.manifest.layers.count }
            let counts = LayerCounts()
            let report = options.progress
            report?(ImportProgress(path: "", stage: "unpacking", bytesRead: bytesRead, layersTotal: total))
            for resolved in plan {
                var unpacker = Unpacker(content: access, snapshotter: snapshotter, events: events, maxLayerBytes: options.maxLayerBytes) { key in
                    try leases.addResource(namespace: options.namespace, id: lease.id, resource: LeaseResource(id: key, type: "snapshots/" + snapshotter.name))
                }
                let read = bytesRead
                unpacker.onLayer = { applied in
                    let (u, r) = counts.add(applied)
                    report?(ImportProgress(path: "", stage: "layer", bytesRead: read, layersTotal: total, layersUnpacked: u, layersReused: r))
                }
                let result = try unpacker.unpack(manifest: resolved.manifest, config: resolved.config)
                unpacked += result.unpacked
                reused += result.reused
                if let top = result.chainIDs.last {
                    try access.label(resolved.configDigest, [GCLabels.snapshotRefPrefix + snapshotter.name: top])
                }
            }
        }
        var recorded: [(Image, Bool)] = []
        for found in work.found {
            var labels = options.labels
            labels.merge(found.labels) { mine, _ in mine }
            let stored = try images.put(namespace: options.namespace, Image(name: found.name, target: found.target, labels: labels), replace: true)
            recorded.append((stored.image, stored.created))
        }
        return Imported(images: recorded, bytesRead: bytesRead, blobsStored: blobsStored + work.documentsStored,
                        layersUnpacked: unpacked, layersReused: reused)
    }

    /// `name` normalized as a reference (`busybox` → `docker.io/library/busybox:latest`).
    public static func normalizeName(_ name: String) throws -> String {
        do { return try ImageReference.normalize(name) } catch { throw BerthError.invalidArgument(error.description) }
    }

    static func inOneDay() -> String { RFC3339.format(seconds: RFC3339.now() + 86400) }
}

/// Layers applied and reused so far, counted from the unpacker's callbacks.
final class LayerCounts: Sendable {
    private let counts = Mutex((unpacked: 0, reused: 0))

    func add(_ applied: Bool) -> (unpacked: Int, reused: Int) {
        counts.withLock { c in
            if applied { c.unpacked += 1 } else { c.reused += 1 }
            return c
        }
    }
}
