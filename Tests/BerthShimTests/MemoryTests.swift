import BerthAPI
import Foundation
import Testing

extension ShimTests {
    /// What a serving shim costs. The goal (issue 4) is PSS ≤ 1 MiB and RSS ≤ 4 MiB per
    /// shim at 50 containers; this test measures 10 shims (or `BERTH_SHIM_MEMORY_COUNT`)
    /// and holds them to that goal, printing the numbers for the record. The Embedded
    /// Swift shim measured 1.6 MiB RSS and 0.29 MiB PSS in a debug build here (a release
    /// build at 50: 1.3 and 0.14); the shim it replaced, with the Swift runtime,
    /// FoundationEssentials and NIO, ~20 and 3 MiB in a debug build.
    @Suite("Memory", .serialized)
    struct MemoryTests {
        /// 10 by default; `BERTH_SHIM_MEMORY_COUNT=50` measures at the scale.
        static let shims = ProcessInfo.processInfo.environment["BERTH_SHIM_MEMORY_COUNT"].flatMap { Int($0) } ?? 10

        @Test("serving shims (10 by default), each with a running container: median RSS under 4 MiB, PSS under 1 MiB")
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
                #expect(medianRSS < 4 * 1024, "median RSS \(medianRSS) KiB")
                #expect(medianPSS < 1024, "median PSS \(medianPSS) KiB")

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
