import BerthAPI
import BerthContent
import BerthImages
import BerthRPC
import BerthEvents
import BerthMetadata
import BerthSnapshots
import Logging
import Synchronization

/// What plugins are given at start: the configuration, the metadata store, the event
/// exchange, a logger.
public struct DaemonContext: Sendable {
    public let config: DaemonConfig
    public let database: Database
    /// The event exchange (journal, subscriptions); services publish through `events`.
    public let exchange: Exchange
    public let logger: Logger
    /// The task shims, shared by the containers and tasks services.
    let shims: ShimManager
    /// Filled in as plugins load; read by `system.info`.
    let plugins: PluginTable
    /// Filled by the snapshotter plugins; read by `snapshots.*` and `system.info`.
    let snapshotters = SnapshotterTable()
    /// The content store at `<root>/content` (`content.*`; the image service reads and
    /// writes blobs through it). Its commits publish `/content/create`.
    public let content: ContentStore
    /// Leases (`leases.*`; the image service holds one while it imports).
    public let leases: LeaseStore
    /// The garbage collector's plug (see `GarbageCollection`).
    public let garbageCollection = GarbageCollection()

    /// What services publish their events through.
    public var events: any EventPublisher { exchange }
}

/// The outcome of loading each plugin, in load order.
final class PluginTable: Sendable {
    private let entries = Mutex<[PluginInfo]>([])

    var infos: [PluginInfo] { entries.withLock { $0 } }

    func record(_ info: PluginInfo) {
        entries.withLock { $0.append(info) }
    }
}

/// One entry of the daemon's plugin list.
struct PluginRegistration: Sendable {
    let type: String
    let id: String
    /// Registers the plugin's methods; a throw marks the plugin failed and the daemon
    /// goes on without it.
    let load: @Sendable (DaemonContext, inout Router) throws -> Void
}

/// Every plugin the daemon loads, in order: an explicit list, as containerd's
/// `builtins`, rather than registration hidden in initializers.
enum Plugins {
    static let all: [PluginRegistration] = [
        PluginRegistration(type: "io.berth.metadata.v1", id: "sqlite") { _, _ in },
        PluginRegistration(type: "io.berth.snapshotter.v1", id: "overlayfs") { context, _ in
            try loadSnapshotter(context, LocalSnapshotter.overlay(root: context.config.root + "/snapshots/overlayfs", database: context.database))
        },
        PluginRegistration(type: "io.berth.snapshotter.v1", id: "native") { context, _ in
            try loadSnapshotter(context, LocalSnapshotter.native(root: context.config.root + "/snapshots/native", database: context.database))
        },
        PluginRegistration(type: "io.berth.service.v1", id: "system") { context, router in
            SystemService(context: context).register(&router)
        },
        PluginRegistration(type: "io.berth.events.v1", id: "exchange") { context, router in
            EventsService(exchange: context.exchange).register(&router)
        },
        PluginRegistration(type: "io.berth.service.v1", id: "namespaces") { context, router in
            NamespacesService(store: NamespaceStore(context.database), events: context.events).register(&router)
        },
        PluginRegistration(type: "io.berth.service.v1", id: "snapshots") { context, router in
            SnapshotsService(snapshotters: context.snapshotters, namespaces: NamespaceStore(context.database), events: context.events).register(&router)
        },
        PluginRegistration(type: "io.berth.content.v1", id: "local") { context, _ in
            try checkContent(context)
        },
        PluginRegistration(type: "io.berth.service.v1", id: "content") { context, router in
            ContentService(store: context.content, events: context.events).register(&router)
        },
        PluginRegistration(type: "io.berth.service.v1", id: "leases") { context, router in
            LeasesService(store: context.leases, collector: context.garbageCollection).register(&router)
        },
        PluginRegistration(type: "io.berth.service.v1", id: "containers") { context, router in
            ContainersService(store: ContainerStore(context.database), shims: context.shims, events: context.events).register(&router)
        },
        PluginRegistration(type: "io.berth.service.v1", id: "tasks") { context, router in
            TasksService(containers: ContainerStore(context.database), shims: context.shims,
                         seccompProfile: SeccompProfileLocator.load(), snapshotters: context.snapshotters).register(&router)
        },
        PluginRegistration(type: "io.berth.service.v1", id: "images") { context, router in
            let images = ImageStore(context.database)
            let snapshotters = context.snapshotters
            let collector = GarbageCollector(database: context.database, images: images, content: context.content, leases: context.leases,
                                             snapshotters: { snapshotters.all })
            let gc = GCScheduler(collector: collector, events: context.events, logger: context.logger)
            // leases.delete with sync waits for a collection through this plug.
            context.garbageCollection.install { _ = try await gc.collect(dryRun: false) }
            ImagesService(images: images, content: context.content, leases: context.leases, snapshotters: context.snapshotters,
                          namespaces: NamespaceStore(context.database), events: context.events, gc: gc,
                          maxLayerBytes: context.config.imagesMaxLayerBytes).register(&router)
        },
    ]

    /// Reconciles a snapshotter with its metadata (what a crash left behind is removed)
    /// and makes it available to `snapshots.*`.
    static func loadSnapshotter(_ context: DaemonContext, _ snapshotter: LocalSnapshotter) throws {
        let removed = try snapshotter.cleanup()
        if !removed.isEmpty {
            context.logger.notice("removed snapshot directories no metadata points at", metadata: [
                "snapshotter": "\(snapshotter.name)", "removed": "\(removed.joined(separator: ","))",
            ])
        }
        context.snapshotters.add(snapshotter)
    }

    /// Compares the content store's rows with its blobs and logs what disagrees; changes
    /// nothing (see `ContentCheck`: blobs without rows are the collector's, rows without
    /// blobs the operator's). Unfinished ingests are kept for their writers to resume.
    static func checkContent(_ context: DaemonContext) throws {
        let report = try context.content.check()
        if !report.damagedRows.isEmpty {
            context.logger.warning("content rows whose blob is missing or of another size: reads fail until the bytes are ingested again or the rows removed", metadata: [
                "count": "\(report.damagedRows.count)",
                "content": "\(report.damagedRows.prefix(20).map { "\($0.namespace)/\($0.info.digest)" }.joined(separator: ","))",
            ])
        }
        if !report.unreferencedBlobs.isEmpty {
            context.logger.notice("blobs no namespace holds, left for garbage collection", metadata: ["count": "\(report.unreferencedBlobs.count)"])
        }
        let ingests = try context.content.listStatuses()
        if !ingests.isEmpty {
            context.logger.info("unfinished ingests kept for resume", metadata: ["count": "\(ingests.count)"])
        }
    }

    /// Loads every plugin into a router, recording each outcome in the context.
    static func load(_ context: DaemonContext, plugins: [PluginRegistration] = all) -> Router {
        var router = Router()
        for plugin in plugins {
            do {
                // Into a copy: a plugin that fails half way registers nothing.
                var candidate = router
                try plugin.load(context, &candidate)
                router = candidate
                context.plugins.record(PluginInfo(type: plugin.type, id: plugin.id))
            } catch {
                context.logger.error("plugin failed to load", metadata: ["plugin": "\(plugin.type).\(plugin.id)", "error": "\(error)"])
                context.plugins.record(PluginInfo(type: plugin.type, id: plugin.id, status: "error", error: "\(error)"))
            }
        }
        return router
    }
}
