import BerthAPI
import BerthShim
import BerthSystem
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

    let enabled: Bool
    /// The spares' sockets: `<state>/s/spare-<berthd's pid>-<n>.sock`, beside the tasks' own.
    let directory: String
    let timeout: Duration
    let logger: Logger
    private let current = Mutex<Spare?>(nil)
    private let starting = Mutex(false)
    private let counter = Mutex(0)
    /// The spare being started, for `close` to wait for; and whether `close` came.
    private let inFlight = Mutex<Task<Void, Never>?>(nil)
    private let closed = Mutex(false)

    init(enabled: Bool, directory: String, timeout: Duration, logger: Logger) {
        self.enabled = enabled
        self.directory = directory
        self.timeout = timeout
        self.logger = logger
    }

    /// Hands the spare its task. nil when there is no spare, or it could not take the
    /// task (it then exits; the caller starts a shim as without a spare).
    func adopt(_ bootstrap: ShimBootstrap) async -> ShimStarted? {
        guard let spare = current.withLock({ spare -> Spare? in
            defer { spare = nil }
            return spare
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
        guard enabled, !closed.withLock({ $0 }), starting.withLock({ busy -> Bool in
            if busy { return false }
            busy = true
            return true
        }) else { return }
        let task = Task {
            defer { starting.withLock { $0 = false } }
            guard current.withLock({ $0 == nil }), !closed.withLock({ $0 }) else { return }
            let number = counter.withLock { n -> Int in
                n += 1
                return n
            }
            // berthd's pid in the name: a spare left waiting by a berthd that died
            // (it gives up after 10 s and removes its name) never shares one with ours.
            let address = directory + "/spare-\(getpid())-\(number).sock"
            do {
                let output = try await runBlocking { try runCapturing([shim, "spare", address], input: []) }
                let started = try WireJSON.decode(ShimStarted.self, from: output)
                let client = try await BerthClient.connect(to: started.address, timeout: timeout)
                current.withLock { $0 = Spare(client: client, pid: started.pid) }
            } catch {
                logger.warning("could not start a spare shim", metadata: ["error": "\(error)"])
            }
        }
        inFlight.withLock { $0 = task }
    }

    /// The spare's pid, if there is one (for tests and diagnostics).
    var pid: Int32? { current.withLock { $0?.pid } }

    /// Lets the spare go (berthd stops): no new one starts, one starting is waited for,
    /// and its connection closes, so it exits.
    func close() async {
        closed.withLock { $0 = true }
        await inFlight.withLock { $0 }?.value
        current.withLock { spare in
            spare?.client.close()
            spare = nil
        }
    }
}
