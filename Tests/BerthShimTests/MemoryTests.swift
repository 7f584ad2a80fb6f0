import BerthAPI
import Foundation
import Testing

extension ShimTests {
    /// What a serving shim costs. The goal (the shim-footprint issue) is PSS ≤ 1 MiB and
    /// RSS ≤ 4 MiB per shim at 50 containers; this test measures 10 shims (or
    /// `BERTH_SHIM_MEMORY_COUNT`) and asserts only a generous bound (a debug build
    /// measured about 20 MiB RSS and 3 MiB PSS here), printing the numbers for the record.
    @Suite("Memory", .serialized)
    struct MemoryTests {
        /// 10 by default; `BERTH_SHIM_MEMORY_COUNT=50` measures at the scale.
        static let shims = ProcessInfo.processInfo.environment["BERTH_SHIM_MEMORY_COUNT"].flatMap { Int($0) } ?? 10

        @Test("median RSS of serving shims (10 by default), each with a running container, stays under 32 MiB")
        func footprint() async throws {
            var fixtures: [ShimFixture] = []
            var clients: [BerthClient] = []
            do {
                for _ in 0..<Self.shims {
                    let fixture = try await ShimFixture.make(args: ["sleep", "100"])
                    fixtures.append(fixture)
                    try await fixture.start()
                    let client = try await fixture.connect()
                    clients.append(client)
                    try await client.call(ShimAPI.subscribe, ShimSubscribeRequest(afterSeq: 0))
                    try await client.call(ShimAPI.create, ShimCreateRequest(stdio: ShimStdio(logPath: fixture.directory + "/c.log")))
                    try await client.call(ShimAPI.start, ShimProcessRequest())
                }
                try await Task.sleep(for: .milliseconds(500)) // let the shims settle
                var samples: [(rss: Int, pss: Int)] = []
                for fixture in fixtures {
                    let pid = try #require(fixture.shimPid)
                    samples.append(try Procfs.memory(pid))
                }
                let rss = samples.map(\.rss).sorted()
                let pss = samples.map(\.pss).sorted()
                let medianRSS = median(rss)
                let medianPSS = median(pss)
                print("berth-shim memory, \(Self.shims) shims with running containers: "
                    + "median RSS \(medianRSS) KiB (min \(rss.first!), max \(rss.last!)), "
                    + "median PSS \(medianPSS) KiB (min \(pss.first!), max \(pss.last!))")
                #expect(medianRSS < 32 * 1024, "median RSS \(medianRSS) KiB")
                #expect(medianPSS < 8 * 1024, "median PSS \(medianPSS) KiB")

                for client in clients {
                    try await client.call(ShimAPI.kill, ShimKillRequest(signal: SIGKILL))
                    _ = try await client.call(ShimAPI.wait, ShimProcessRequest())
                    try await client.call(ShimAPI.delete, ShimProcessRequest())
                }
            } catch {
                for fixture in fixtures { await fixture.cleanup() }
                throw error
            }
            for fixture in fixtures { await fixture.cleanup() }
        }

        private func median(_ sorted: [Int]) -> Int {
            sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
        }
    }
}
