import BerthAPI
import Logging
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// berthd's spare shim (`[tasks] spare_shim`, on by default): one shim started before
/// any task needs it, which the next `tasks.create` adopts instead of starting a shim
/// (`berth-shim start` costs two executions of the shim, ~4–5 ms here, on that create's
/// path). The spare waits on a socket of its own with berthd connected; when berthd
/// goes away before adopting it, the connection closes and the spare exits.
final class SpareShim: Sendable {
    private struct Spare: Sendable {
        let client: BerthClient
        let pid: Int32
    }

    private struct State {
        /// The spare waiting to be adopted.
        var spare: Spare?
        /// The spare being started (one at a time), for `close` to wait for.
        var starting: Task<Void, Never>?
        /// Numbers the spares' sockets.
        var started = 0
        /// berthd stops: no new spare.
        var closed = false
    }

    let enabled: Bool
    /// The spares' sockets: `<state>/s/spare-<berthd's pid>-<n>.sock`, beside the tasks' own.
    let directory: String
    let timeout: Duration
    let logger: Logger
    private let state = Mutex(State())

    init(enabled: Bool, directory: String, timeout: Duration, logger: Logger) {
        self.enabled = enabled
        self.directory = directory
        self.timeout = timeout
        self.logger = logger
    }

    /// Hands the spare its task. nil when there is no spare, or it could not take the
    /// task (it then exits; the caller starts a shim as without a spare).
    func adopt(_ bootstrap: ShimBootstrap) async -> ShimStarted? {
        guard let spare = state.withLock({ s -> Spare? in
            defer { s.spare = nil }
            return s.spare
        }) else { return nil }
        defer { spare.client.close() }
        do {
            return try await spare.client.call(SpareAPI.adopt, bootstrap, timeout: timeout)
        } catch {
            logger.warning("the spare shim did not take the task; starting one", metadata: [
                "container.id": "\(bootstrap.id)", "spare.pid": "\(spare.pid)", "error": "\(error)",
            ])
            return nil
        }
    }

    /// Starts a spare in the background, unless one is there or on its way.
    func replenish(shim: String) {
        guard enabled else { return }
        state.withLock { s in
            guard !s.closed, s.spare == nil, s.starting == nil else { return }
            s.started += 1
            // berthd's pid in the name: a spare left waiting by a berthd that died
            // (it gives up after 10 s and removes its name) never shares one with ours.
            let address = directory + "/spare-\(getpid())-\(s.started).sock"
            s.starting = Task { await start(shim: shim, address: address) }
        }
    }

    private func start(shim: String, address: String) async {
        var spare: Spare?
        do {
            let output = try await runBlocking { try runCapturing([shim, "spare", address], input: []) }
            let started = try WireJSON.decode(ShimStarted.self, from: output)
            spare = Spare(client: try await BerthClient.connect(to: started.address, timeout: timeout), pid: started.pid)
        } catch {
            logger.warning("could not start a spare shim", metadata: ["error": "\(error)"])
        }
        state.withLock { s in
            s.starting = nil
            if s.closed { spare?.client.close() } else { s.spare = spare }
        }
    }

    /// Lets the spare go (berthd stops): no new one starts, one starting is waited for,
    /// and its connection closes, so it exits.
    func close() async {
        let starting = state.withLock { s -> Task<Void, Never>? in
            s.closed = true
            return s.starting
        }
        await starting?.value
        state.withLock { s in
            s.spare?.client.close()
            s.spare = nil
        }
    }
}
