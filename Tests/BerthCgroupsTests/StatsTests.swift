import BerthCgroups
import BerthOCI
import BerthSystem
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

extension CgroupTests {
    @Suite("stats and OOM")
    struct Stats {
        @Test("a busy process shows CPU time and memory; stats encode with camelCase keys")
        func busyProcess() throws {
            let fx = try Fixture()
            defer { fx.cleanup() }
            let cg = fx.cgroup
            try cg.apply(Spec.Resources(pids: Spec.Pids(limit: 50)))
            try fx.start("x=$(head -c 4000000 /dev/zero | tr '\\0' a); while :; do :; done")
            usleep(400_000)
            let stats = try cg.stats()
            let cpu = try #require(stats.cpu)
            #expect(cpu.usageNanoseconds > 50_000_000, "\(cpu)")
            #expect(cpu.userNanoseconds > 0, "\(cpu)")
            let memory = try #require(stats.memory)
            #expect(memory.usage > 1 << 20, "\(memory.usage)")
            #expect(memory.rss > 0 || memory.stat["anon"] ?? 0 > 0)
            #expect(memory.limit == nil)
            #expect(memory.oomKills == 0)
            let pids = try #require(stats.pids)
            #expect(pids.current >= 1 && pids.limit == 50, "\(pids)")
            #expect(stats.io != nil)

            let json = String(decoding: try JSONEncoder().encode(stats), as: UTF8.self)
            for key in ["\"usageNanoseconds\"", "\"throttledPeriods\"", "\"oomKills\"", "\"maxUsage\"", "\"current\""] {
                #expect(json.contains(key), "\(key) in \(json)")
            }
            #expect(try JSONDecoder().decode(CgroupStats.self, from: Data(json.utf8)) == stats)
        }

        @Test("a quota throttles: periods and throttled time count up")
        func throttling() throws {
            let fx = try Fixture()
            defer { fx.cleanup() }
            try fx.cgroup.apply(Spec.Resources(cpu: Spec.CPU(quota: 10_000, period: 100_000)))
            try fx.start("while :; do :; done")
            usleep(500_000)
            let cpu = try #require(try fx.cgroup.stats().cpu)
            #expect(cpu.periods > 0 && cpu.throttledPeriods > 0 && cpu.throttledNanoseconds > 0, "\(cpu)")
            #expect(cpu.usageNanoseconds < 150_000_000, "10% quota over 0.5 s used \(cpu.usageNanoseconds) ns")
        }

        @Test("a process past a 20 MB limit without swap is OOM-killed: the count rises and the descriptor polls readable")
        func oomKill() throws {
            let fx = try Fixture()
            defer { fx.cleanup() }
            let cg = fx.cgroup
            try cg.apply(Spec.Resources(memory: Spec.Memory(limit: 20 << 20, swap: 20 << 20)))
            let before = try cg.oomKillCount()
            let fd = try cg.oomEventDescriptor()
            defer { close(fd) }
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            #expect(poll(&pfd, 1, 0) == 0, "readable before any OOM")

            let hog = try fx.start("x=$(head -c 100000000 /dev/zero | tr '\\0' a); echo survived")
            #expect(waitForExit(hog, seconds: 30))
            #expect(hog.terminationReason == .uncaughtSignal || hog.terminationStatus != 0)

            #expect(waitUntil(seconds: 5) { ((try? cg.oomKillCount()) ?? 0) > before })
            pfd.revents = 0
            #expect(poll(&pfd, 1, 5000) == 1 && pfd.revents & Int16(POLLIN) != 0, "no OOM event on the descriptor")
            Cgroup.drainEventDescriptor(fd)
            pfd.revents = 0
            #expect(poll(&pfd, 1, 0) == 0, "still readable after draining")

            let memory = try #require(try cg.stats().memory)
            // failCount is not checked: this kernel (6.18) leaves v1 memory.failcnt at 0.
            #expect(memory.oomKills > before, "\(memory)")
            #expect(memory.limit == 20 << 20)
            #expect((memory.maxUsage ?? 0) >= 19 << 20, "\(String(describing: memory.maxUsage))")
        }
    }
}
