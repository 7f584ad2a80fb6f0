import BerthAPI
import BerthContent
import BerthOCI
import BerthSnapshots

/// Answers `images.get` with `resolve`: one platform's manifest and config, the chain of
/// snapshots it unpacks to, whether they exist, and what the image occupies.
public struct ImageInspector: Sendable {
    let access: ContentAccess

    public init(content: ContentStore, namespace: String) {
        access = ContentAccess(store: content, namespace: namespace)
    }

    public func resolve(_ image: Image, platform: Platform, snapshotter: any Snapshotter) throws -> ResolvedImage {
        guard let r = try ImageResolver(access: access).resolve(image.target, platform: platform) else {
            throw BerthError.notFound("image \"\(image.name)\" has no manifest for \(platform)")
        }
        let chain = Unpacker.chainIDs(r.config.rootfs.diffIDs)
        var unpacked = true
        var snapshotSize: Int64 = 0
        for id in chain {
            guard let info = try? snapshotter.stat(namespace: access.namespace, key: id), info.kind == .committed else {
                unpacked = false
                break
            }
            snapshotSize += (try? snapshotter.usage(namespace: access.namespace, key: id).size) ?? 0
        }
        let contentSize = r.descriptor.size + r.manifest.config.size + r.manifest.layers.reduce(0) { $0 + $1.size }
        return ResolvedImage(platform: r.platform, manifest: r.descriptor, config: r.config, configDigest: r.configDigest.string,
                             chainIDs: chain, unpacked: unpacked, contentSize: contentSize, snapshotSize: unpacked ? snapshotSize : nil)
    }
}
