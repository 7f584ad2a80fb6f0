import BerthAPI
import BerthEvents
import BerthMetadata
import BerthSystem
import Dispatch
import Logging
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
            context.exchange.close()
            lock.release()
        }
    }

    /// Starts serving and returns; the caller decides how long to run.
    public func start() async throws -> Running {
        umask(0o077) // files berthd creates are private unless it says otherwise
        signal(SIGPIPE, SIG_IGN)
        try FileSystem.makeDirectory(config.root, mode: 0o711)
        try FileSystem.makeDirectory(config.state, mode: 0o711)
        let lock = try RootLock(directory: config.root)
        var opened: Exchange?
        do {
            let database = try Database(path: config.root + "/metadata.db")
            let exchange = try Exchange(options: config.exchangeOptions, logger: logger)
            opened = exchange
            let context = DaemonContext(config: config, database: database, exchange: exchange, logger: logger, plugins: PluginTable())
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
            return Running(server: server, context: context, lock: lock, methods: router.methods)
        } catch {
            opened?.close()
            lock.release()
            throw error
        }
    }

    /// Runs until SIGTERM or SIGINT, then stops gracefully.
    public func run() async throws {
        let running = try await start()
        let signal = await Self.waitForTermination()
        logger.info("stopping", metadata: ["signal": "\(signal)"])
        await running.stop()
        logger.info("stopped")
    }

    /// Waits for SIGTERM or SIGINT and returns which arrived.
    static func waitForTermination() async -> Int32 {
        await withCheckedContinuation { (continuation: CheckedContinuation<Int32, Never>) in
            let queue = DispatchQueue(label: "berthd.signals")
            let fired = SignalLatch(continuation)
            for sig in [SIGTERM, SIGINT] {
                Glibc.signal(sig, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: sig, queue: queue)
                source.setEventHandler { fired.fire(sig) }
                source.resume()
                fired.keep(source)
            }
        }
    }
}

/// Resumes a continuation once, from whichever signal arrives first.
private final class SignalLatch: @unchecked Sendable {
    private var continuation: CheckedContinuation<Int32, Never>?
    private var sources: [any DispatchSourceSignal] = []

    init(_ continuation: CheckedContinuation<Int32, Never>) {
        self.continuation = continuation
    }

    /// Called on the signal queue only, so no lock is needed.
    func fire(_ signal: Int32) {
        continuation?.resume(returning: signal)
        continuation = nil
    }

    func keep(_ source: any DispatchSourceSignal) {
        sources.append(source)
    }
}
