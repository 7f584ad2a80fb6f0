import ArgumentParser
import BerthAPI
import BerthSnapshots
#if canImport(Glibc)
import Glibc
#endif

extension BerthBench {
    /// prepare + mount + unmount + remove of an active snapshot on a chain of layers,
    /// through the API and `MountExecutor` (what the shim will do), one at a time.
    struct SnapshotsBench: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "snapshots", abstract: "prepare+mount+umount+remove on a chain; mount time of the chain.")
        @Option var address: String
        @Option var snapshotter = "overlayfs"
        @Option(help: "Layers in the chain.") var layers = 10
        @Option var count = 200
        @Option var warmup = 10
        @Option(help: "An empty directory to mount on.") var target: String

        func run() async throws {
            let client = try await BerthClient.connect(to: address)
            defer { client.close() }
            let prefix = "bench\(layers)"
            var parent: String?
            for i in 0..<layers {
                let m = try await client.call(API.snapshotsPrepare, PrepareSnapshotRequest(snapshotter: snapshotter, key: "\(prefix)-k\(i)", parent: parent)).mounts[0]
                let upper = m.options.first { $0.hasPrefix("upperdir=") }.map { String($0.dropFirst(9)) } ?? m.source
                let fd = open("\(upper)/f\(i)", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
                if fd >= 0 { close(fd) }
                try await client.call(API.snapshotsCommit, CommitSnapshotRequest(snapshotter: snapshotter, name: "\(prefix)-l\(i)", key: "\(prefix)-k\(i)"))
                parent = "\(prefix)-l\(i)"
            }
            var cycle: [Double] = []
            var mountTimes: [Double] = []
            var prepareTimes: [Double] = []
            var unmountTimes: [Double] = []
            var removeTimes: [Double] = []
            for i in 0..<(warmup + count) {
                let start = now()
                let mounts = try await client.call(API.snapshotsPrepare, PrepareSnapshotRequest(snapshotter: snapshotter, key: "\(prefix)-active", parent: parent)).mounts
                let mountStart = now()
                try MountExecutor.mount(mounts, at: target)
                let mounted = now()
                try MountExecutor.unmount(target)
                let unmounted = now()
                try await client.call(API.snapshotsRemove, SnapshotKeyRequest(snapshotter: snapshotter, key: "\(prefix)-active"))
                if i >= warmup {
                    let end = now()
                    cycle.append(end - start)
                    prepareTimes.append(mountStart - start)
                    mountTimes.append(mounted - mountStart)
                    unmountTimes.append(unmounted - mounted)
                    removeTimes.append(end - unmounted)
                }
            }
            let total = cycle.reduce(0, +)
            func p50(_ samples: [Double]) -> String { fmt2(samples.sorted()[count / 2] / 1000) }
            let p99 = fmt2(cycle.sorted()[min(count - 1, count * 99 / 100)] / 1000)
            print("snapshots.cycle layers=\(layers) snapshotter=\(snapshotter) ops_per_s=\(fmt2(Double(count) / (total / 1e6))) p50_ms=\(p50(cycle)) p99_ms=\(p99) count=\(count)")
            print("snapshots.steps layers=\(layers) snapshotter=\(snapshotter) prepare_p50_ms=\(p50(prepareTimes)) mount_p50_ms=\(p50(mountTimes)) umount_p50_ms=\(p50(unmountTimes)) remove_p50_ms=\(p50(removeTimes))")
        }
    }
}

/// Two decimals: snapshot steps take well under a millisecond.
func fmt2(_ v: Double) -> String {
    "\((v * 100).rounded() / 100)"
}
