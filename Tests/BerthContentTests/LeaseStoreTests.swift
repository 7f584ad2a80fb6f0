import BerthAPI
@testable import BerthContent
import BerthDigest
import Foundation
import Testing

/// Leases: CRUD, resources, filters, expiry (containerd's leases manager tests).
@Suite struct LeaseStoreTests {
    let digest = SHA256.digest(Array("layer".utf8))

    @Test func createListDelete() throws {
        let f = try Fixture()
        let a = try f.leases.create(namespace: "default", id: "import-1", labels: ["owner": "me", "empty": ""])
        #expect(a.id == "import-1" && a.labels == ["owner": "me"] && !a.createdAt.isEmpty)
        let generated = try f.leases.create(namespace: "default")
        #expect(generated.id != a.id)
        try Identifier.validate(generated.id)
        #expect { try f.leases.create(namespace: "default", id: "import-1") } throws: { kind($0) == .alreadyExists }
        // The same id in another namespace is another lease.
        _ = try f.leases.create(namespace: "other", id: "import-1")
        #expect(try f.leases.list(namespace: "default").map(\.id) == [generated.id, "import-1"].sorted())
        try f.leases.delete(namespace: "default", id: "import-1")
        #expect { try f.leases.delete(namespace: "default", id: "import-1") } throws: { kind($0) == .notFound }
        #expect(try f.leases.list(namespace: "default").map(\.id) == [generated.id])
        #expect(try f.leases.list(namespace: "other").map(\.id) == ["import-1"])
    }

    @Test func invalidLeasesAreRefused() throws {
        let f = try Fixture()
        #expect { try f.leases.create(namespace: "default", id: "a/b") } throws: { kind($0) == .invalidArgument }
        #expect { try f.leases.create(namespace: "default", id: "") } throws: { kind($0) == .invalidArgument }
        #expect { try f.leases.create(namespace: "default", labels: [GCLabels.expire: "tomorrow"]) } throws: { kind($0) == .invalidArgument }
        #expect { try f.leases.create(namespace: "default", labels: ["": "x"]) } throws: { kind($0) == .invalidArgument }
        #expect(try f.leases.list(namespace: "default").isEmpty)
    }

    @Test func resources() throws {
        let f = try Fixture()
        _ = try f.leases.create(namespace: "default", id: "l")
        let content = LeaseResource(id: digest.string, type: "content")
        let snapshot = LeaseResource(id: "extract-1 sha256:abc", type: "snapshots/overlayfs")
        let ingest = LeaseResource(id: "layer-ref", type: "ingests")
        for r in [content, snapshot, ingest, content] { try f.leases.addResource(namespace: "default", id: "l", resource: r) }
        #expect(Set(try f.leases.list(namespace: "default")[0].resources ?? []) == [content, snapshot, ingest])
        try f.leases.deleteResource(namespace: "default", id: "l", resource: snapshot)
        try f.leases.deleteResource(namespace: "default", id: "l", resource: snapshot) // not there: not an error
        #expect(Set(try f.leases.list(namespace: "default")[0].resources ?? []) == [content, ingest])

        for bad in [LeaseResource(id: "x", type: "images"), LeaseResource(id: "x", type: "snapshots"),
                    LeaseResource(id: "x", type: "snapshots/"), LeaseResource(id: "", type: "ingests"),
                    LeaseResource(id: "sha256:nothex", type: "content")] {
            #expect(throws: BerthError.self) { try f.leases.addResource(namespace: "default", id: "l", resource: bad) }
            #expect { try f.leases.addResource(namespace: "default", id: "l", resource: bad) } throws: { kind($0) == .invalidArgument }
        }
        #expect { try f.leases.addResource(namespace: "default", id: "none", resource: content) } throws: { kind($0) == .notFound }
        #expect { try f.leases.deleteResource(namespace: "default", id: "none", resource: content) } throws: { kind($0) == .notFound }
        #expect { try f.leases.addResource(namespace: "other", id: "l", resource: content) } throws: { kind($0) == .notFound }

        // Deleting the lease drops its resource list with it.
        try f.leases.delete(namespace: "default", id: "l")
        _ = try f.leases.create(namespace: "default", id: "l")
        #expect(try f.leases.list(namespace: "default")[0].resources == [])
    }

    @Test func filters() throws {
        let f = try Fixture()
        _ = try f.leases.create(namespace: "default", id: "a", labels: ["team": "ci", "containerd.io/gc.flat": "1"])
        _ = try f.leases.create(namespace: "default", id: "b", labels: ["team": "dev"])
        func ids(_ filters: String...) throws -> [String] { try f.leases.list(namespace: "default", filters: filters).map(\.id) }
        #expect(try ids("id==b") == ["b"])
        #expect(try ids("labels.team==ci") == ["a"])
        #expect(try ids(#"labels."containerd.io/gc.flat""#) == ["a"])
        #expect(try ids("id~=^[ab]$,labels.team!=ci") == ["b"])
        #expect(try ids("id==a", "id==b") == ["a", "b"])
        #expect { try ids("id==") } throws: { kind($0) == .invalidArgument }
    }

    @Test func expiredLeasesProtectNothing() throws {
        let f = try Fixture()
        let now = 1_750_000_000 // 2025-06-15T15:06:40Z
        _ = try f.leases.create(namespace: "default", id: "forever")
        _ = try f.leases.create(namespace: "default", id: "later", labels: [GCLabels.expire: "2025-06-15T16:00:00Z"])
        _ = try f.leases.create(namespace: "default", id: "past", labels: [GCLabels.expire: "2025-06-15T15:06:39.999999999Z"])
        _ = try f.leases.create(namespace: "default", id: "offset", labels: [GCLabels.expire: "2025-06-15T17:06:41+02:00"])
        _ = try f.leases.create(namespace: "other", id: "past", labels: [GCLabels.expire: "2000-01-01T00:00:00Z"])
        for (ns, id) in [("default", "forever"), ("default", "later"), ("default", "past"), ("default", "offset"), ("other", "past")] {
            try f.leases.addResource(namespace: ns, id: id, resource: LeaseResource(id: "ref-\(id)", type: "ingests"))
        }
        try f.leases.addResource(namespace: "default", id: "past", resource: LeaseResource(id: digest.string, type: "content"))
        #expect(try f.leases.protectedResources(namespace: "default", now: now)
                == [LeaseResource(id: "ref-forever", type: "ingests"), LeaseResource(id: "ref-later", type: "ingests"),
                    LeaseResource(id: "ref-offset", type: "ingests")])
        #expect(try f.leases.protectedResources(namespace: "other", now: now).isEmpty)
        #expect(try f.leases.expiredLeases(now: now).map { "\($0.namespace)/\($0.id)" } == ["default/past", "other/past"])
        // An hour on, "later" has expired; "offset" (15:06:41Z) had a second after now.
        #expect(try f.leases.allProtectedResources(now: now + 3600)["default"] == [LeaseResource(id: "ref-forever", type: "ingests")])
        // Expired leases are still listed until the collector deletes them.
        #expect(try f.leases.list(namespace: "default").count == 4)
    }

    @Test func rfc3339() {
        #expect(RFC3339.seconds("1970-01-01T00:00:00Z") == 0)
        #expect(RFC3339.seconds("1970-01-01T01:00:00+01:00") == 0)
        #expect(RFC3339.seconds("1969-12-31T23:00:00-01:00") == 0)
        #expect(RFC3339.seconds("2025-06-15T15:06:40.123456789Z") == 1_750_000_000)
        #expect(RFC3339.seconds("2025-06-15t15:06:40z") == 1_750_000_000)
        #expect(RFC3339.format(seconds: 1_750_000_000) == "2025-06-15T15:06:40Z")
        #expect(RFC3339.seconds(RFC3339.format(seconds: 4_102_444_800)) == 4_102_444_800)
        for bad in ["", "2025-06-15", "2025-06-15T15:06:40", "2025-06-15 15:06:40Z", "2025-13-15T15:06:40Z",
                    "2025-06-15T15:06:40.Z", "2025-06-15T15:06:40+0200", "2025-06-15T15:06:40Zjunk"] {
            #expect(RFC3339.seconds(bad) == nil, "\(bad)")
        }
    }
}
