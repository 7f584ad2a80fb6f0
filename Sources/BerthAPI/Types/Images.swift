import BerthOCI

/// An image: a name and the descriptor of its index or manifest in the content store
/// (containerd's `images.Image`).
public struct Image: Codable, Sendable, Equatable {
    /// Normalized reference (`docker.io/library/busybox:latest`) or any other name.
    public var name: String
    public var target: Descriptor
    public var labels: [String: String]
    public var createdAt: String
    public var updatedAt: String

    public init(name: String, target: Descriptor, labels: [String: String] = [:], createdAt: String = "", updatedAt: String = "") {
        self.name = name
        self.target = target
        self.labels = labels
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    enum CodingKeys: String, CodingKey { case name, target, labels, createdAt, updatedAt }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        target = try c.decode(Descriptor.self, forKey: .target)
        labels = try c.decodeIfPresent([String: String].self, forKey: .labels) ?? [:]
        createdAt = try c.decodeIfPresent(String.self, forKey: .createdAt) ?? ""
        updatedAt = try c.decodeIfPresent(String.self, forKey: .updatedAt) ?? ""
    }
}

/// Params of `images.import`. The archive is read by the daemon from `path`: a file,
/// or a FIFO the client writes (berthctl streams a file or stdin through one), so blob
/// bytes never travel in frames.
public struct ImportImagesRequest: Codable, Sendable, Equatable {
    public var namespace: String?
    /// Absolute path of the archive (an OCI layout tar, a docker-save tar, or with
    /// `rootfsTar` a plain tar of a root file system, optionally gzip/zstd-compressed).
    public var path: String
    /// The input is a root file system tar: one layer, a generated config; needs `name`.
    public var rootfsTar: Bool?
    /// The image name for a rootfs tar, or a base name (`repo`) that unnamed images of a
    /// layout get (`repo:<ref.name>` or `repo@digest`).
    public var name: String?
    /// Keep every platform of an index; otherwise only the host's is kept and unpacked.
    public var allPlatforms: Bool?
    /// Unpack the host platform's layers into `snapshotter` (default true).
    public var unpack: Bool?
    public var snapshotter: String?
    /// Labels for the images created.
    public var labels: [String: String]?
    /// Send `images.progress` notifications on this connection while the import runs.
    public var progress: Bool?

    public init(namespace: String? = nil, path: String, rootfsTar: Bool? = nil, name: String? = nil, allPlatforms: Bool? = nil,
                unpack: Bool? = nil, snapshotter: String? = nil, labels: [String: String]? = nil, progress: Bool? = nil) {
        self.progress = progress
        self.namespace = namespace
        self.path = path
        self.rootfsTar = rootfsTar
        self.name = name
        self.allPlatforms = allPlatforms
        self.unpack = unpack
        self.snapshotter = snapshotter
        self.labels = labels
    }
}

/// `images.progress`: a notification berthd sends on the connection of an
/// `images.import` that asked for `progress`, as each stage and each layer finishes.
public struct ImportProgress: Codable, Sendable, Equatable {
    public static let method = "images.progress"

    /// The import's `path`, to tell imports on one connection apart.
    public var path: String
    /// `stored` (the archive is read and its blobs stored), `unpacking` (with
    /// `layersTotal`), then `layer` each time one more layer is applied or reused.
    public var stage: String
    public var bytesRead: Int64
    /// Layers of the host platform's images to unpack, when known.
    public var layersTotal: Int?
    public var layersUnpacked: Int
    public var layersReused: Int

    public init(path: String, stage: String, bytesRead: Int64, layersTotal: Int? = nil, layersUnpacked: Int = 0, layersReused: Int = 0) {
        self.path = path
        self.stage = stage
        self.bytesRead = bytesRead
        self.layersTotal = layersTotal
        self.layersUnpacked = layersUnpacked
        self.layersReused = layersReused
    }
}

public struct ImportImagesResponse: Codable, Sendable, Equatable {
    public var images: [Image]
    /// Archive bytes read.
    public var bytesRead: Int64
    /// Blobs stored (new ones; blobs already present are not counted).
    public var blobsStored: Int
    /// Layers applied into snapshots by this import (layers already unpacked are reused).
    public var layersUnpacked: Int
    public var layersReused: Int
    public init(images: [Image], bytesRead: Int64, blobsStored: Int, layersUnpacked: Int, layersReused: Int) {
        self.images = images
        self.bytesRead = bytesRead
        self.blobsStored = blobsStored
        self.layersUnpacked = layersUnpacked
        self.layersReused = layersReused
    }
}

/// Params of `images.export`: the daemon writes an OCI image layout tar to `path` (a
/// new file or a FIFO the client reads).
public struct ExportImagesRequest: Codable, Sendable, Equatable {
    public var namespace: String?
    public var path: String
    public var names: [String]
    /// Export every platform whose content is present (default: the host's only).
    public var allPlatforms: Bool?
    public init(namespace: String? = nil, path: String, names: [String], allPlatforms: Bool? = nil) {
        self.namespace = namespace
        self.path = path
        self.names = names
        self.allPlatforms = allPlatforms
    }
}

public struct ExportImagesResponse: Codable, Sendable, Equatable {
    public var bytesWritten: Int64
    public var blobs: Int
    public init(bytesWritten: Int64, blobs: Int) {
        self.bytesWritten = bytesWritten
        self.blobs = blobs
    }
}

/// Params of `images.list`: filters `name==…`, `name~=regex`, `labels."k"==v`,
/// `target.digest==…`, `target.mediatype==…` (ORed).
public struct ListImagesRequest: Codable, Sendable, Equatable {
    public var namespace: String?
    public var filters: [String]?
    public init(namespace: String? = nil, filters: [String]? = nil) {
        self.namespace = namespace
        self.filters = filters
    }
}

public struct ListImagesResponse: Codable, Sendable, Equatable {
    public var images: [Image]
    public init(images: [Image]) { self.images = images }
}

/// Params of `images.get`. With `resolve`, the result also carries the platform's
/// manifest and config, the chain of snapshots it unpacks to, and sizes.
public struct GetImageRequest: Codable, Sendable, Equatable {
    public var namespace: String?
    public var name: String
    public var resolve: Bool?
    /// `os/arch[/variant]`; the host's by default.
    public var platform: String?
    public var snapshotter: String?
    public init(namespace: String? = nil, name: String, resolve: Bool? = nil, platform: String? = nil, snapshotter: String? = nil) {
        self.namespace = namespace
        self.name = name
        self.resolve = resolve
        self.platform = platform
        self.snapshotter = snapshotter
    }
}

/// One platform of an image, resolved: what `berthctl run IMAGE` builds a container from.
public struct ResolvedImage: Codable, Sendable, Equatable {
    public var platform: Platform
    public var manifest: Descriptor
    public var config: ImageConfig
    public var configDigest: String
    /// The chain ID of each layer, bottom first; the last names the snapshot a
    /// container's root file system is prepared on (absent for an image without layers).
    public var chainIDs: [String]
    /// Whether every layer is unpacked in the snapshotter asked about.
    public var unpacked: Bool
    /// Bytes of the manifest, config and layers in the content store (compressed).
    public var contentSize: Int64
    /// Bytes used by the image's snapshots (committed layers), when unpacked.
    public var snapshotSize: Int64?

    public init(platform: Platform, manifest: Descriptor, config: ImageConfig, configDigest: String, chainIDs: [String], unpacked: Bool,
                contentSize: Int64, snapshotSize: Int64? = nil) {
        self.platform = platform
        self.manifest = manifest
        self.config = config
        self.configDigest = configDigest
        self.chainIDs = chainIDs
        self.unpacked = unpacked
        self.contentSize = contentSize
        self.snapshotSize = snapshotSize
    }
}

public struct ImageResponse: Codable, Sendable, Equatable {
    public var image: Image
    public var resolved: ResolvedImage?
    public init(image: Image, resolved: ResolvedImage? = nil) {
        self.image = image
        self.resolved = resolved
    }
}

/// Params of `images.delete`; `sync` waits for the garbage collection that follows.
public struct DeleteImageRequest: Codable, Sendable, Equatable {
    public var namespace: String?
    public var name: String
    public var sync: Bool?
    public init(namespace: String? = nil, name: String, sync: Bool? = nil) {
        self.namespace = namespace
        self.name = name
        self.sync = sync
    }
}

/// Params of `images.tag`: a new name for the target of `source`.
public struct TagImageRequest: Codable, Sendable, Equatable {
    public var namespace: String?
    public var source: String
    public var target: String
    /// Replace `target` if it names another image.
    public var force: Bool?
    public init(namespace: String? = nil, source: String, target: String, force: Bool? = nil) {
        self.namespace = namespace
        self.source = source
        self.target = target
        self.force = force
    }
}

/// Params of `images.update`: `updateMask` as `labels`, `labels.<k>` (empty: all labels).
public struct UpdateImageRequest: Codable, Sendable, Equatable {
    public var namespace: String?
    public var name: String
    public var labels: [String: String]
    public var updateMask: [String]?
    public init(namespace: String? = nil, name: String, labels: [String: String], updateMask: [String]? = nil) {
        self.namespace = namespace
        self.name = name
        self.labels = labels
        self.updateMask = updateMask
    }
}

/// Params of `system.gc`.
public struct GCRequest: Codable, Sendable, Equatable {
    /// List what would be removed, and why the rest stays, without removing anything.
    public var dryRun: Bool?
    public init(dryRun: Bool? = nil) { self.dryRun = dryRun }
}

/// An object the collector looked at: `content` (id a digest), `snapshots/<snapshotter>`
/// (id a key), `ingests` (id a ref).
public struct GCResource: Codable, Sendable, Equatable, Hashable {
    public var namespace: String
    public var type: String
    public var id: String
    public init(namespace: String, type: String, id: String) {
        self.namespace = namespace
        self.type = type
        self.id = id
    }
}

/// An object kept, and the chain of references from a root that keeps it
/// (`image docker.io/library/busybox:latest` → `content sha256:…` → …).
public struct GCKept: Codable, Sendable, Equatable {
    public var resource: GCResource
    public var path: [String]
    public init(resource: GCResource, path: [String]) {
        self.resource = resource
        self.path = path
    }
}

public struct GCResponse: Codable, Sendable, Equatable {
    /// Removed (or, in a dry run, what would be).
    public var removed: [GCResource]
    /// With `dryRun`: what stays and why.
    public var kept: [GCKept]?
    /// Blob files on disk that no namespace refers to, removed (or would be).
    public var orphanBlobs: [String]
    public var dryRun: Bool
    public init(removed: [GCResource], kept: [GCKept]? = nil, orphanBlobs: [String] = [], dryRun: Bool) {
        self.removed = removed
        self.kept = kept
        self.orphanBlobs = orphanBlobs
        self.dryRun = dryRun
    }
}
