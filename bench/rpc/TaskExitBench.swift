import ArgumentParser
import BerthAPI
import BerthOCI
#if canImport(Glibc)
import Glibc
#endif

/// `berth-bench task-exit`: latency from killing a task to its `/tasks/exit` event at a
/// subscriber — through `tasks.kill` (what `berthctl tasks kill` sends) and by a direct
/// `kill(2)` of the container's process.
struct TaskExitBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "task-exit", abstract: "kill → /tasks/exit latency at a subscriber.")

    @Option var address: String
    @Option(help: "A root file system directory with sh and sleep.") var rootfs: String
    @Option(help: "Kills per method (a p99 needs 100 or more: of 30 it is the largest).") var count = 100
    @Option(help: "Unmeasured kills per method first (berthd's first call of a kind pays its first use).") var warmup = 2
    @Option(help: "Pauses between start and kill, in ms, each measured on its own (0: kill at once; 20: a task that has run a moment, on an idle host).")
    var settleMs: [Int] = [0, 20]
    @Option(help: "How to kill: tasks.kill or kill(2); repeat the option for both (the default).")
    var via: [String] = []

    func validate() throws {
        for method in via where !Self.methods.contains(method) {
            throw ValidationError("--via must be tasks.kill or kill(2), not \(method)")
        }
    }

    static let methods = ["tasks.kill", "kill(2)"]

    func run() async throws {
        // The subscriber handles each event on the thread that reads it (as the shim
        // does), not after a wake-up of a pool thread: its own share of the latency
        // stays out of the figure as far as it can.
        IOThreadExecutor.install(loops: 1)
        let client = try await BerthClient.connect(to: address)
        defer { client.close() }
        let subscription = try await client.subscribeEvents(filters: [#"topic=="/tasks/exit""#])
        var iterator = subscription.makeAsyncIterator()
        for settle in Array(Set(settleMs)).sorted() { for method in Self.methods where via.isEmpty || via.contains(method) {
            var samples: [Double] = []
            for i in 0..<(warmup + count) {
                let id = "exit-\(getpid())-\(settle)\(method == "kill(2)" ? "d" : "t")\(i)"
                let spec = Spec.containerDefault(namespace: "default", id: id, args: ["sleep", "600"])
                try await client.call(API.containersCreate, CreateContainerRequest(container: Container(id: id, spec: spec)))
                let pid = try await client.call(API.tasksCreate, CreateTaskRequest(containerID: id, rootfs: rootfs)).pid
                try await client.call(API.tasksStart, TaskRequest(containerID: id))
                // The start's aftermath (the runtime's `start` process exiting, the
                // container's exec, the journal's sync of /tasks/start) is not the kill's.
                if settle > 0 { usleep(UInt32(settle) * 1000) }
                let start = monotonicMicros()
                if method == "kill(2)" {
                    kill(pid, SIGKILL)
                } else {
                    try await client.call(API.tasksKill, KillTaskRequest(containerID: id, signal: SIGKILL))
                }
                while let event = try await iterator.next() {
                    if case let .object(fields) = event.payload, case let .string(cid)? = fields["containerID"], cid == id { break }
                }
                if i >= warmup { samples.append(monotonicMicros() - start) }
                _ = try? await client.call(API.tasksDelete, TaskRequest(containerID: id))
                _ = try? await client.call(API.containersDelete, ContainerRequest(id: id))
            }
            samples.sort()
            print("tasks.exit_latency via=\(method) settle_ms=\(settle) count=\(count) p50_ms=\(ms(pct(samples, 0.5))) p90_ms=\(ms(pct(samples, 0.9))) p99_ms=\(ms(pct(samples, 0.99)))")
        } }
    }
}
