import BerthAPI
@testable import BerthContent
import BerthDigest
import Foundation
import Testing

/// Reading, labelling, listing and deleting blobs; namespaces; what the collector sees.
@Suite struct ContentStoreTests {
    @Test func namespacesAreIsolatedButBytesAreStoredOnce() throws {
        let f = try Fixture()
        let bytes = testBytes(4096)
        let digest = SHA256.digest(bytes)
        _ = try f.store.ingest(namespace: "a", ref: "x", bytes: bytes)
        #expect { try f.store.info(namespace: "b", digest: digest) } throws: { kind($0) == .notFound }
        #expect { try f.store.openBlob(namespace: "b", digest: digest) } throws: { kind($0) == .notFound }
        #expect(try f.store.list(namespace: "b").isEmpty)
        #expect { try f.store.delete(namespace: "b", digest: digest) } throws: { kind($0) == .notFound }
        // b writes the same bytes: it gets its own row, the file stays one.
        let b = try f.store.ingest(namespace: "b", ref: "x", bytes: bytes, labels: ["mine": "b"])
        #expect(b.labels == ["mine": "b"])
        #expect(try f.store.info(namespace: "a", digest: digest).labels == [:])
        #expect(try f.blobFiles() == [digest.encoded])
        #expect(try f.read("b", digest) == bytes)
        #expect(try f.store.allRows().map(\.namespace) == ["a", "b"])
    }

    @Test func deleteKeepsTheBlobWhileAnotherNamespaceHoldsIt() throws {
        let f = try Fixture()
        let bytes = testBytes(10)
        let digest = SHA256.digest(bytes)
        _ = try f.store.ingest(namespace: "a", ref: "x", bytes: bytes)
        _ = try f.store.ingest(namespace: "b", ref: "x", bytes: bytes)
        #expect(try f.store.delete(namespace: "a", digest: digest) == false)
        #expect { try f.store.info(namespace: "a", digest: digest) } throws: { kind($0) == .notFound }
        #expect(try f.read("b", digest) == bytes)
        #expect(try f.blobFiles() == [digest.encoded])
        #expect(try f.store.delete(namespace: "b", digest: digest) == true)
        #expect(try f.blobFiles().isEmpty)
        #expect { try f.store.delete(namespace: "b", digest: digest) } throws: { kind($0) == .notFound }
    }

    @Test func labelsUpdateByMask() throws {
        let f = try Fixture()
        let info = try f.store.ingest(namespace: "default", ref: "x", bytes: [1], labels: ["a": "1", "b": "2"])
        let digest = try Digest(parsing: info.digest)
        func update(_ labels: [String: String], _ mask: [String]) throws -> [String: String] {
            try f.store.update(namespace: "default", info: ContentInfo(digest: info.digest, size: 0, labels: labels), fieldPaths: mask).labels
        }
        // One key set, one removed (absent from info), the rest kept.
        #expect(try update(["c": "3"], ["labels.c", "labels.a"]) == ["b": "2", "c": "3"])
        // An empty value removes too.
        #expect(try update(["b": ""], ["labels.b"]) == ["c": "3"])
        // "labels" and the empty mask replace everything.
        #expect(try update(["x": "1"], ["labels"]) == ["x": "1"])
        #expect(try update(["y": "2", "z": ""], []) == ["y": "2"])
        let stored = try f.store.info(namespace: "default", digest: digest)
        #expect(stored.labels == ["y": "2"])
        #expect(stored.updatedAt > stored.createdAt)
        #expect(stored.size == 1, "size comes from the row, not the request")
        // Nothing but labels can change.
        #expect { try update(["y": "3"], ["labels.y", "size"]) } throws: { kind($0) == .invalidArgument }
        #expect { try update([:], ["labels."]) } throws: { kind($0) == .invalidArgument }
        #expect { try update(["k": String(repeating: "v", count: 5000)], ["labels.k"]) } throws: { kind($0) == .invalidArgument }
        #expect(try f.store.info(namespace: "default", digest: digest).labels == ["y": "2"])
        #expect { try f.store.update(namespace: "other", info: ContentInfo(digest: info.digest, size: 0), fieldPaths: []) }
            throws: { kind($0) == .notFound }
    }

    @Test func listFilters() throws {
        let f = try Fixture()
        let one = try f.store.ingest(namespace: "default", ref: "1", bytes: [1], labels: ["containerd.io/gc.root": "yes", "kind": "config", "com.example.x": "1"])
        let two = try f.store.ingest(namespace: "default", ref: "2", bytes: [2, 2], labels: ["kind": "layer"])
        let three = try f.store.ingest(namespace: "default", ref: "3", bytes: [3, 3, 3])
        func digests(_ filters: String...) throws -> Set<String> {
            Set(try f.store.list(namespace: "default", filters: filters).map(\.digest))
        }
        #expect(try digests() == [one.digest, two.digest, three.digest])
        #expect(try digests("digest==\(two.digest)") == [two.digest])
        #expect(try digests("digest!=\(two.digest)") == [one.digest, three.digest])
        #expect(try digests("size==3") == [three.digest])
        #expect(try digests("labels.kind==layer") == [two.digest])
        #expect(try digests("labels.kind!=layer") == [one.digest, three.digest], "!= matches an absent label, as containerd")
        #expect(try digests("labels.kind~=^(lay|conf)") == [one.digest, two.digest])
        #expect(try digests(#"labels."containerd.io/gc.root""#) == [one.digest])
        #expect(try digests("labels.com.example.x==1") == [one.digest], "unquoted dotted keys are joined again")
        #expect(try digests("labels.kind") == [one.digest, two.digest])
        // Within a filter all must match; several filters are ORed.
        #expect(try digests("labels.kind==config,size==1") == [one.digest])
        #expect(try digests("labels.kind==config,size==2") == [])
        #expect(try digests("size==2", "size==3") == [two.digest, three.digest])
        #expect(try digests("nosuchfield==x") == [])
        #expect { try digests("labels.kind===x") } throws: { kind($0) == .invalidArgument }
        #expect { try digests("size~=(") } throws: { kind($0) == .invalidArgument }
    }

    @Test(arguments: ["", "sha256:", "sha256:XYZ", "sha512:" + String(repeating: "a", count: 128),
                      "sha256:" + String(repeating: "A", count: 64), "../../etc/passwd",
                      "sha256:" + String(repeating: "a", count: 63)])
    func invalidDigestsAreInvalidArgumentAndChangeNothing(_ bad: String) throws {
        let f = try Fixture()
        let info = try f.store.ingest(namespace: "default", ref: "x", bytes: [1], labels: ["a": "1"])
        #expect { try ContentStore.parseDigest(bad) } throws: { kind($0) == .invalidArgument }
        #expect { try f.store.update(namespace: "default", info: ContentInfo(digest: bad, size: 1, labels: [:]), fieldPaths: []) }
            throws: { kind($0) == .invalidArgument }
        #expect { try f.leases.addResource(namespace: "default", id: "l", resource: LeaseResource(id: bad, type: "content")) }
            throws: { kind($0) == .invalidArgument }
        #expect(try f.store.list(namespace: "default") == [info])
        #expect(try f.blobFiles().count == 1)
    }

    @Test func checkReportsRowsWithoutBlobsAndBlobsWithoutRows() throws {
        let f = try Fixture()
        let kept = try f.store.ingest(namespace: "default", ref: "1", bytes: [1])
        let lost = try f.store.ingest(namespace: "default", ref: "2", bytes: [2])
        let orphan = try f.store.ingest(namespace: "default", ref: "3", bytes: [3])
        #expect(try f.store.check().isClean)
        let lostDigest = try Digest(parsing: lost.digest)
        let orphanDigest = try Digest(parsing: orphan.digest)
        try FileManager.default.removeItem(atPath: f.store.path(lostDigest))
        #expect(try f.store.deleteRow(namespace: "default", digest: orphanDigest))
        let report = try f.store.check()
        #expect(report.damagedRows == [ContentRow(namespace: "default", info: lost)])
        #expect(report.unreferencedBlobs == [orphanDigest])
        #expect(try f.store.blobsOnDisk().count == 2)
        // A read of the damaged row is NotFound, not a crash.
        #expect { try f.store.openBlob(namespace: "default", digest: lostDigest) } throws: { kind($0) == .notFound }
        // Writing the bytes again repairs it (the row stays, so AlreadyExists, but the file is back).
        #expect(try f.store.ingest(namespace: "default", ref: "again", bytes: [2]) == lost)
        #expect(try f.read("default", lostDigest) == [2])
        // The collector's removal: only a blob no row holds.
        #expect(try f.store.removeBlobIfUnreferenced(try Digest(parsing: kept.digest)) == false)
        #expect(try f.store.removeBlobIfUnreferenced(orphanDigest) == true)
        #expect(try f.store.check().isClean)
    }

    @Test func readBlobRefusesMoreThanItsLimit() throws {
        let f = try Fixture()
        let info = try f.store.ingest(namespace: "default", ref: "x", bytes: testBytes(100))
        #expect { try f.store.readBlob(namespace: "default", digest: try Digest(parsing: info.digest), limit: 99) }
            throws: { kind($0) == .failedPrecondition }
    }

    @Test func concurrentCommitsAndDeletesOfOneDigestNeverLeaveARowWithoutItsBlob() async throws {
        let f = try Fixture()
        let store = f.store
        let bytes = testBytes(64 << 10)
        let digest = SHA256.digest(bytes)
        await withTaskGroup(of: Void.self) { group in
            for worker in 0..<8 {
                group.addTask {
                    for round in 0..<20 {
                        let ns = "ns\(worker % 4)"
                        _ = try? store.ingest(namespace: ns, ref: "w\(worker)-\(round)", bytes: bytes)
                        if round % 2 == 1 { _ = try? store.delete(namespace: ns, digest: digest) }
                    }
                }
            }
        }
        let report = try f.store.check()
        #expect(report.damagedRows.isEmpty)
        let holders = try f.store.allRows().count
        #expect(try f.blobFiles() == (holders > 0 ? [digest.encoded] : []))
        #expect(try f.ingestDirectories().isEmpty)
    }
}
