import BerthAPI
import BerthContent
import BerthDigest
@testable import BerthImages
import BerthOCI
import BerthSnapshots
import Foundation
import Testing

/// Layer reuse across images, export round trips, and label-driven garbage collection
/// with leases and dry runs.
@Suite("image gc and export", .serialized, .timeLimit(.minutes(2)))
struct GCTests {
    /// Two images on one base layer: `a` = base + onlyA, `b` = base + onlyB.
    struct Pair {
        var base: Layer, onlyA: Layer, onlyB: Layer
        var a: Descriptor, b: Descriptor
        var tarA: String, tarB: String
        var chainA: [String] { Unpacker.chainIDs([base.diffID.string, onlyA.diffID.string]) }
        var chainB: [String] { Unpacker.chainIDs([base.diffID.string, onlyB.diffID.string]) }
    }

    static func pair(_ f: ImageFixture) throws -> Pair {
        let base = try Layer.make(["etc/base": "base"], compression: .gzip)
        let onlyA = try Layer.make(["a": "a"], compression: .zstd)
        let onlyB = try Layer.make(["b": "b"])
        let builderA = try ArchiveBuilder()
        let a = try builderA.image([base, onlyA])
        try builderA.layout([(a, "example.com/a:1")])
        try builderA.tar(to: f.directory + "/a.tar")
        let builderB = try ArchiveBuilder()
        let b = try builderB.image([base, onlyB])
        try builderB.layout([(b, "example.com/b:1")])
        try builderB.tar(to: f.directory + "/b.tar")
        return Pair(base: base, onlyA: onlyA, onlyB: onlyB, a: a, b: b, tarA: f.directory + "/a.tar", tarB: f.directory + "/b.tar")
    }

    @Test("a second image on the same base reuses its layer")
    func layersReused() throws {
        try withFixture { f in
            let p = try Self.pair(f)
            let first = try f.importFile(p.tarA, snapshotter: f.overlay)
            #expect(first.layersUnpacked == 2 && first.layersReused == 0)
            let second = try f.importFile(p.tarB, snapshotter: f.overlay)
            #expect(second.layersUnpacked == 1 && second.layersReused == 1)
            let again = try f.importFile(p.tarB, snapshotter: f.overlay)
            #expect(again.layersUnpacked == 0 && again.layersReused == 2)
            #expect(again.images.first?.created == false, "a re-import updates the image")
            #expect(try f.snapshots(f.overlay).count == 3)
        }
    }

    @Test("export then import elsewhere gives the same digests")
    func exportRoundTrip() throws {
        try withFixture { f in
            let p = try Self.pair(f)
            try f.importFile(p.tarA, snapshotter: f.overlay)
            try f.importFile(p.tarB)
            let out = f.directory + "/export.tar"
            let fd = open(out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            let exported = try ImageExporter(images: f.images, content: f.content)
                .export(namespace: f.namespace, names: ["example.com/a:1", "example.com/b:1"], allPlatforms: false, to: fd)
            close(fd)
            #expect(exported.blobs == 2 * 3 + 1, "two manifests, two configs, three layers")
            let entries = try sh(#"tar -tf "$1""#, out).split(separator: "\n").map(String.init)
            #expect(entries.prefix(2) == ["oci-layout", "index.json"])

            try withFixture { g in
                let result = try g.importFile(out, snapshotter: g.native)
                #expect(result.images.map(\.image.name) == ["example.com/a:1", "example.com/b:1"])
                #expect(result.images.map(\.image.target.digest) == [p.a.digest, p.b.digest])
                #expect(g.blobFiles() == f.blobFiles() && g.blobFiles().count == 7)
                #expect(result.layersUnpacked == 3)
            }
        }
    }

    @Test("after an image is deleted GC removes its blobs and snapshots; an image sharing layers keeps them")
    func gcAfterDelete() throws {
        try withFixture { f in
            let p = try Self.pair(f)
            try f.importFile(p.tarA, snapshotter: f.overlay)
            try f.importFile(p.tarB, snapshotter: f.overlay)
            let configA = try ImportTests.configDigest(f, p.a)
            try f.images.delete(namespace: f.namespace, name: "example.com/a:1")
            let result = try f.collector.collect(dryRun: false)
            let removed = Set(result.removed.map(\.id))
            #expect(removed == [p.a.digest, configA, p.onlyA.digest.string, p.chainA[1]], "\(result.removed)")
            for gone in [p.a.digest, configA, p.onlyA.digest.string] { #expect(!f.hasBlob(gone)) }
            for kept in [p.b.digest, p.base.digest.string, p.onlyB.digest.string] { #expect(f.hasBlob(kept)) }
            #expect(Set(try f.snapshots(f.overlay).map(\.name)) == Set(p.chainB))

            try f.images.delete(namespace: f.namespace, name: "example.com/b:1")
            _ = try f.collector.collect(dryRun: false)
            #expect(f.blobFiles().isEmpty)
            #expect(try f.snapshots(f.overlay).isEmpty)
            #expect(try f.content.list(namespace: f.namespace).isEmpty)
        }
    }

    @Test("a lease keeps content GC would otherwise take, until the lease goes")
    func leaseProtects() throws {
        try withFixture { f in
            let p = try Self.pair(f)
            try f.importFile(p.tarA, snapshotter: f.overlay)
            let lease = try f.leases.create(namespace: f.namespace, id: "in-flight")
            let loose = try f.content.ingest(namespace: f.namespace, ref: "loose", bytes: Array("being written".utf8))
            for digest in [p.onlyA.digest.string, loose.digest] {
                try f.leases.addResource(namespace: f.namespace, id: lease.id, resource: LeaseResource(id: digest, type: "content"))
            }
            try f.leases.addResource(namespace: f.namespace, id: lease.id, resource: LeaseResource(id: p.chainA[0], type: "snapshots/overlayfs"))
            try f.images.delete(namespace: f.namespace, name: "example.com/a:1")
            _ = try f.collector.collect(dryRun: false)
            #expect(f.hasBlob(p.onlyA.digest.string) && f.hasBlob(loose.digest))
            #expect(!f.hasBlob(p.a.digest))
            #expect(try f.snapshots(f.overlay).map(\.name) == [p.chainA[0]])

            try f.leases.delete(namespace: f.namespace, id: lease.id)
            _ = try f.collector.collect(dryRun: false)
            #expect(f.blobFiles().isEmpty)
            #expect(try f.snapshots(f.overlay).isEmpty)
        }
    }

    @Test("an expired lease protects nothing")
    func expiredLease() throws {
        try withFixture { f in
            let loose = try f.content.ingest(namespace: f.namespace, ref: "loose", bytes: Array("old".utf8))
            let lease = try f.leases.create(namespace: f.namespace, id: "old", labels: [GCLabels.expire: "2000-01-01T00:00:00Z"])
            try f.leases.addResource(namespace: f.namespace, id: lease.id, resource: LeaseResource(id: loose.digest, type: "content"))
            _ = try f.collector.collect(dryRun: false)
            #expect(!f.hasBlob(loose.digest))
        }
    }

    @Test("a dry run lists what would go and why the rest stays, removing nothing")
    func dryRun() throws {
        try withFixture { f in
            let p = try Self.pair(f)
            try f.importFile(p.tarA, snapshotter: f.overlay)
            try f.importFile(p.tarB, snapshotter: f.overlay)
            let configB = try ImportTests.configDigest(f, p.b)
            try f.images.delete(namespace: f.namespace, name: "example.com/a:1")
            let blobsBefore = f.blobFiles()
            let snapshotsBefore = try f.snapshots(f.overlay).map(\.name)
            let result = try f.collector.collect(dryRun: true)
            #expect(result.dryRun)
            #expect(Set(result.removed.map(\.id)).count == 4)
            #expect(result.removed.contains(GCResource(namespace: f.namespace, type: "snapshots/overlayfs", id: p.chainA[1])))
            #expect(f.blobFiles() == blobsBefore)
            #expect(try f.snapshots(f.overlay).map(\.name) == snapshotsBefore)

            let kept = try #require(result.kept)
            func path(_ id: String) -> [String]? { kept.first { $0.resource.id == id }?.path }
            #expect(path(p.b.digest) == ["image example.com/b:1", "content \(p.b.digest)"])
            #expect(path(p.onlyB.digest.string) == ["image example.com/b:1", "content \(p.b.digest)", "content \(p.onlyB.digest)"])
            // The shared base snapshot: image → manifest → config → top snapshot → its parent.
            #expect(path(p.chainB[0]) == ["image example.com/b:1", "content \(p.b.digest)", "content \(configB)",
                                          "snapshot overlayfs/\(p.chainB[1])", "snapshot overlayfs/\(p.chainB[0])"])
            #expect(result.removed.allSatisfy { r in !kept.contains { $0.resource == r } })
        }
    }

    @Test("gc removes an ingest untouched for a day unless a lease names it, and keeps a fresh one")
    func staleIngests() throws {
        try withFixture { f in
            for ref in ["stale", "leased", "fresh"] {
                let w = try f.content.writer(namespace: f.namespace, ref: ref)
                try w.write(Array("half of a blob".utf8))
                w.close()
            }
            // Age two ingests by their data file's modification time.
            for status in try f.content.listStatuses(namespace: f.namespace) where status.ref != "fresh" {
                for entry in f.ingests() {
                    let data = f.contentRoot + "/ingest/" + entry + "/data"
                    let ref = text(f.contentRoot + "/ingest/" + entry + "/ref")
                    guard ref == status.ref else { continue }
                    var times = [timespec(tv_sec: time(nil) - 2 * 86400, tv_nsec: 0), timespec(tv_sec: time(nil) - 2 * 86400, tv_nsec: 0)]
                    #expect(utimensat(AT_FDCWD, data, &times, 0) == 0)
                }
            }
            let lease = try f.leases.create(namespace: f.namespace)
            try f.leases.addResource(namespace: f.namespace, id: lease.id, resource: LeaseResource(id: "leased", type: "ingests"))
            let result = try f.collector.collect(dryRun: false)
            #expect(result.removed.filter { $0.type == "ingests" }.map(\.id) == ["stale"])
            #expect(Set(try f.content.listStatuses(namespace: f.namespace).map(\.ref)) == ["leased", "fresh"])
        }
    }
}
