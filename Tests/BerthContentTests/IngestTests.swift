import BerthAPI
@testable import BerthContent
import BerthDigest
import Foundation
import Testing

/// Writing blobs: containerd's content test suite's ingest cases (commit, resume,
/// verification, locking) against the store and its files.
@Suite struct IngestTests {
    @Test func ingestCommitAndReadBack() throws {
        let f = try Fixture()
        let bytes = testBytes(3 << 20) // several 1 MiB copy buffers
        let digest = SHA256.digest(bytes)
        let fd = try f.source(bytes)
        defer { close(fd) }
        let info = try f.store.ingest(namespace: "default", ref: "layer-1", from: fd, size: Int64(bytes.count), digest: digest,
                                      labels: ["a": "1"])
        #expect(info.digest == digest.string)
        #expect(info.size == Int64(bytes.count))
        #expect(info.labels == ["a": "1"])
        #expect(!info.createdAt.isEmpty && info.createdAt == info.updatedAt)
        #expect(try f.read("default", digest) == bytes)
        #expect(try f.store.info(namespace: "default", digest: digest) == info)
        #expect(try f.blobFiles() == [digest.encoded])
        #expect(try f.ingestDirectories().isEmpty, "a committed ingest leaves nothing behind")
        // Blobs are read-only once committed.
        #expect(try FileManager.default.attributesOfItem(atPath: f.store.path(digest))[.posixPermissions] as? Int == 0o444)
        #expect(try f.store.readBlob(namespace: "default", digest: digest) == bytes)
    }

    @Test func writerCommitWithoutPromisesUsesWhatWasWritten() throws {
        let f = try Fixture()
        let w = try f.store.writer(namespace: "default", ref: "manifest")
        #expect(w.offset == 0)
        try w.write(Array("{\"a\":".utf8))
        try w.write(Array("1}".utf8))
        #expect(w.offset == 7)
        let info = try w.commit()
        #expect(info.digest == SHA256.digest(Array("{\"a\":1}".utf8)).string)
        #expect(info.size == 7)
        // The writer is finished.
        #expect { try w.write([1]) } throws: { kind($0) == .failedPrecondition }
    }

    @Test(arguments: ["digest", "size", "expected digest", "expected size"])
    func aMismatchIsFailedPreconditionAndNothingReachesBlobs(_ wrong: String) throws {
        let f = try Fixture()
        let bytes = testBytes(1000)
        let right = SHA256.digest(bytes)
        let other = SHA256.digest(Array("other".utf8))
        let w = try f.store.writer(namespace: "default", ref: "r", expectedSize: wrong == "expected size" ? 999 : nil,
                                   expectedDigest: wrong == "expected digest" ? other : nil)
        try w.write(bytes)
        let error = try #require(throws: BerthError.self) {
            try w.commit(size: wrong == "size" ? 1001 : 1000, digest: wrong == "digest" ? other : right)
        }
        #expect(error.kind == .failedPrecondition, "\(error)")
        #expect(try f.blobFiles().isEmpty)
        #expect(try f.store.list(namespace: "default").isEmpty)
        // As containerd: the ingest is kept for the caller to abort (or resume).
        let status = try f.store.status(namespace: "default", ref: "r")
        #expect(status.offset == 1000 && !status.inUse)
        try w.abort()
        #expect(try f.ingestDirectories().isEmpty)
        #expect { try f.store.status(namespace: "default", ref: "r") } throws: { kind($0) == .notFound }
    }

    @Test func theConvenienceIngestAbortsOnAMismatch() throws {
        let f = try Fixture()
        let bytes = testBytes(100)
        #expect { try f.store.ingest(namespace: "default", ref: "r", bytes: bytes, digest: SHA256.digest([1])) }
            throws: { kind($0) == .failedPrecondition }
        #expect(try f.blobFiles().isEmpty)
        #expect(try f.ingestDirectories().isEmpty)
        // A source shorter than promised.
        let fd = try f.source(bytes)
        defer { close(fd) }
        #expect { try f.store.ingest(namespace: "default", ref: "r", from: fd, size: 200) } throws: { kind($0) == .failedPrecondition }
        #expect(try f.blobFiles().isEmpty)
        #expect(try f.ingestDirectories().isEmpty)
    }

    @Test func anInterruptedIngestResumesFromItsOffset() throws {
        let f = try Fixture()
        let bytes = testBytes(2 << 20 + 123)
        let digest = SHA256.digest(bytes)
        let half = bytes.count / 2
        do {
            let w = try f.store.writer(namespace: "default", ref: "pull-1", expectedSize: Int64(bytes.count), expectedDigest: digest)
            try w.write(Array(bytes[..<half]))
            w.close()
        }
        let status = try f.store.status(namespace: "default", ref: "pull-1")
        #expect(status.offset == Int64(half))
        #expect(status.total == Int64(bytes.count) && status.expected == digest)
        #expect(try f.store.listStatuses().map(\.ref) == ["pull-1"])

        // A restarted daemon: another store instance on the same root. The promises
        // recorded at the first open hold without being repeated.
        let store = try f.reopened()
        let w = try store.writer(namespace: "default", ref: "pull-1")
        #expect(w.offset == Int64(half))
        #expect(w.expectedSize == Int64(bytes.count) && w.expectedDigest == digest)
        let fd = try f.source(Array(bytes[half...]))
        defer { close(fd) }
        #expect(try w.write(from: fd, count: nil) == Int64(bytes.count - half))
        let info = try w.commit()
        #expect(info.digest == digest.string, "the hash was rebuilt from the bytes already written")
        #expect(try f.read("default", digest) == bytes)
    }

    @Test func aResumeThatPromisesOtherBytesIsRefused() throws {
        let f = try Fixture()
        let w = try f.store.writer(namespace: "default", ref: "r", expectedSize: 10)
        try w.write([1, 2, 3])
        w.close()
        #expect { try f.store.writer(namespace: "default", ref: "r", expectedSize: 11) } throws: { kind($0) == .failedPrecondition }
        // And the refusal released the ref.
        let again = try f.store.writer(namespace: "default", ref: "r", expectedSize: 10)
        #expect(again.offset == 3)
        try again.abort()
    }

    @Test func theConvenienceIngestStartsOverOnALeftoverIngest() throws {
        let f = try Fixture()
        // An abandoned run of the same ref, promising other bytes.
        let w = try f.store.writer(namespace: "default", ref: "layer", expectedSize: 3)
        try w.write([9, 9])
        w.close()
        let info = try f.store.ingest(namespace: "default", ref: "layer", bytes: [1, 2, 3, 4])
        #expect(info.digest == SHA256.digest([1, 2, 3, 4]).string)
        // And one that promised the same size: its bytes are not reused either.
        let again = try f.store.writer(namespace: "default", ref: "other", expectedSize: 2)
        try again.write([7])
        again.close()
        #expect(try f.store.ingest(namespace: "default", ref: "other", bytes: [5, 6]).digest == SHA256.digest([5, 6]).string)
        #expect(try f.ingestDirectories().isEmpty)
    }

    @Test func aSecondWriterOnARefInUseIsUnavailable() throws {
        let f = try Fixture()
        let w = try f.store.writer(namespace: "default", ref: "busy")
        #expect { try f.store.writer(namespace: "default", ref: "busy") } throws: { kind($0) == .unavailable }
        #expect { try f.store.abort(namespace: "default", ref: "busy") } throws: { kind($0) == .unavailable }
        #expect(try f.store.status(namespace: "default", ref: "busy").inUse)
        // The same ref in another namespace is another ingest.
        let other = try f.store.writer(namespace: "other", ref: "busy")
        other.close()
        w.close()
        let reopened = try f.store.writer(namespace: "default", ref: "busy")
        try reopened.abort()
    }

    @Test func concurrentWritersOnOneRefHaveOneWinner() async throws {
        let f = try Fixture()
        let store = f.store
        let outcomes = await withTaskGroup(of: ErrorKind?.self) { group in
            for _ in 0..<16 {
                group.addTask {
                    do {
                        let w = try store.writer(namespace: "default", ref: "contested")
                        try await Task.sleep(for: .milliseconds(200))
                        w.close()
                        return nil
                    } catch { return kind(error) ?? .internal }
                }
            }
            return await group.reduce(into: [ErrorKind?]()) { $0.append($1) }
        }
        #expect(outcomes.filter { $0 == nil }.count == 1)
        #expect(outcomes.filter { $0 == .unavailable }.count == 15)
    }

    @Test func droppingAWriterReleasesItsRef() throws {
        let f = try Fixture()
        do {
            let w = try f.store.writer(namespace: "default", ref: "r")
            try w.write([1, 2])
        }
        let w = try f.store.writer(namespace: "default", ref: "r")
        #expect(w.offset == 2)
        w.close()
    }

    @Test func committingContentTheNamespaceHoldsIsAlreadyExistsAndKeepsTheBlob() throws {
        let f = try Fixture()
        let bytes = Array("same bytes".utf8)
        let digest = SHA256.digest(bytes)
        let first = try f.store.ingest(namespace: "default", ref: "a", bytes: bytes, labels: ["first": "yes"])
        // Written again under another ref, without saying which digest: commit finds out.
        let w = try f.store.writer(namespace: "default", ref: "b")
        try w.write(bytes)
        let error = try #require(throws: BerthError.self) { try w.commit(labels: ["second": "yes"]) }
        #expect(error.kind == .alreadyExists)
        #expect(try f.ingestDirectories().isEmpty, "the duplicate ingest is discarded")
        #expect(try f.store.info(namespace: "default", digest: digest) == first, "the row is untouched")
        #expect(try f.read("default", digest) == bytes)
        // Saying the digest up front: the writer is refused before any byte is written.
        #expect { try f.store.writer(namespace: "default", ref: "c", expectedDigest: digest) } throws: { kind($0) == .alreadyExists }
        // The convenience call treats it as done, like containerd's WriteBlob.
        #expect(try f.store.ingest(namespace: "default", ref: "d", bytes: bytes, digest: digest) == first)
        #expect(try f.store.ingest(namespace: "default", ref: "e", bytes: bytes) == first)
        #expect(try f.ingestDirectories().isEmpty)
    }

    @Test func aBadRefOrSizeIsInvalidArgument() throws {
        let f = try Fixture()
        #expect { try f.store.writer(namespace: "default", ref: "") } throws: { kind($0) == .invalidArgument }
        #expect { try f.store.writer(namespace: "default", ref: String(repeating: "r", count: 1025)) } throws: { kind($0) == .invalidArgument }
        #expect { try f.store.writer(namespace: "default", ref: "r", expectedSize: -1) } throws: { kind($0) == .invalidArgument }
        #expect { try f.store.writer(namespace: "../x", ref: "r") } throws: { kind($0) == .invalidArgument }
        // A ref is never a path.
        let w = try f.store.writer(namespace: "default", ref: "../../../etc/passwd")
        try w.write([1])
        _ = try w.commit()
        #expect(try f.ingestDirectories().isEmpty)
        #expect(try f.blobFiles().count == 1)
    }

    @Test func staleIngestsAreCleanedUpButNotOnesInUseOrKept() throws {
        let f = try Fixture()
        for ref in ["old", "kept", "busy"] {
            let w = try f.store.writer(namespace: "default", ref: ref)
            try w.write([1, 2, 3])
            w.close()
        }
        let busy = try f.store.writer(namespace: "default", ref: "busy")
        let now = Int(Date().timeIntervalSince1970)
        // Nothing is an hour old yet.
        #expect(try f.store.cleanupIngests(olderThan: 3600).isEmpty)
        let removed = try f.store.cleanupIngests(olderThan: 3600, keeping: ["default/kept"], now: now + 7200)
        #expect(removed.map(\.ref) == ["old"])
        #expect(try f.store.listStatuses().map(\.ref) == ["busy", "kept"])
        busy.close()
    }

    @Test func truncateRestartsAnIngest() throws {
        let f = try Fixture()
        let w = try f.store.writer(namespace: "default", ref: "r")
        try w.write(testBytes(50))
        try w.truncate()
        #expect(w.offset == 0)
        try w.write([9])
        #expect(try w.commit().digest == SHA256.digest([9]).string)
    }

    @Test func theCommitObserverHearsOfNewRowsOnly() throws {
        let f = try Fixture()
        let heard = Heard()
        let store = try ContentStore(root: f.root, database: f.database) { namespace, info in heard.append("\(namespace) \(info.digest) \(info.size)") }
        let digest = SHA256.digest([1, 2])
        _ = try store.ingest(namespace: "a", ref: "x", bytes: [1, 2])
        _ = try store.ingest(namespace: "a", ref: "y", bytes: [1, 2]) // already held: no new row
        _ = try store.ingest(namespace: "b", ref: "x", bytes: [1, 2])
        #expect { try store.ingest(namespace: "c", ref: "z", bytes: [3], digest: digest) } throws: { kind($0) == .failedPrecondition }
        #expect(heard.lines == ["a \(digest) 2", "b \(digest) 2"])
    }

    @Test func writeFromADescriptorStopsAtCount() throws {
        let f = try Fixture()
        let bytes = testBytes((1 << 20) + 10)
        let fd = try f.source(bytes)
        defer { close(fd) }
        let w = try f.store.writer(namespace: "default", ref: "r")
        #expect(try w.write(from: fd, count: (1 << 20) + 1) == (1 << 20) + 1)
        #expect(try w.write(from: fd, count: 100) == 9, "the source ended first")
        #expect(try w.commit().digest == SHA256.digest(bytes).string)
    }
}

/// Lines collected from a Sendable closure.
final class Heard: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [String] = []
    var lines: [String] { lock.withLock { stored } }
    func append(_ line: String) { lock.withLock { stored.append(line) } }
}
