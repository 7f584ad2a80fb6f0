import ArgumentParser
import BerthAPI
#if canImport(Glibc)
import Glibc
#endif

/// berth-bench: micro-benchmarks that need the client library (bench/*.bench.sh run it).
struct BerthBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "berth-bench", abstract: "Berth micro-benchmarks.", subcommands: [RPC.self, SnapshotsBench.self, EventsBench.self, TaskExitBench.self, ExitCLIBench.self])

    /// Round trips of `system.version` over one connection, one call at a time.
    struct RPC: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "rpc", abstract: "system.version round trips over one connection.")
        @Option var address: String
        @Option var count = 20000
        @Option var warmup = 1000

        func run() async throws {
            let client = try await BerthClient.connect(to: address)
            defer { client.close() }
            for _ in 0..<warmup { _ = try await client.version() }
            var samples: [Double] = []
            samples.reserveCapacity(count)
            for _ in 0..<count {
                let start = now()
                _ = try await client.version()
                samples.append(now() - start)
            }
            samples.sort()
            func pct(_ p: Double) -> Double { samples[min(samples.count - 1, Int(Double(samples.count) * p))] }
            let mean = samples.reduce(0, +) / Double(samples.count)
            print("rpc.system.version p50_us=\(fmt(pct(0.50))) p99_us=\(fmt(pct(0.99))) mean_us=\(fmt(mean)) count=\(count)")
        }
    }
}

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) * 1e6 + Double(ts.tv_nsec) / 1e3
}

func fmt(_ v: Double) -> String {
    let scaled = (v * 10).rounded() / 10
    return "\(scaled)"
}

extension BerthBench {
    /// See berthd's main.swift: top-level code must not pick the synchronous main.
    static func entry() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}

await BerthBench.entry()
