import BerthAPI
import BerthContent
import BerthRPC
import BerthEvents
import BerthMetadata
import BerthSystem
import Dispatch
import Logging
import Synchronization
import NIOCore
import NIOPosix
#if canImport(Glibc)
import Glibc
#endif

/// berthd: prepares its directories, takes the root lock, opens the metadata store,
/// loads the plugins and serves the API until SIGTERM or SIGINT.
public final class Daemon: Sendable {
    public let config: DaemonConfig
    let logger: Logger

    public init(config: DaemonConfig, logger: Logger) {
        self.config = config
        self.logger = logger
    }

    /// A started daemon: its lock, store and server. `stop()` undoes `start()`.
    public struct Running: Sendable {
        public let server: APIServer
        public let context: DaemonContext
        let lock: RootLock
        public let methods: [String]

        public func stop() async {
            Systemd.notify("STOPPING=1")
            await server.stop()
            // The spare exits when its connection closes; a spare still starting is
            // waited for (its launcher is spawned while the lock is held).
            await context.shims.spare.close()
            context.exchange.close()
            lock.release()
        }
    }

    /// berthd's sockets on one I/O thread. Called by berthd before anything uses NIO.
    ///
    /// A call that reaches a shim (tasks.kill, tasks.start, …) is read on its client's
    /// connection and sent on the shim's; with one thread per core those two were
    /// often different threads, and the hop between them cost ~0.25 ms of each call on
    /// this 2-core machine. The work of a call (SQLite, the journal, bundles) runs in
    /// the task pool, not on this thread.
    public static func useOneIOThread() {
        NIOSingletons.groupLoopCountSuggestion = 1
    }

    /// Starts serving and returns; the caller decides how long to run.
    public func start() async throws -> Running {
        signal(SIGPIPE, SIG_IGN)
        try FileSystem.makeDirectory(config.root, mode: 0o711, enforceMode: true)
        let lock = try RootLock(directory: config.root)
        // Only the lock holder touches the state directory.
        try FileSystem.makeDirectory(config.state, mode: 0o711, enforceMode: true)
        var opened: Exchange?
        do {
            let database = try Database(path: config.root + "/metadata.db")
            let exchange = try Exchange(options: config.exchangeOptions, logger: logger)
            opened = exchange
            let shims = ShimManager(config: config, logger: logger, events: exchange)
            let content = try ContentStore(root: config.root + "/content", database: database) { namespace, info in
                exchange.publish(EventTopics.contentCreate, namespace: namespace, ContentCreateEvent(digest: info.digest, size: info.size))
            }
            let context = DaemonContext(config: config, database: database, exchange: exchange, logger: logger, shims: shims, plugins: PluginTable(),
                                        content: content, leases: LeaseStore(database))
            let router = Plugins.load(context)
            let server = APIServer(
                options: .init(path: config.socketPath, maxFrameBytes: config.maxFrameBytes,
                               frameTimeout: .milliseconds(Int64(config.frameTimeoutSeconds * 1000)),
                               maxConnections: config.maxConnections, group: config.group.flatMap(lookupGroup)),
                router: router, logger: logger)
            let activated = try Systemd.activatedSocket()
            try await server.start(listenFD: activated)
            logger.info("serving", metadata: [
                "address": "\(config.socketPath)", "root": "\(config.root)", "state": "\(config.state)",
                "socket.activated": "\(activated != nil)", "methods": "\(router.methods.count)",
            ])
            Systemd.notify("READY=1\nSTATUS=serving on \(config.socketPath)\nMAINPID=\(getpid())")
            // Shims are found again in the background: a slow one never delays serving.
            Task {
                await shims.reconnectAll()
                shims.replenishSpare()
            }
            return Running(server: server, context: context, lock: lock, methods: router.methods)
        } catch {
            opened?.close()
            lock.release()
            throw error
        }
    }

    /// Runs until SIGTERM or SIGINT, then stops gracefully. The signals are caught from
    /// before the socket exists, so one sent the moment the daemon is ready is handled.
    public func run() async throws {
        let termination = Self.catchTermination()
        let running = try await start()
        let signal = await termination.wait()
        logger.info("stopping", metadata: ["signal": "\(signal)"])
        await running.stop()
        logger.info("stopped")
    }

    /// Starts catching SIGTERM and SIGINT (ignored by default, delivered to a latch).
    static func catchTermination() -> SignalLatch {
        let latch = SignalLatch()
        let queue = DispatchQueue(label: "berthd.signals")
        for sig in [SIGTERM, SIGINT] {
            Glibc.signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: queue)
            source.setEventHandler { latch.fire(sig) }
            source.resume()
            latch.keep(source)
        }
        return latch
    }
}

/// The first termination signal, remembered until someone waits for it.
final class SignalLatch: @unchecked Sendable {
    private struct State {
        var continuation: CheckedContinuation<Int32, Never>?
        var fired: Int32?
    }

    private let state = Mutex(State())
    /// Kept alive for the life of the daemon; only touched while signals are set up.
    private var sources: [any DispatchSourceSignal] = []

    func fire(_ signal: Int32) {
        let waiter = state.withLock { s -> CheckedContinuation<Int32, Never>? in
            if s.fired == nil { s.fired = signal }
            defer { s.continuation = nil }
            return s.continuation
        }
        waiter?.resume(returning: signal)
    }

    func wait() async -> Int32 {
        await withCheckedContinuation { (c: CheckedContinuation<Int32, Never>) in
            let already = state.withLock { s -> Int32? in
                if let fired = s.fired { return fired }
                s.continuation = c
                return nil
            }
            if let already { c.resume(returning: already) }
        }
    }

    func keep(_ source: any DispatchSourceSignal) {
        sources.append(source)
    }
}
