import BerthAPI
import BerthContent
import BerthDigest
@testable import BerthImages
import BerthMetadata
import BerthOCI
import BerthSnapshots
import BerthSystem
import Foundation
import Testing
@_exported import BerthTestSupport

// MARK: fixture

/// A content store, lease store, image store and both snapshotters on a private
/// directory with their own database, as berthd wires them.
final class ImageFixture: @unchecked Sendable {
    let directory: String
    let database: Database
    let content: ContentStore
    let leases: LeaseStore
    let images: ImageStore
    let overlay: LocalSnapshotter
    let native: LocalSnapshotter
    let namespace = "default"
    private var mounts = 0

    var contentRoot: String { directory + "/content" }
    var importer: ImageImporter { ImageImporter(images: images, content: content, leases: leases) }
    var collector: GarbageCollector {
        let snapshotters: [any Snapshotter] = [overlay, native]
        return GarbageCollector(database: database, images: images, content: content, leases: leases, snapshotters: { snapshotters })
    }

    init() throws {
        directory = try makeTemporaryDirectory("bim")
        database = try Database(path: directory + "/metadata.db")
        content = try ContentStore(root: directory + "/content", database: database)
        leases = LeaseStore(database)
        images = ImageStore(database)
        overlay = try LocalSnapshotter.overlay(root: directory + "/snapshots/overlayfs", database: database)
        native = try LocalSnapshotter.native(root: directory + "/snapshots/native", database: database)
        try NamespaceStore(database).ensure(namespace)
    }

    /// Unmounts anything left under the fixture and removes it.
    func tearDown() {
        for point in Mounting.mountPoints(under: directory).reversed() { try? Mounting.unmount(point, detach: true) }
        overlay.close()
        native.close()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Imports the archive at `path`.
    @discardableResult
    func importFile(_ path: String, snapshotter: LocalSnapshotter? = nil, rootfsTar: Bool = false, name: String? = nil,
                    allPlatforms: Bool = false) throws -> ImageImporter.Imported {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ShellFailure(description: "open \(path): errno \(errno)") }
        defer { close(fd) }
        return try importer.importArchive(from: fd, options: .init(namespace: namespace, rootfsTar: rootfsTar, name: name,
                                                                  allPlatforms: allPlatforms, snapshotter: snapshotter))
    }

    /// The file names under content/blobs/sha256.
    func blobFiles() -> Set<String> {
        Set((try? FileManager.default.contentsOfDirectory(atPath: contentRoot + "/blobs/sha256")) ?? [])
    }

    func ingests() -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: contentRoot + "/ingest")) ?? []
    }

    func snapshots(_ s: LocalSnapshotter) throws -> [SnapshotInfo] {
        try s.list(namespace: namespace, filters: [])
    }

    func hasBlob(_ digest: String) -> Bool { blobFiles().contains(String(digest.dropFirst(7))) }

    /// Mounts a read-only view of committed snapshot `parent`, runs `body` on it, and
    /// always unmounts and removes the view.
    func withView<T>(_ s: LocalSnapshotter, of parent: String, _ body: (String) throws -> T) throws -> T {
        mounts += 1
        let key = "test-view-\(mounts)"
        let target = directory + "/mnt\(mounts)"
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
        let m = try s.view(namespace: namespace, key: key, parent: parent, labels: [:])
        defer { try? s.remove(namespace: namespace, key: key) }
        try MountExecutor.mount(m, at: target)
        defer { try? MountExecutor.unmount(target) }
        return try body(target)
    }
}

/// Runs `body` with a fresh fixture and always tears it down.
func withFixture<T>(_ body: (ImageFixture) throws -> T) throws -> T {
    let fixture = try ImageFixture()
    defer { fixture.tearDown() }
    return try body(fixture)
}

func kind(_ error: any Error) -> ErrorKind? { (error as? BerthError)?.kind }

/// The platform that is not this machine's, for a fake second manifest.
var otherPlatform: Platform {
    Platform.host.architecture == "amd64" ? Platform(architecture: "arm64", os: "linux", variant: "v8") : Platform(architecture: "amd64", os: "linux")
}

func listing(_ path: String) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted()
}

/// The contents of a text file, nil when it cannot be read.
func text(_ path: String) -> String? { try? String(contentsOfFile: path, encoding: .utf8) }
