#if canImport(Glibc)
import Glibc
#endif
import BerthAPI
import BerthArchive
import BerthContent
import BerthDigest
import BerthOCI

/// Writes images as an OCI image layout tar (`oci-layout`, `index.json`,
/// `blobs/sha256/…`), which skopeo (`oci-archive:`), umoci and containerd read.
///
/// `index.json` lists each image's target with `io.containerd.image.name` (the full
/// name, as containerd's export) and `org.opencontainers.image.ref.name` (its tag, as
/// the layout spec and skopeo expect). Without `allPlatforms` only the host's manifest
/// under an index is written, as containerd does; the index itself is kept as is, so
/// the image keeps its digest.
public struct ImageExporter: Sendable {
    public let images: ImageStore
    public let content: ContentStore

    public init(images: ImageStore, content: ContentStore) {
        self.images = images
        self.content = content
    }

    public struct Exported: Sendable, Equatable {
        public var bytesWritten: Int64
        public var blobs: Int
    }

    public func export(namespace: String, names: [String], allPlatforms: Bool, platform: Platform = .host, to fd: Int32) throws -> Exported {
        guard !names.isEmpty else { throw BerthError.invalidArgument("name at least one image to export") }
        let access = ContentAccess(store: content, namespace: namespace)
        var blobs: [Digest] = []
        var seen: Set<Digest> = []
        var manifests: [Descriptor] = []
        for name in names {
            let image = try images.get(namespace: namespace, name: name)
            try collect(image.target, access: access, allPlatforms: allPlatforms, platform: platform, depth: 0, into: &blobs, seen: &seen)
            var d = image.target
            var annotations = d.annotations ?? [:]
            annotations[ImageAnnotations.containerdImageName] = image.name
            if let tag = (try? ImageReference(parsing: image.name))?.tag { annotations[ImageAnnotations.refName] = tag }
            d.annotations = annotations
            manifests.append(d)
        }
        let writer = try TarWriter(descriptor: fd)
        do {
            try writer.addFile("oci-layout", bytes: try WireJSON.encode(ImageLayoutMarker()))
            try writer.addFile("index.json", bytes: try WireJSON.encode(ImageIndex(manifests: manifests)))
            try writer.addDirectory("blobs")
            try writer.addDirectory("blobs/sha256")
            for digest in blobs {
                let info = try access.info(digest)
                let blob = try access.open(digest)
                defer { close(blob) }
                try writer.addFile("blobs/sha256/" + digest.encoded, from: blob, size: info.size)
            }
            try writer.finish()
        } catch let error as ArchiveError {
            throw BerthError.internal("export: \(error.message)")
        }
        return Exported(bytesWritten: writer.bytesWritten, blobs: blobs.count)
    }

    private func collect(_ d: Descriptor, access: ContentAccess, allPlatforms: Bool, platform: Platform, depth: Int,
                         into blobs: inout [Digest], seen: inout Set<Digest>) throws {
        guard depth <= ImageResolver.maxDepth else { throw BerthError.failedPrecondition("image indexes nest deeper than \(ImageResolver.maxDepth)") }
        let digest = try ContentAccess.digest(d.digest)
        guard seen.insert(digest).inserted else { return }
        blobs.append(digest)
        let resolver = ImageResolver(access: access)
        if MediaType.isIndex(d.mediaType) {
            var any = false
            for child in try resolver.decode(ImageIndex.self, d).manifests {
                let wanted = allPlatforms || child.platform.map { $0.matches(platform) } ?? true
                guard wanted, (try? access.info(ContentAccess.digest(child.digest))) != nil else { continue }
                try collect(child, access: access, allPlatforms: allPlatforms, platform: platform, depth: depth + 1, into: &blobs, seen: &seen)
                any = true
            }
            if !any && depth == 0 { throw BerthError.notFound("\(d.digest): no manifest for \(platform) in the content store") }
        } else if MediaType.isManifest(d.mediaType) {
            let manifest = try resolver.decode(ImageManifest.self, d)
            for blob in [manifest.config] + manifest.layers {
                let b = try ContentAccess.digest(blob.digest)
                guard (try? access.info(b)) != nil else {
                    throw BerthError.failedPrecondition("\(d.digest) refers to \(blob.digest), which is not in the content store")
                }
                if seen.insert(b).inserted { blobs.append(b) }
            }
        }
    }
}
