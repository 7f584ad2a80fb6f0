import BerthAPI
import BerthEvents
import BerthRPC
import BerthMetadata
import BerthSnapshots
import NIOPosix
import Synchronization

/// The snapshotters the daemon loaded, by name; filled by the snapshotter plugins.
public final class SnapshotterTable: Sendable {
    private let entries = Mutex<[String: any Snapshotter]>([:])

    public init() {}

    func add(_ snapshotter: any Snapshotter) {
        entries.withLock { $0[snapshotter.name] = snapshotter }
    }

    /// Every loaded snapshotter, sorted by name.
    public var all: [any Snapshotter] { entries.withLock { $0.values.sorted { $0.name < $1.name } } }

    /// Loaded snapshotters' names, sorted.
    public var names: [String] { entries.withLock { $0.keys.sorted() } }

    /// The snapshotter called `name` (default `overlayfs`), or `InvalidArgument`.
    public func get(_ name: String?) throws -> any Snapshotter {
        let name = name ?? Snapshots.defaultSnapshotter
        guard let found = entries.withLock({ $0[name] }) else {
            let loaded = names
            throw BerthError.invalidArgument("snapshotter \"\(name)\" is not loaded (loaded: \(loaded.isEmpty ? "none" : loaded.joined(separator: ", ")))")
        }
        return found
    }
}

/// `snapshots.*`: each call picks a snapshotter (`overlayfs` by default) and a
/// namespace (`default`), and runs on the blocking thread pool, since copies, usage
/// walks and syncs touch the disk.
struct SnapshotsService: Sendable {
    let snapshotters: SnapshotterTable
    let namespaces: NamespaceStore
    let events: any EventPublisher

    func register(_ router: inout Router) {
        router.register(API.snapshotsPrepare) { p, _ in
            try await run {
                let s = try snapshotters.get(p.snapshotter)
                let ns = p.namespace ?? "default"
                try namespaces.ensure(ns)
                let mounts = try s.prepare(namespace: ns, key: p.key, parent: p.parent, labels: p.labels ?? [:])
                events.publish(EventTopics.snapshotPrepare, namespace: ns, SnapshotPrepareEvent(key: p.key, parent: p.parent ?? "", snapshotter: s.name))
                return SnapshotMountsResponse(mounts: mounts)
            }
        }
        router.register(API.snapshotsView) { p, _ in
            try await run {
                let s = try snapshotters.get(p.snapshotter)
                let ns = p.namespace ?? "default"
                try namespaces.ensure(ns)
                let mounts = try s.view(namespace: ns, key: p.key, parent: p.parent, labels: p.labels ?? [:])
                // containerd publishes views as /snapshot/prepare too.
                events.publish(EventTopics.snapshotPrepare, namespace: ns, SnapshotPrepareEvent(key: p.key, parent: p.parent ?? "", snapshotter: s.name))
                return SnapshotMountsResponse(mounts: mounts)
            }
        }
        router.register(API.snapshotsCommit) { p, _ in
            try await run {
                let s = try snapshotters.get(p.snapshotter)
                try s.commit(namespace: p.namespace ?? "default", name: p.name, key: p.key, labels: p.labels ?? [:])
                events.publish(EventTopics.snapshotCommit, namespace: p.namespace ?? "default", SnapshotCommitEvent(key: p.key, name: p.name, snapshotter: s.name))
                return Empty()
            }
        }
        router.register(API.snapshotsRemove) { p, _ in
            try await run {
                let s = try snapshotters.get(p.snapshotter)
                try s.remove(namespace: p.namespace ?? "default", key: p.key)
                events.publish(EventTopics.snapshotRemove, namespace: p.namespace ?? "default", SnapshotRemoveEvent(key: p.key, snapshotter: s.name))
                return Empty()
            }
        }
        router.register(API.snapshotsStat) { p, _ in
            try await run { SnapshotInfoResponse(info: try snapshotters.get(p.snapshotter).stat(namespace: p.namespace ?? "default", key: p.key)) }
        }
        router.register(API.snapshotsUpdate) { p, _ in
            try await run {
                let info = try snapshotters.get(p.snapshotter).update(namespace: p.namespace ?? "default", info: p.info, fieldPaths: p.updateMask ?? [])
                return SnapshotInfoResponse(info: info)
            }
        }
        router.register(API.snapshotsList) { p, _ in
            try await run { ListSnapshotsResponse(info: try snapshotters.get(p.snapshotter).list(namespace: p.namespace ?? "default", filters: p.filters ?? [])) }
        }
        router.register(API.snapshotsMounts) { p, _ in
            try await run { SnapshotMountsResponse(mounts: try snapshotters.get(p.snapshotter).mounts(namespace: p.namespace ?? "default", key: p.key)) }
        }
        router.register(API.snapshotsUsage) { p, _ in
            try await run { try snapshotters.get(p.snapshotter).usage(namespace: p.namespace ?? "default", key: p.key) }
        }
        router.register(API.snapshotsCleanup) { p, _ in
            try await run { CleanupSnapshotsResponse(removed: try snapshotters.get(p.snapshotter).cleanup()) }
        }
    }

    /// Runs blocking work off the cooperative pool.
    private func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await NIOThreadPool.singleton.runIfActive(body)
    }
}
