import BerthAPI
import BerthContent
@testable import BerthDaemon
import BerthDigest
import Foundation
import Testing

/// `content.*` and `leases.*` through a berthd in this process: blobs are written with
/// the daemon's own store (as the image service does; no method carries bytes), then
/// listed, labelled and deleted over the socket.
@Suite struct ContentServiceTests {
    private func digest(_ text: String) -> Digest { SHA256.digest(Array(text.utf8)) }

    @Test func listInfoUpdateDeleteWithEvents() async throws {
        try await withDaemon { daemon in
            let client = try await daemon.client()
            defer { client.close() }
            let events = try await client.subscribeEvents(filters: [#"topic~="^/content/""#])
            let store = daemon.running.context.content
            let config = try store.ingest(namespace: "default", ref: "config", bytes: Array("config".utf8), labels: ["kind": "config"])
            let layer = try store.ingest(namespace: "default", ref: "layer", bytes: Array("layer".utf8))
            _ = try store.ingest(namespace: "other", ref: "layer", bytes: Array("layer".utf8))

            let all = try await client.call(API.contentList, ListContentRequest()).infos
            #expect(all == [config, layer].sorted { $0.digest < $1.digest })
            let filtered = try await client.call(API.contentList, ListContentRequest(filters: ["labels.kind==config"])).infos
            #expect(filtered == [config])
            #expect(try await client.call(API.contentInfo, ContentDigestRequest(digest: layer.digest)).info == layer)

            let labelled = try await client.call(API.contentUpdate, UpdateContentRequest(
                info: ContentInfo(digest: layer.digest, size: 0, labels: ["containerd.io/gc.root": "1"]), updateMask: ["labels.containerd.io/gc.root"])).info
            #expect(labelled.labels == ["containerd.io/gc.root": "1"] && labelled.size == layer.size)

            try await client.call(API.contentDelete, ContentDigestRequest(digest: layer.digest))
            await #expect { try await client.call(API.contentInfo, ContentDigestRequest(digest: layer.digest)) }
                throws: { ($0 as? BerthError)?.kind == .notFound }
            // The other namespace keeps its row and the shared bytes.
            #expect(try await client.call(API.contentInfo, ContentDigestRequest(namespace: "other", digest: layer.digest)).info.size == 5)
            #expect(FileManager.default.fileExists(atPath: store.path(try Digest(parsing: layer.digest))))

            // Commits through the daemon's store announce themselves; the delete too.
            let seen = try await EventsTestSupport.collect(events, count: 4)
            #expect(seen.map(\.topic) == ["/content/create", "/content/create", "/content/create", "/content/delete"])
            #expect(seen.map(\.namespace) == ["default", "default", "other", "default"])
            #expect(try seen[0].payload.decode(ContentCreateEvent.self) == ContentCreateEvent(digest: config.digest, size: 6))
            #expect(try seen[3].payload.decode(ContentDeleteEvent.self) == ContentDeleteEvent(digest: layer.digest))
        }
    }

    @Test func errorsHaveTheirKinds() async throws {
        try await withDaemon { daemon in
            let client = try await daemon.client()
            defer { client.close() }
            let blob = try daemon.running.context.content.ingest(namespace: "default", ref: "x", bytes: [1, 2, 3])
            func kind(_ body: () async throws -> Void) async -> ErrorKind? {
                do { try await body(); return nil } catch { return (error as? BerthError)?.kind }
            }
            let missing = digest("missing").string
            #expect(await kind { _ = try await client.call(API.contentInfo, ContentDigestRequest(digest: missing)) } == .notFound)
            #expect(await kind { _ = try await client.call(API.contentDelete, ContentDigestRequest(digest: missing)) } == .notFound)
            #expect(await kind { _ = try await client.call(API.contentInfo, ContentDigestRequest(namespace: "other", digest: blob.digest)) } == .notFound)
            for bad in ["sha256:abc", "md5:0123", "../../blobs", ""] {
                #expect(await kind { _ = try await client.call(API.contentInfo, ContentDigestRequest(digest: bad)) } == .invalidArgument)
                #expect(await kind { _ = try await client.call(API.contentDelete, ContentDigestRequest(digest: bad)) } == .invalidArgument)
            }
            #expect(await kind { _ = try await client.call(API.contentList, ListContentRequest(filters: ["labels.a=="])) } == .invalidArgument)
            #expect(await kind {
                _ = try await client.call(API.contentUpdate, UpdateContentRequest(info: ContentInfo(digest: blob.digest, size: 9), updateMask: ["size"]))
            } == .invalidArgument)
            #expect(try await client.call(API.contentList, ListContentRequest()).infos == [blob])
            #expect(try await stillServes(daemon))
        }
    }

    @Test func leasesThroughTheDaemon() async throws {
        try await withDaemon { daemon in
            let client = try await daemon.client()
            defer { client.close() }
            let lease = try await client.call(API.leasesCreate, CreateLeaseRequest(id: "import-1", labels: [GCLabels.expire: "2099-01-01T00:00:00Z"])).lease
            #expect(lease.id == "import-1" && lease.resources == [])
            let generated = try await client.call(API.leasesCreate, CreateLeaseRequest()).lease
            #expect(!generated.id.isEmpty)
            let content = LeaseResource(id: digest("layer").string, type: "content")
            try await client.call(API.leasesAddResource, LeaseResourceRequest(id: "import-1", resource: content))
            try await client.call(API.leasesAddResource, LeaseResourceRequest(id: "import-1", resource: LeaseResource(id: "k", type: "snapshots/overlayfs")))
            try await client.call(API.leasesDeleteResource, LeaseResourceRequest(id: "import-1", resource: LeaseResource(id: "k", type: "snapshots/overlayfs")))
            let listed = try await client.call(API.leasesList, ListLeasesRequest(filters: ["id==import-1"])).leases
            #expect(listed.count == 1 && listed[0].resources == [content] && listed[0].labels == lease.labels)
            // What the collector will be given.
            #expect(try daemon.running.context.leases.protectedResources(namespace: "default") == [content])

            // sync runs the installed collector before answering.
            let runs = Counter()
            daemon.running.context.garbageCollection.install { runs.increment() }
            try await client.call(API.leasesDelete, DeleteLeaseRequest(id: "import-1", sync: true))
            #expect(runs.value == 1)
            try await client.call(API.leasesDelete, DeleteLeaseRequest(id: generated.id))
            #expect(runs.value == 1)
            #expect(try await client.call(API.leasesList, ListLeasesRequest()).leases.isEmpty)

            await #expect { try await client.call(API.leasesDelete, DeleteLeaseRequest(id: "import-1")) } throws: { ($0 as? BerthError)?.kind == .notFound }
            await #expect { try await client.call(API.leasesCreate, CreateLeaseRequest(id: "no/slash")) } throws: { ($0 as? BerthError)?.kind == .invalidArgument }
            _ = try await client.call(API.leasesCreate, CreateLeaseRequest(id: "dup"))
            await #expect { try await client.call(API.leasesCreate, CreateLeaseRequest(id: "dup")) } throws: { ($0 as? BerthError)?.kind == .alreadyExists }
            await #expect { try await client.call(API.leasesAddResource, LeaseResourceRequest(id: "dup", resource: LeaseResource(id: "x", type: "images"))) }
                throws: { ($0 as? BerthError)?.kind == .invalidArgument }
            await #expect { try await client.call(API.leasesAddResource, LeaseResourceRequest(id: "none", resource: content)) }
                throws: { ($0 as? BerthError)?.kind == .notFound }
        }
    }

    @Test func theDaemonReopensItsStoreAndKeepsUnfinishedIngests() async throws {
        let directory = makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let first = try await TestDaemon.start(in: directory)
        let kept = try first.running.context.content.ingest(namespace: "default", ref: "kept", bytes: Array("kept".utf8))
        let writer = try first.running.context.content.writer(namespace: "default", ref: "pull")
        try writer.write(Array("half".utf8))
        writer.close()
        await first.stop()

        let second = try await TestDaemon.start(in: directory)
        do {
            let client = try await second.client()
            defer { client.close() }
            #expect(try await client.call(API.contentList, ListContentRequest()).infos == [kept])
            let resumed = try second.running.context.content.writer(namespace: "default", ref: "pull")
            #expect(resumed.offset == 4)
            try resumed.abort()
            #expect(try second.running.context.content.check().isClean)
            #expect(try await client.info().plugins.contains { $0.type == "io.berth.content.v1" && $0.status == "ok" })
            await second.stop()
        } catch {
            await second.stop()
            throw error
        }
    }
}

/// A count shared with a Sendable closure.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    var value: Int { lock.withLock { count } }
    func increment() { lock.withLock { count += 1 } }
}
