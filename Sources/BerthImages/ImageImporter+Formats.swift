#if canImport(Glibc)
import Glibc
#endif
import BerthAPI
import BerthArchive
import BerthDigest
import BerthOCI
import BerthSystem

extension ImageImporter {
    /// An image found in an archive, before it is recorded.
    struct Found {
        var name: String
        var target: Descriptor
        var labels: [String: String] = [:]
    }

    /// The second pass: the archive's documents turned into images, with the `gc.ref`
    /// labels that make each image keep what it uses.
    struct Work {
        let access: ContentAccess
        let options: Options
        let track: @Sendable (Digest) throws -> Void
        var found: [Found] = []
        var documentsStored = 0

        init(access: ContentAccess, options: Options, track: @escaping @Sendable (Digest) throws -> Void) {
            self.access = access
            self.options = options
            self.track = track
        }

        // MARK: OCI image layout

        mutating func addLayout(index bytes: [UInt8], baseName: String?) throws {
            let index: ImageIndex
            do { index = try WireJSON.decode(ImageIndex.self, from: bytes) } catch {
                throw BerthError.invalidArgument("index.json is not an OCI image index")
            }
            for d in index.manifests {
                _ = try ContentAccess.digest(d.digest)
                try checkPresent(d, "index.json")
                try walk(d, depth: 0)
                found.append(Found(name: try name(for: d, baseName: baseName), target: d))
            }
        }

        /// Checks and labels what `d` refers to, for the platforms kept.
        private mutating func walk(_ d: Descriptor, depth: Int) throws {
            guard depth <= ImageResolver.maxDepth else { throw BerthError.invalidArgument("image indexes nest deeper than \(ImageResolver.maxDepth)") }
            let resolver = ImageResolver(access: access)
            if MediaType.isIndex(d.mediaType) {
                let index = try resolver.decode(ImageIndex.self, d)
                var labels: [String: String] = [:]
                var kept = 0
                for (i, child) in index.manifests.enumerated() {
                    let wanted = options.allPlatforms || child.platform.map { $0.matches(options.platform) } ?? true
                    guard wanted, MediaType.isIndex(child.mediaType) || MediaType.isManifest(child.mediaType) else { continue }
                    guard (try? access.info(ContentAccess.digest(child.digest))) != nil else {
                        if options.allPlatforms { throw BerthError.invalidArgument("\(d.digest) refers to \(child.digest), which the archive does not contain") }
                        continue
                    }
                    if MediaType.isManifest(child.mediaType), child.platform == nil, !options.allPlatforms {
                        // No platform in the index: the config says which.
                        let manifest = try resolver.decode(ImageManifest.self, child)
                        guard try resolver.decode(ImageConfig.self, manifest.config).platform.matches(options.platform) else { continue }
                    }
                    try walk(child, depth: depth + 1)
                    labels[GCLabels.contentRefPrefix + ".m.\(i)"] = child.digest
                    kept += 1
                }
                if kept == 0, depth == 0 {
                    let have = index.manifests.compactMap(\.platform).map(\.description)
                    throw BerthError.notFound("\(d.digest) has no image for \(options.platform) (it has: \(have.isEmpty ? "none" : have.joined(separator: ", "))); --all-platforms imports all")
                }
                try access.label(try ContentAccess.digest(d.digest), labels)
                return
            }
            guard MediaType.isManifest(d.mediaType) else {
                throw BerthError.invalidArgument("\(d.digest) has media type \(d.mediaType), not an image index or manifest")
            }
            let manifest = try resolver.decode(ImageManifest.self, d)
            try checkPresent(manifest.config, d.digest)
            let config = try resolver.decode(ImageConfig.self, manifest.config)
            guard config.rootfs.diffIDs.count == manifest.layers.count else {
                throw BerthError.invalidArgument("\(d.digest): config lists \(config.rootfs.diffIDs.count) diffIDs for \(manifest.layers.count) layers")
            }
            var labels = [GCLabels.contentRefPrefix + ".config": manifest.config.digest]
            for (i, layer) in manifest.layers.enumerated() {
                try checkPresent(layer, d.digest)
                labels[GCLabels.contentRefPrefix + ".l.\(i)"] = layer.digest
            }
            try access.label(try ContentAccess.digest(d.digest), labels)
        }

        /// The blob `d` names must be in the store with the size `d` says.
        private func checkPresent(_ d: Descriptor, _ from: String) throws {
            let digest = try ContentAccess.digest(d.digest)
            guard let info = try? access.info(digest) else {
                throw BerthError.invalidArgument("\(from) refers to \(d.digest), which the archive does not contain")
            }
            guard info.size == d.size else {
                throw BerthError.invalidArgument("\(from) says \(d.digest) is \(d.size) bytes; the archive's blob is \(info.size)")
            }
        }

        /// containerd's export names an image in `io.containerd.image.name`; skopeo and
        /// others put a tag (or a whole reference) in `org.opencontainers.image.ref.name`.
        private func name(for d: Descriptor, baseName: String?) throws -> String {
            if let full = d.annotations?[ImageAnnotations.containerdImageName] { return (try? ImageReference.normalize(full)) ?? full }
            if let ref = d.annotations?[ImageAnnotations.refName] {
                if let base = baseName, let reference = try? ImageReference(parsing: base), !ref.contains("/"), !ref.contains(":") {
                    return reference.repository + ":" + ref
                }
                if ref.contains("/") || ref.contains(":"), let normalized = try? ImageReference.normalize(ref) { return normalized }
            }
            return unnamed(d.digest, baseName: baseName)
        }

        private func unnamed(_ digest: String, baseName: String?) -> String {
            if let base = baseName, let reference = try? ImageReference(parsing: base) { return reference.repository + "@" + digest }
            return "import-" + String(Timestamp.now().prefix(10)) + "@" + digest
        }

        // MARK: docker save

        struct DockerSaveEntry: Decodable {
            var config: String
            var repoTags: [String]?
            var layers: [String]
            enum CodingKeys: String, CodingKey {
                case config = "Config", repoTags = "RepoTags", layers = "Layers"
            }
        }

        mutating func addDockerSave(manifest bytes: [UInt8], archive: ImportArchive, baseName: String?) throws {
            let entries: [DockerSaveEntry]
            do { entries = try WireJSON.decode([DockerSaveEntry].self, from: bytes) } catch {
                throw BerthError.invalidArgument("manifest.json is not a docker-save manifest")
            }
            for entry in entries {
                let config = try archive.file(entry.config)
                var layers: [Descriptor] = []
                for path in entry.layers {
                    let layer = try archive.file(path)
                    layers.append(Descriptor(mediaType: try layerMediaType(layer.digest, docker: true), digest: layer.digest.string, size: layer.size))
                }
                let manifest = ImageManifest(mediaType: MediaType.dockerManifest,
                                             config: Descriptor(mediaType: MediaType.dockerConfig, digest: config.digest.string, size: config.size),
                                             layers: layers)
                let descriptor = try storeDocument(manifest, mediaType: MediaType.dockerManifest)
                try walk(descriptor, depth: 0)
                let tags = entry.repoTags ?? []
                if tags.isEmpty {
                    found.append(Found(name: baseName ?? unnamed(descriptor.digest, baseName: nil), target: descriptor))
                }
                for tag in tags {
                    found.append(Found(name: try ImageImporter.normalizeName(tag), target: descriptor))
                }
            }
        }

        // MARK: root file system tar

        mutating func addRootfs(layer: Digest, size: Int64, name: String) throws {
            let fd = try access.open(layer)
            defer { close(fd) }
            let diffID: Digest
            do { diffID = try DecompressedDigest.of(file: "/proc/self/fd/\(fd)", limit: options.maxLayerBytes).digest } catch let error as ArchiveError {
                if error.kind == .limitExceeded {
                    throw BerthError(.resourceExhausted, "rootfs tar decompresses to more than \(options.maxLayerBytes) bytes, the most a layer may hold ([images] max_layer_bytes)")
                }
                throw BerthError.invalidArgument("rootfs tar: \(error.message)")
            }
            let now = Timestamp.now()
            let config = ImageConfig(
                created: now, architecture: options.platform.architecture, os: options.platform.os, variant: options.platform.variant,
                config: .init(env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]),
                rootfs: .init(diffIDs: [diffID.string]),
                history: [.init(created: now, createdBy: "berthctl images import --rootfs-tar")])
            let configDescriptor = try storeDocument(config, mediaType: MediaType.ociConfig)
            let manifest = ImageManifest(config: configDescriptor,
                                         layers: [Descriptor(mediaType: try layerMediaType(layer, docker: false), digest: layer.string, size: size)])
            let descriptor = try storeDocument(manifest, mediaType: MediaType.ociManifest)
            try walk(descriptor, depth: 0)
            found.append(Found(name: name, target: descriptor))
        }

        private mutating func storeDocument(_ value: some Encodable, mediaType: String) throws -> Descriptor {
            let bytes = try WireJSON.encode(value)
            let stored = try access.store(ref: "import-doc-" + SHA256.digest(bytes).encoded, bytes: bytes)
            if stored.new { documentsStored += 1 }
            let digest = try ContentAccess.digest(stored.info.digest)
            try track(digest)
            return Descriptor(mediaType: mediaType, digest: digest.string, size: stored.info.size)
        }

        /// The media type of a layer blob, from its first bytes.
        private func layerMediaType(_ digest: Digest, docker: Bool) throws -> String {
            let fd = try access.open(digest)
            defer { close(fd) }
            switch Compression.detect(descriptor: fd) {
            case .gzip: return docker ? MediaType.dockerLayerGzip : MediaType.ociLayerGzip
            case .zstd: return MediaType.ociLayerZstd
            case .none: return docker ? MediaType.dockerLayer : MediaType.ociLayer
            }
        }
    }
}
