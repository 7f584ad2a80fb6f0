import BerthAPI
import BerthMetadata
@testable import BerthSnapshots
import BerthSystem
import Foundation
import Testing

/// What a crash leaves behind is reconciled: directories no metadata points at are
/// removed by `cleanup`, and nothing half-made is ever visible as a snapshot.
@Suite(.serialized) struct CrashRecoveryTests {
    /// The real thing: berthd is SIGKILLed while a native prepare is copying its parent
    /// (after the temporary directory exists, before its rename and the metadata row),
    /// restarted, and `snapshots.cleanup` finds nothing leaked.
    @Test func killDuringPrepareThenRestartLeaksNothing() async throws {
        try await withDaemonProcess { daemon, _ in
            let snapshots = daemon.root + "/snapshots/native/snapshots"
            let client = try await daemon.client()
            let mounts = try await client.call(API.snapshotsPrepare, PrepareSnapshotRequest(snapshotter: "native", key: "fill"))
            // A parent large enough that copying it takes a while: 6000 small files.
            let fs = mounts.mounts[0].source
            for d in 0..<60 {
                try FileManager.default.createDirectory(atPath: "\(fs)/d\(d)", withIntermediateDirectories: true)
                for i in 0..<100 { try Data(repeating: UInt8(i), count: 512).write(to: URL(fileURLWithPath: "\(fs)/d\(d)/f\(i)")) }
            }
            try await client.call(API.snapshotsCommit, CommitSnapshotRequest(snapshotter: "native", name: "base", key: "fill"))
            let before = listing(snapshots)
            #expect(before.count == 1)

            client.close()
            let pid = try #require(daemon.pid)
            let request = #"{"id":9,"jsonrpc":"2.0","method":"snapshots.prepare","params":{"key":"victim","parent":"base","snapshotter":"native"}}"#
            let trigger = KillWhenSeen(address: daemon.address, request: request, directory: snapshots, prefix: "new-", pid: pid)
            await trigger.wait()
            daemon.kill() // reaps it
            #expect(trigger.failure == nil, "\(trigger.failure ?? "")")
            let sawTemporary = trigger.seen
            #expect(sawTemporary, "the prepare's temporary directory was seen before the kill")
            let leftover = listing(snapshots).filter { !before.contains($0) }
            #expect(!leftover.isEmpty, "the crash left a directory behind: \(leftover)")

            try await daemon.start()
            let again = try await daemon.client()
            defer { again.close() }
            let cleaned = try await again.call(API.snapshotsCleanup, CleanupSnapshotsRequest(snapshotter: "native"))
            #expect(cleaned.removed.isEmpty, "berthd already reconciled at start: \(cleaned.removed)")
            #expect(listing(snapshots) == before, "only the committed base remains on disk")
            let list = try await again.call(API.snapshotsList, ListSnapshotsRequest(snapshotter: "native")).info.map(\.name)
            #expect(list == ["base"], "no half-made snapshot is visible")
            // The key is free and the parent intact.
            let redo = try await again.call(API.snapshotsPrepare, PrepareSnapshotRequest(snapshotter: "native", key: "victim", parent: "base"))
            #expect(listing(redo.mounts[0].source).count == 60)
        }
    }

    /// The other crash points, simulated on disk exactly as they leave it: a temporary
    /// directory (killed before the rename), a numbered directory without a row (killed
    /// between the rename and the commit of the transaction, which rolls back), and an
    /// `rm-<id>` directory (killed after a removal committed, before the files went).
    @Test(arguments: Implementation.allCases) func cleanupReclaimsWhatNoMetadataPointsAt(_ impl: Implementation) throws {
        try withFixture(impl) { f in
            try f.layer("base", parent: nil, ["a": "1"])
            _ = try f.snapshotter.prepare(namespace: "default", key: "live", parent: "base", labels: [:])
            let dir = f.root + "/snapshots"
            let live = listing(dir)
            for orphan in ["new-Ab12Cd", "9999", "rm-17"] {
                try write("\(dir)/\(orphan)/fs/file", "leaked")
            }
            let removed = try f.snapshotter.cleanup()
            #expect(removed.sorted() == ["9999", "new-Ab12Cd", "rm-17"])
            #expect(listing(dir) == live)
            #expect(try f.snapshotter.cleanup().isEmpty)
            try f.withMounted(try f.snapshotter.mounts(namespace: "default", key: "live")) { m in #expect(read(m + "/a") == "1") }
        }
    }

    /// A row whose directory is gone (a disk restored from an old backup) can still be
    /// removed: the removal is the repair.
    @Test(arguments: Implementation.allCases) func removeOfARowWithoutDirectory(_ impl: Implementation) throws {
        try withFixture(impl) { f in
            _ = try f.snapshotter.prepare(namespace: "default", key: "k", parent: nil, labels: [:])
            let dir = f.root + "/snapshots"
            for entry in listing(dir) { try FileManager.default.removeItem(atPath: dir + "/" + entry) }
            try f.snapshotter.remove(namespace: "default", key: "k")
            expectKind(.notFound) { _ = try f.snapshotter.stat(namespace: "default", key: "k") }
        }
    }

    /// A prepare whose directory cannot be filled (disk full, I/O error) leaves no
    /// directory and no row behind.
    @Test func failedPrepareLeavesNothing() throws {
        try withFixture(.native) { f in
            let failing = try LocalSnapshotter(name: "native", root: f.root, database: f.database, layout: FailingLayout())
            var failure: SystemError?
            do { _ = try failing.prepare(namespace: "default", key: "k", parent: nil, labels: [:]) } catch let error as SystemError { failure = error }
            #expect(failure?.errno == ENOSPC)
            #expect(listing(f.root + "/snapshots").isEmpty)
            expectKind(.notFound) { _ = try f.snapshotter.stat(namespace: "default", key: "k") }
        }
    }
}

/// A layout whose `populate` writes part of a snapshot and then fails, as a full disk would.
struct FailingLayout: SnapshotLayout {
    func populate(_ directory: String, kind: SnapshotKind, parentFS: String?) throws {
        try write(directory + "/fs/partial", "half a copy")
        throw SystemError(errno: ENOSPC, stage: "copy")
    }
    func mounts(directory: String, kind: SnapshotKind, ancestors: [String]) -> [Mount] { [] }
    func usage(directory: String, parentFS: String?) throws -> SnapshotUsage { SnapshotUsage() }
}
