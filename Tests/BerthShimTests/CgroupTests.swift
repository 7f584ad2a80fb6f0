import BerthAPI
import BerthOCI
import Foundation
import Testing

extension ShimTests {
    /// task.stats and task.update, which the shim runs through `berth-runtime cgroup-stats`
    /// and `cgroup-update` on the task's own cgroup.
    @Suite("Cgroup")
    struct CgroupTests {
        @Test("stats: NotFound before create, then the running task's pids; update sets a pids limit that stats then show; bad resources and a stopped task are refused")
        func statsAndUpdate() async throws {
            try await withShim(["sleep", "100"]) { shim in
                let client = try await shim.connect()
                await expectError(.notFound, "stats before create") {
                    _ = try await client.call(ShimAPI.stats, ShimProcessRequest())
                }
                try await client.call(ShimAPI.create, ShimCreateRequest(stdio: ShimStdio()))
                try await client.call(ShimAPI.start, ShimProcessRequest())

                let before = try await client.call(ShimAPI.stats, ShimProcessRequest()).stats
                #expect(before["pids"]?["current"] == .integer(1), "stats: \(before)")
                #expect(before["cpu"]?["usageNanoseconds"] != nil, "stats: \(before)")

                var resources = Spec.Resources()
                resources.pids = Spec.Pids(limit: 42)
                try await client.call(ShimAPI.update, ShimUpdateRequest(resources: resources))
                let after = try await client.call(ShimAPI.stats, ShimProcessRequest()).stats
                #expect(after["pids"]?["limit"] == .integer(42), "stats after update: \(after)")

                // A value the kernel refuses (a CPU this host does not have): a clear
                // error, and the shim goes on serving.
                var bad = Spec.Resources()
                bad.cpu = Spec.CPU(cpus: "999")
                await expectError(.internal, "cpuset 999") {
                    try await client.call(ShimAPI.update, ShimUpdateRequest(resources: bad))
                }
                #expect(try await client.call(ShimAPI.state, ShimProcessRequest()).status == "running")

                try await client.call(ShimAPI.kill, ShimKillRequest(signal: SIGKILL))
                _ = try await client.call(ShimAPI.wait, ShimProcessRequest())
                await expectError(.failedPrecondition, "update of a stopped task") {
                    try await client.call(ShimAPI.update, ShimUpdateRequest(resources: resources))
                }
                try await client.call(ShimAPI.delete, ShimProcessRequest())
            }
        }
    }
}
