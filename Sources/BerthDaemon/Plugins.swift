import BerthAPI
import BerthEvents
import BerthMetadata
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
    /// Filled in as plugins load; read by `system.info`.
    let plugins: PluginTable

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
        PluginRegistration(type: "io.berth.service.v1", id: "system") { context, router in
            SystemService(context: context).register(&router)
        },
        PluginRegistration(type: "io.berth.events.v1", id: "exchange") { context, router in
            EventsService(exchange: context.exchange).register(&router)
        },
        PluginRegistration(type: "io.berth.service.v1", id: "namespaces") { context, router in
            NamespacesService(store: NamespaceStore(context.database), events: context.events).register(&router)
        },
    ]

    /// Loads every plugin into a router, recording each outcome in the context.
    static func load(_ context: DaemonContext, plugins: [PluginRegistration] = all) -> Router {
        var router = Router()
        for plugin in plugins {
            do {
                try plugin.load(context, &router)
                context.plugins.record(PluginInfo(type: plugin.type, id: plugin.id))
            } catch {
                context.logger.error("plugin failed to load", metadata: ["plugin": "\(plugin.type).\(plugin.id)", "error": "\(error)"])
                context.plugins.record(PluginInfo(type: plugin.type, id: plugin.id, status: "error", error: "\(error)"))
            }
        }
        return router
    }
}
