import BerthAPI
import BerthMetadata
@testable import BerthSnapshots
import BerthSystem
import Foundation
import Testing

/// The snapshotters the conformance suite runs against.
enum Implementation: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case overlayfs, native

    var testDescription: String { rawValue }

    func open(root: String, database: Database) throws -> LocalSnapshotter {
        switch self {
        case .overlayfs: try LocalSnapshotter.overlay(root: root, database: database)
        case .native: try LocalSnapshotter.native(root: root, database: database)
        }
    }
}

/// A snapshotter on private paths under /tmp, with its own metadata database.
final class Fixture: @unchecked Sendable {
    let directory: String
    let implementation: Implementation
    let database: Database
    var snapshotter: LocalSnapshotter
    private var mountCount = 0

    var root: String { directory + "/snapshots/" + implementation.rawValue }

    init(_ implementation: Implementation) throws {
        directory = makeTemporaryDirectory(prefix: "bsn")
        self.implementation = implementation
        database = try Database(path: directory + "/metadata.db")
        snapshotter = try implementation.open(root: directory + "/snapshots/" + implementation.rawValue, database: database)
    }

    /// Opens a second instance on the same root and database (close and reopen).
    func reopen() throws {
        snapshotter.close()
        snapshotter = try implementation.open(root: root, database: database)
    }

    /// A new empty directory to mount on.
    func mountPoint() throws -> String {
        mountCount += 1
        let path = "\(directory)/mnt\(mountCount)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Mounts `mounts`, runs `body` with the mount point, always unmounts.
    func withMounted<T>(_ mounts: [Mount], strategy: MountExecutor.LongOverlayStrategy = .automatic, _ body: (String) throws -> T) throws -> T {
        let target = try mountPoint()
        try MountExecutor.mount(mounts, at: target, strategy: strategy)
        defer { try? MountExecutor.unmount(target) }
        return try body(target)
    }

    /// Unmounts anything left under the fixture and removes it.
    func tearDown() {
        for point in Mounting.mountPoints(under: directory) { try? Mounting.unmount(point, detach: true) }
        try? FileManager.default.removeItem(atPath: directory)
    }
}

/// Runs `body` with a fresh fixture and always tears it down, even when it throws.
func withFixture<T>(_ implementation: Implementation, _ body: (Fixture) throws -> T) throws -> T {
    let fixture = try Fixture(implementation)
    defer { fixture.tearDown() }
    return try body(fixture)
}

func makeTemporaryDirectory(prefix: String) -> String {
    var template = Array("/tmp/\(prefix)-XXXXXX".utf8CString)
    let path = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
    return String(cString: path!)
}

// MARK: file helpers

func write(_ path: String, _ text: String) throws {
    let dir = (path as NSString).deletingLastPathComponent
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    try Data(text.utf8).write(to: URL(fileURLWithPath: path))
}

func read(_ path: String) -> String? {
    guard let data = FileManager.default.contents(atPath: path) else { return nil }
    return String(decoding: data, as: UTF8.self)
}

func exists(_ path: String) -> Bool {
    var st = stat()
    return lstat(path, &st) == 0
}

func listing(_ path: String) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted()
}

/// Expects `body` to throw a `BerthError` of `kind`.
func expectKind(_ kind: ErrorKind, _ comment: Comment? = nil, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) {
    do {
        try body()
        Issue.record("expected \(kind), but it succeeded. \(comment?.description ?? "")", sourceLocation: sourceLocation)
    } catch let error as BerthError {
        #expect(error.kind == kind, "\(error.message) \(comment?.description ?? "")", sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected BerthError \(kind), got \(error)", sourceLocation: sourceLocation)
    }
}

extension Fixture {
    /// Prepares `key` on `parent`, writes `files` (path → content; nil deletes), commits
    /// as `name`.
    func layer(_ name: String, parent: String?, _ files: [String: String?], remove: [String] = []) throws {
        let key = "extract-" + name
        let mounts = try snapshotter.prepare(namespace: "default", key: key, parent: parent, labels: [:])
        try withMounted(mounts) { dir in
            for path in remove { try FileManager.default.removeItem(atPath: dir + "/" + path) }
            for (path, content) in files.sorted(by: { $0.key < $1.key }) {
                if let content { try write(dir + "/" + path, content) } else { try FileManager.default.removeItem(atPath: dir + "/" + path) }
            }
        }
        try snapshotter.commit(namespace: "default", name: name, key: key, labels: [:])
    }
}
