import BerthAPI
@testable import BerthContent
import BerthDigest
import BerthMetadata
import Foundation
import Testing

/// A content store and lease store on a private directory with their own database.
final class Fixture: @unchecked Sendable {
    let directory: String
    let database: Database
    let store: ContentStore
    let leases: LeaseStore

    var root: String { directory + "/content" }

    init() throws {
        var template = Array("/tmp/bco-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        directory = String(cString: made!)
        database = try Database(path: directory + "/metadata.db")
        store = try ContentStore(root: directory + "/content", database: database)
        leases = LeaseStore(database)
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    /// A second store on the same root and database (a restarted daemon).
    func reopened() throws -> ContentStore {
        try ContentStore(root: root, database: database)
    }

    /// The names under blobs/sha256.
    func blobFiles() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: root + "/blobs/sha256").sorted()
    }

    func ingestDirectories() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: root + "/ingest").sorted()
    }

    /// The bytes of `digest` as `namespace` reads them.
    func read(_ namespace: String, _ digest: Digest) throws -> [UInt8] {
        let fd = try store.openBlob(namespace: namespace, digest: digest)
        defer { close(fd) }
        return Array(FileHandle(fileDescriptor: fd, closeOnDealloc: false).readDataToEndOfFile())
    }

    /// A file holding `bytes`, opened for reading.
    func source(_ bytes: [UInt8]) throws -> Int32 {
        let path = directory + "/source-\(UUID().uuidString)"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return open(path, O_RDONLY | O_CLOEXEC)
    }
}

/// Pseudo-random but repeatable bytes.
func testBytes(_ count: Int, seed: UInt64 = 1) -> [UInt8] {
    var state = seed &* 6364136223846793005 &+ 1442695040888963407
    return (0..<count).map { _ in
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return UInt8(truncatingIfNeeded: state >> 33)
    }
}

func kind(_ error: any Error) -> ErrorKind? {
    (error as? BerthError)?.kind
}
