import BerthAPI
import BerthArchive
import BerthContent
import BerthDigest
@testable import BerthImages
import BerthOCI
import BerthSnapshots
import Foundation
import Testing

/// Importing the three archive kinds, unpacking them into both snapshotters, and the
/// archives an import must refuse without leaving anything behind.
@Suite("image import", .serialized, .timeLimit(.minutes(2)))
struct ImportTests {
    enum Which: String, CaseIterable, Sendable { case overlayfs, native }

    /// Three layers (gzip, zstd, plain); the upper two white out a file, make `opq/`
    /// opaque, and replace a file.
    static func whiteoutLayers() throws -> [Layer] {
        [
            try Layer.make(["base.txt": "base", "a/keep.txt": "keep1", "a/gone.txt": "gone", "opq/old1.txt": "old",
                            "opq/sub/old2.txt": "old2"], compression: .gzip),
            try Layer.make(["a/.wh.gone.txt": "", "opq/.wh..wh..opq": "", "opq/new.txt": "new", "two.txt": "2"], compression: .zstd),
            try Layer.make([".wh.base.txt": "", "a/keep.txt": "keep3", "three.txt": "3"], compression: .none),
        ]
    }

    @Test("an OCI layout with gzip, zstd and plain layers, whiteouts and an opaque dir unpacks to the merged tree", arguments: Which.allCases)
    func layoutWithWhiteouts(_ which: Which) throws {
        try withFixture { f in
            let snapshotter = which == .overlayfs ? f.overlay : f.native
            let layers = try Self.whiteoutLayers()
            let builder = try ArchiveBuilder()
            let manifest = try builder.image(layers)
            try builder.layout([(manifest, "example.com/test/three:1")])
            let tar = f.directory + "/three.tar"
            try builder.tar(to: tar)

            let result = try f.importFile(tar, snapshotter: snapshotter)
            #expect(result.images.map(\.image.name) == ["example.com/test/three:1"])
            #expect(result.images.first?.image.target.digest == manifest.digest)
            #expect(result.layersUnpacked == 3 && result.layersReused == 0)
            let chain = Unpacker.chainIDs(layers.map(\.diffID.string))
            let committed = try f.snapshots(snapshotter).filter { $0.kind == .committed }.map(\.name)
            #expect(Set(committed) == Set(chain))
            #expect(try f.snapshots(snapshotter).allSatisfy { !$0.name.hasPrefix("extract-") })

            try f.withView(snapshotter, of: chain[2]) { root in
                #expect(listing(root) == ["a", "opq", "three.txt", "two.txt"])
                #expect(listing(root + "/a") == ["keep.txt"])
                #expect(text(root + "/a/keep.txt") == "keep3")
                #expect(listing(root + "/opq") == ["new.txt"])
            }
            try f.withView(snapshotter, of: chain[0]) { root in
                #expect(listing(root) == ["a", "base.txt", "opq"])
                #expect(listing(root + "/opq/sub") == ["old2.txt"])
            }
            // The config names the top snapshot for GC.
            let config = try f.content.info(namespace: f.namespace, digest: try Digest(parsing: try Self.configDigest(f, manifest)))
            #expect(config.labels[GCLabels.snapshotRefPrefix + which.rawValue] == chain[2])
        }
    }

    static func configDigest(_ f: ImageFixture, _ manifest: Descriptor) throws -> String {
        let bytes = try f.content.readBlob(namespace: f.namespace, digest: try Digest(parsing: manifest.digest))
        return try JSONDecoder().decode(ImageManifest.self, from: Data(bytes)).config.digest
    }

    @Test("a docker-save tar: RepoTags name the images, a symlinked layer.tar is followed, a shared layer is reused")
    func dockerSave() throws {
        try withFixture { f in
            let l1 = try Layer.make(["bin/": "", "etc/hostname": "one"], docker: true)
            let l2 = try Layer.make(["etc/hostname": "two", "two": "2"], docker: true)
            let builder = try ArchiveBuilder()
            let config1 = try json(ArchiveBuilder.config([l1, l2]))
            let config2 = try json(ArchiveBuilder.config([l1]))
            let c1 = SHA256.digest(config1).encoded, c2 = SHA256.digest(config2).encoded
            try builder.write(c1 + ".json", config1)
            try builder.write(c2 + ".json", config2)
            try builder.write("l1/layer.tar", l1.blob)
            try builder.write("l2/layer.tar", l2.blob)
            try FileManager.default.createDirectory(atPath: builder.directory + "/l3", withIntermediateDirectories: true)
            try FileManager.default.createSymbolicLink(atPath: builder.directory + "/l3/layer.tar", withDestinationPath: "../l1/layer.tar")
            let manifest = """
                [{"Config":"\(c1).json","RepoTags":["foo/bar:1","foo/bar:latest"],"Layers":["l1/layer.tar","l2/layer.tar"]},
                 {"Config":"\(c2).json","RepoTags":["other:2"],"Layers":["l3/layer.tar"]}]
                """
            try builder.write("manifest.json", Array(manifest.utf8))
            try builder.write("repositories", Array(#"{"foo/bar":{"1":"l2"}}"#.utf8))
            try FileManager.default.removeItem(atPath: builder.directory + "/blobs")
            let tar = f.directory + "/save.tar"
            try builder.tar(to: tar)

            let result = try f.importFile(tar, snapshotter: f.overlay)
            let names = result.images.map(\.image.name)
            #expect(names == ["docker.io/foo/bar:1", "docker.io/foo/bar:latest", "docker.io/library/other:2"])
            #expect(result.images[0].image.target == result.images[1].image.target)
            #expect(result.images.allSatisfy { $0.image.target.mediaType == MediaType.dockerManifest })
            #expect(result.layersUnpacked == 2 && result.layersReused == 1)
            let chain = Unpacker.chainIDs([l1.diffID.string, l2.diffID.string])
            try f.withView(f.overlay, of: chain[1]) { root in
                #expect(text(root + "/etc/hostname") == "two")
                #expect(FileManager.default.fileExists(atPath: root + "/two"))
            }
            // The image found by its familiar name.
            #expect(try f.images.get(namespace: f.namespace, name: "other:2").name == "docker.io/library/other:2")
        }
    }

    @Test("a rootfs tar becomes a one-layer image for the host platform")
    func rootfsTar() throws {
        try withFixture { f in
            let layer = try Layer.make(["etc/os-release": "ID=test\n", "bin/": ""], compression: .gzip)
            let tar = f.directory + "/rootfs.tar.gz"
            try writeBytes(tar, layer.blob)
            let result = try f.importFile(tar, snapshotter: f.overlay, rootfsTar: true, name: "bb")
            #expect(result.images.map(\.image.name) == ["docker.io/library/bb:latest"])
            #expect(result.layersUnpacked == 1)
            let resolved = try ImageInspector(content: f.content, namespace: f.namespace)
                .resolve(result.images[0].image, platform: .host, snapshotter: f.overlay)
            #expect(resolved.config.rootfs.diffIDs == [layer.diffID.string])
            #expect(resolved.platform == .host && resolved.unpacked)
            #expect(resolved.chainIDs == [layer.diffID.string])
            try f.withView(f.overlay, of: layer.diffID.string) { root in
                #expect(text(root + "/etc/os-release") == "ID=test\n")
            }
            // Without a name it is refused before anything is stored.
            #expect { try f.importFile(tar, rootfsTar: true) } throws: { kind($0) == .invalidArgument }
        }
    }

    /// An index.json naming a multi-platform index of the host's manifest and another's.
    static func multiPlatform(_ f: ImageFixture) throws -> (tar: String, host: [String], other: [String]) {
        let hostLayer = try Layer.make(["host": "h"], compression: .gzip)
        let otherLayer = try Layer.make(["other": "o"], compression: .gzip)
        let builder = try ArchiveBuilder()
        let host = try builder.image([hostLayer], platform: .host)
        let otherConfig = ArchiveBuilder.config([otherLayer], platform: otherPlatform)
        let other = try builder.image([otherLayer], config: otherConfig, platform: otherPlatform)
        let index = try builder.blob(try json(ImageIndex(manifests: [host, other])), MediaType.ociIndex)
        try builder.layout([(index, "example.com/multi:1")])
        let tar = f.directory + "/multi-\(UInt32.random(in: 0 ... .max)).tar"
        try builder.tar(to: tar)
        let otherConfigDigest = SHA256.digest(try json(otherConfig)).string
        return (tar, [index.digest, host.digest, hostLayer.digest.string],
                [other.digest, otherLayer.digest.string, otherConfigDigest])
    }

    @Test("a multi-platform index keeps the host platform only; after GC the other platform's blobs are gone")
    func multiPlatformHostOnly() throws {
        try withFixture { f in
            let (tar, host, other) = try Self.multiPlatform(f)
            let result = try f.importFile(tar, snapshotter: f.overlay)
            #expect(result.layersUnpacked == 1)
            #expect(other.allSatisfy(f.hasBlob), "the archive's blobs are stored during the import")
            _ = try f.collector.collect(dryRun: false)
            #expect(host.allSatisfy(f.hasBlob))
            #expect(!other.contains(where: f.hasBlob), "\(other) still in \(f.blobFiles())")
            #expect(try f.images.get(namespace: f.namespace, name: "example.com/multi:1").target.mediaType == MediaType.ociIndex)
        }
    }

    @Test("allPlatforms keeps every platform through GC, and unpacks only the host's")
    func multiPlatformAll() throws {
        try withFixture { f in
            let (tar, host, other) = try Self.multiPlatform(f)
            let result = try f.importFile(tar, snapshotter: f.overlay, allPlatforms: true)
            #expect(result.layersUnpacked == 1)
            _ = try f.collector.collect(dryRun: false)
            #expect((host + other).allSatisfy(f.hasBlob))
            #expect(try f.snapshots(f.overlay).count == 1)
        }
    }

    @Test("a layer whose diffID in the config is wrong fails the import: FailedPrecondition, no snapshot for it, no extract-* left, no image")
    func wrongDiffID() throws {
        try withFixture { f in
            let l1 = try Layer.make(["one": "1"], compression: .gzip)
            let l2 = try Layer.make(["two": "2"], compression: .zstd)
            let wrong = SHA256.digest(Array("not this layer".utf8)).string
            let diffIDs = [l1.diffID.string, wrong]
            let builder = try ArchiveBuilder()
            let manifest = try builder.image([l1, l2], config: ArchiveBuilder.config([l1, l2], diffIDs: diffIDs))
            try builder.layout([(manifest, "example.com/bad:1")])
            let tar = f.directory + "/bad.tar"
            try builder.tar(to: tar)
            for s in [f.overlay, f.native] {
                #expect { try f.importFile(tar, snapshotter: s) } throws: { error in
                    kind(error) == .failedPrecondition && "\(error)".contains(l2.digest.string)
                }
                let names = try f.snapshots(s).map(\.name)
                #expect(!names.contains(Unpacker.chainIDs(diffIDs)[1]), "\(names)")
                #expect(!names.contains { $0.hasPrefix("extract-") }, "\(names)")
                #expect(try f.images.list(namespace: f.namespace).isEmpty)
                #expect(try f.leases.list(namespace: f.namespace).isEmpty, "the import's lease is gone")
            }
            // Nothing refers to what the failed imports stored: GC takes it all.
            _ = try f.collector.collect(dryRun: false)
            #expect(f.blobFiles().isEmpty)
            #expect(try f.snapshots(f.overlay).isEmpty && f.snapshots(f.native).isEmpty)
        }
    }

    @Test("a blob whose bytes do not match its name is refused and not stored")
    func blobDigestMismatch() throws {
        try withFixture { f in
            let claimed = Array("the bytes the name promises".utf8)
            let actual = Array("other bytes entirely".utf8)
            let builder = try ArchiveBuilder()
            try builder.write("blobs/sha256/" + SHA256.digest(claimed).encoded, actual)
            try builder.layout([])
            let tar = f.directory + "/liar.tar"
            try builder.tar(to: tar)
            #expect(throws: BerthError.self) { try f.importFile(tar) }
            #expect(f.blobFiles().isEmpty, "\(f.blobFiles())")
            #expect(f.ingests().isEmpty, "\(f.ingests())")
            #expect(try f.content.list(namespace: f.namespace).isEmpty)
        }
    }

    @Test("an index.json over the 20 MiB document limit is refused")
    func indexOverLimit() throws {
        try withFixture { f in
            let builder = try ArchiveBuilder()
            var index = Array(#"{"schemaVersion":2,"manifests":[]}"#.utf8)
            index += [UInt8](repeating: 0x20, count: ContentAccess.maxDocumentBytes + 1 - index.count)
            try builder.write("index.json", index)
            let tar = f.directory + "/huge.tar"
            try builder.tar(to: tar)
            #expect { try f.importFile(tar) } throws: { error in
                kind(error) == .invalidArgument && "\(error)".contains("limit")
            }
            #expect(f.ingests().isEmpty)
        }
    }

    @Test("a layout without images, and a tar that is neither layout nor docker-save, are refused")
    func noImages() throws {
        try withFixture { f in
            let builder = try ArchiveBuilder()
            try builder.layout([])
            let empty = f.directory + "/empty.tar"
            try builder.tar(to: empty)
            #expect { try f.importFile(empty) } throws: { kind($0) == .invalidArgument && "\($0)".contains("no image") }
            let plain = f.directory + "/plain.tar"
            try writeBytes(plain, try Layer.make(["x": "y"]).blob)
            #expect { try f.importFile(plain) } throws: { kind($0) == .invalidArgument && "\($0)".contains("--rootfs-tar") }
        }
    }

    @Test("random bytes are refused as not an archive (TarReader used to double-free when libarchive could not open them)")
    func randomBytes() throws {
        try withFixture { f in
            let path = f.directory + "/random.bin"
            try writeBytes(path, (0..<65536).map { _ in UInt8.random(in: 0 ... 255) })
            #expect { try f.importFile(path) } throws: { kind($0) == .invalidArgument && "\($0)".contains("not a readable archive") }
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            defer { close(fd) }
            #expect(throws: ArchiveError.self) { _ = try TarReader(descriptor: fd) }
            #expect(throws: ArchiveError.self) { _ = try TarWriter(descriptor: -1) }
            #expect(f.ingests().isEmpty && f.blobFiles().isEmpty)
        }
    }

    @Test("labels are updated on the image found by its familiar name, as get and delete find it")
    func updateByFamiliarName() throws {
        try withFixture { f in
            let layer = try Layer.make(["x": "x"])
            let tar = f.directory + "/x.tar"
            try writeBytes(tar, layer.blob)
            try f.importFile(tar, rootfsTar: true, name: "x")
            let updated = try f.images.update(namespace: f.namespace, name: "x", labels: ["team": "blue"], mask: ["labels.team"])
            #expect(updated.name == "docker.io/library/x:latest" && updated.labels == ["team": "blue"])
            #expect(try f.images.get(namespace: f.namespace, name: "docker.io/library/x:latest").labels == ["team": "blue"])
            #expect { try f.images.update(namespace: f.namespace, name: "y", labels: [:], mask: []) } throws: { kind($0) == .notFound }
        }
    }

    @Test("archives that lie are refused: a .. entry, a blob name that is no digest, a missing layer, a wrong size")
    func lyingArchives() throws {
        try withFixture { f in
            let layer = try Layer.make(["x": "x"])
            func refused(_ name: String, _ message: String, append entry: String? = nil,
                         _ edit: (ArchiveBuilder, Descriptor) throws -> Void) throws {
                let builder = try ArchiveBuilder()
                let manifest = try builder.image([layer])
                try edit(builder, manifest)
                let tar = f.directory + "/\(name).tar"
                try builder.tar(to: tar)
                if let entry {
                    // GNU tar keeps a name it is told to write verbatim (-P).
                    try sh(#"cd "$1" && echo x > e && tar -P --transform "s,^e,$3," -rf "$2" e && rm e"#, f.directory, tar, entry)
                }
                #expect { try f.importFile(tar, snapshotter: f.overlay) } throws: { error in
                    kind(error) == .invalidArgument && "\(error)".contains(message)
                }
            }
            // First: a blob the store already has need not be in the archive (as containerd).
            try refused("missing", "does not contain") { b, m in
                try FileManager.default.removeItem(atPath: b.directory + "/blobs/sha256/" + layer.digest.encoded)
                try b.layout([(m, "example.com/x:1")])
            }
            try refused("dotdot", "has a .. component", append: "blobs/../../evil") { b, m in
                try b.layout([(m, "example.com/x:1")])
            }
            try refused("nothex", "blobs/sha256/<64 hex>") { b, m in
                try b.write("blobs/sha256/nothex", [1, 2, 3])
                try b.layout([(m, "example.com/x:1")])
            }
            try refused("size", "bytes") { b, m in
                var wrong = m
                wrong.size += 1
                try b.layout([(wrong, "example.com/x:1")])
            }
            #expect(try f.images.list(namespace: f.namespace).isEmpty)
            #expect(try f.snapshots(f.overlay).isEmpty)
            #expect(f.ingests().isEmpty)
        }
    }
}
