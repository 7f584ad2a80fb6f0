import BerthAPI
import Foundation
import Testing

/// `snapshots.*` as a client sees it, against a real berthd: the snapshotter and
/// namespace params, `system.info`, and namespaces that hold snapshots.
@Suite(.serialized) struct SnapshotsServiceTests {
    @Test func systemInfoListsTheSnapshotterPlugins() async throws {
        try await withDaemonProcess { daemon, _ in
            let client = try await daemon.client()
            defer { client.close() }
            let info = try await client.info()
            #expect(info.snapshotters == ["native", "overlayfs"])
            let plugins = info.plugins.filter { $0.type == "io.berth.snapshotter.v1" }
            #expect(plugins.map(\.id).sorted() == ["native", "overlayfs"])
            #expect(plugins.allSatisfy { $0.status == "ok" })
            #expect(info.plugins.contains { $0.type == "io.berth.service.v1" && $0.id == "snapshots" })
        }
    }

    @Test func callsAreScopedBySnapshotterAndNamespace() async throws {
        try await withDaemonProcess { daemon, _ in
            let client = try await daemon.client()
            defer { client.close() }
            // Absent snapshotter and namespace: overlayfs, default.
            let mounts = try await client.call(API.snapshotsPrepare, PrepareSnapshotRequest(key: "k")).mounts
            #expect(mounts[0].source.contains("/snapshots/overlayfs/"))
            _ = try await client.call(API.snapshotsPrepare, PrepareSnapshotRequest(snapshotter: "native", namespace: "builds", key: "k"))
            let overlayDefault = try await client.call(API.snapshotsList, ListSnapshotsRequest()).info.map(\.name)
            let nativeBuilds = try await client.call(API.snapshotsList, ListSnapshotsRequest(snapshotter: "native", namespace: "builds")).info.map(\.name)
            let nativeDefault = try await client.call(API.snapshotsList, ListSnapshotsRequest(snapshotter: "native")).info
            #expect(overlayDefault == ["k"] && nativeBuilds == ["k"] && nativeDefault.isEmpty)

            // Preparing in a namespace creates it; it cannot be deleted while it holds snapshots.
            #expect(try await client.namespaces().map(\.name).contains("builds"))
            do {
                try await client.deleteNamespace("builds")
                Issue.record("a namespace holding snapshots was deleted")
            } catch let error as BerthError {
                #expect(error.kind == .failedPrecondition)
                #expect(error.message.contains("1 in snapshots"), "\(error.message)")
            }
            try await client.call(API.snapshotsRemove, SnapshotKeyRequest(snapshotter: "native", namespace: "builds", key: "k"))
            try await client.deleteNamespace("builds")

            do {
                _ = try await client.call(API.snapshotsStat, SnapshotKeyRequest(snapshotter: "zfs", key: "k"))
                Issue.record("an unknown snapshotter answered")
            } catch let error as BerthError {
                #expect(error.kind == .invalidArgument)
            }
        }
    }

    @Test func snapshotsSurviveARestart() async throws {
        try await withDaemonProcess { daemon, _ in
            var client = try await daemon.client()
            let m = try await client.call(API.snapshotsPrepare, PrepareSnapshotRequest(key: "a")).mounts[0]
            try write(m.source + "/kept", "yes")
            try await client.call(API.snapshotsCommit, CommitSnapshotRequest(name: "base", key: "a", labels: ["x": "1"]))
            client.close()
            daemon.stop()
            try await daemon.start()
            client = try await daemon.client()
            defer { client.close() }
            let info = try await client.call(API.snapshotsStat, SnapshotKeyRequest(key: "base")).info
            #expect(info.kind == .committed && info.labels == ["x": "1"])
            let view = try await client.call(API.snapshotsView, PrepareSnapshotRequest(key: "v", parent: "base")).mounts[0]
            #expect(read(view.source + "/kept") == "yes")
        }
    }
}
