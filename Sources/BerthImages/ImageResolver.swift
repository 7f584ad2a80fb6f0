import BerthAPI
import BerthDigest
import BerthOCI

/// Finds the manifest of one platform under an image's target (walking indexes) and
/// reads its manifest and config, each within the document size limit.
struct ImageResolver {
    let access: ContentAccess

    struct Resolved {
        var descriptor: Descriptor
        var manifest: ImageManifest
        var config: ImageConfig
        var configDigest: Digest
        var platform: Platform
    }

    /// Indexes nest at most this deep (an index of indexes of manifests is 2).
    static let maxDepth = 8

    /// The manifest of `platform` under `target`; nil (or NotFound when `required`)
    /// when the image has none.
    func resolve(_ target: Descriptor, platform: Platform, required: Bool = true) throws -> Resolved? {
        if let found = try find(target, platform: platform, depth: 0) { return found }
        guard required else { return nil }
        throw BerthError.notFound("image has no manifest for \(platform) (it has: \(try platforms(target).map(\.description).joined(separator: ", ")))")
    }

    private func find(_ d: Descriptor, platform: Platform, depth: Int) throws -> Resolved? {
        guard depth <= Self.maxDepth else { throw BerthError.failedPrecondition("image indexes nest deeper than \(Self.maxDepth)") }
        if MediaType.isIndex(d.mediaType) {
            let index = try decode(ImageIndex.self, d)
            for child in index.manifests {
                if let p = child.platform, !p.matches(platform) { continue }
                if MediaType.isManifest(child.mediaType) || MediaType.isIndex(child.mediaType),
                   (try? access.info(ContentAccess.digest(child.digest))) != nil,
                   let found = try find(child, platform: platform, depth: depth + 1) {
                    return found
                }
            }
            return nil
        }
        guard MediaType.isManifest(d.mediaType) else {
            throw BerthError.failedPrecondition("\(d.digest) has media type \(d.mediaType), not an image index or manifest")
        }
        let manifest = try decode(ImageManifest.self, d)
        let configDigest = try ContentAccess.digest(manifest.config.digest)
        let config = try decode(ImageConfig.self, manifest.config)
        guard config.platform.matches(platform) else { return nil }
        return Resolved(descriptor: d, manifest: manifest, config: config, configDigest: configDigest, platform: config.platform)
    }

    /// The platforms present under `target`, for messages.
    func platforms(_ target: Descriptor) throws -> [Platform] {
        if MediaType.isIndex(target.mediaType) {
            return try decode(ImageIndex.self, target).manifests.compactMap(\.platform)
        }
        let manifest = try decode(ImageManifest.self, target)
        return [try decode(ImageConfig.self, manifest.config).platform]
    }

    func decode<T: Decodable>(_ type: T.Type, _ d: Descriptor) throws -> T {
        let bytes = try access.document(d)
        do { return try WireJSON.decode(type, from: bytes) } catch let error as DecodingError {
            throw BerthError.failedPrecondition("\(d.mediaType) \(d.digest): \(WireJSON.describe(error).message)")
        } catch {
            throw BerthError.failedPrecondition("\(d.mediaType) \(d.digest): not valid JSON")
        }
    }
}
