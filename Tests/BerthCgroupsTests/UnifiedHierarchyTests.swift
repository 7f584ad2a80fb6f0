import BerthCgroups
import BerthOCI
import BerthSystem
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The v2 code on a cgroup2 mount: the unified hierarchy of this hybrid host
/// (`/sys/fs/cgroup/unified`) driven as if it were a v2-only host's root, or the
/// root itself on a v2 host. Controllers missing there are skipped, not faked.
let v2Root: String? = {
    switch CgroupMode.detect() {
    case .v2: return "/sys/fs/cgroup"
    case .hybrid: return "/sys/fs/cgroup/unified"
    default: return nil
    }
}()

extension CgroupTests {
    @Suite("cgroup v2 (unified hierarchy)", .enabled(if: v2Root != nil))
    struct UnifiedHierarchy {
        func fixture() throws -> Fixture { try Fixture(root: v2Root!, mode: .v2) }

        @Test("create, add via cgroup.procs, pids, remove")
        func lifecycle() throws {
            let fx = try fixture()
            defer { fx.cleanup() }
            let cg = fx.cgroup
            #expect(cg.mode == .v2)
            #expect(Array(cg.directories.keys) == [""])
            let dir = cg.directories[""]!
            #expect(FileSystem.fileType(dir) == S_IFDIR)
            let sleeper = try fx.start("exec /bin/sleep 30")
            #expect(procCgroups(sleeper.processIdentifier)[""] == cg.path)
            #expect(try cg.pids() == [sleeper.processIdentifier])
            #expect(readText(dir + "/cgroup.procs") == "\(sleeper.processIdentifier)")
            // Controllers the root offers are enabled on the way down.
            let parent = FileSystem.parentDirectory(of: dir)
            #expect(readText(parent + "/cgroup.subtree_control") == readText(parent + "/cgroup.controllers"))
            try cg.kill(signal: SIGKILL)
            #expect(waitForExit(sleeper, seconds: 5))
            try cg.remove()
            #expect(FileSystem.fileType(dir) == nil)
        }

        @Test("freeze writes cgroup.freeze and waits for frozen 1 in cgroup.events; thaw resumes")
        func freezeThaw() throws {
            let fx = try fixture()
            defer { fx.cleanup() }
            let cg = fx.cgroup
            let dir = cg.directories[""]!
            let busy = try fx.start("while :; do :; done")
            try cg.freeze()
            #expect(cg.isFrozen)
            #expect(readText(dir + "/cgroup.freeze") == "1")
            #expect(readText(dir + "/cgroup.events")?.contains("frozen 1") == true)
            #expect(waitUntil(seconds: 2) { processState(busy.processIdentifier) == "D" || processState(busy.processIdentifier) == "S" })
            try cg.thaw()
            #expect(!cg.isFrozen)
            #expect(readText(dir + "/cgroup.events")?.contains("frozen 0") == true)
            #expect(waitUntil(seconds: 2) { processState(busy.processIdentifier) == "R" })
        }

        @Test("kill(SIGKILL) through cgroup.kill takes a forking tree; SIGTERM goes through the freezer")
        func kill() throws {
            let fx = try fixture()
            defer { fx.cleanup() }
            let cg = fx.cgroup
            let dir = cg.directories[""]!
            guard fileExists(dir + "/cgroup.kill") else { return }
            let shell = try fx.start("/bin/sleep 60 & (/bin/sleep 60 &); while :; do /bin/sleep 60 & sleep 0.05; done")
            #expect(waitUntil(seconds: 3) { ((try? cg.pids()) ?? []).count >= 4 })
            let members = try cg.pids()
            try cg.kill(signal: SIGKILL)
            #expect(waitForExit(shell, seconds: 5))
            #expect(waitUntil(seconds: 5) { (try? cg.pids())?.isEmpty ?? false })
            for pid in members { #expect(waitUntil(seconds: 2) { isDead(pid) }, "\(pid) survived") }

            try fx.start("/bin/sleep 60 & wait")
            #expect(waitUntil(seconds: 3) { ((try? cg.pids()) ?? []).count == 2 })
            let second = try cg.pids()
            try cg.kill(signal: SIGTERM)
            #expect(!cg.isFrozen)
            for pid in second { #expect(waitUntil(seconds: 3) { isDead(pid) }, "\(pid) survived SIGTERM") }
        }

        @Test("stats read cpu.stat's usage in every v2 cgroup")
        func cpuStats() throws {
            let fx = try fixture()
            defer { fx.cleanup() }
            try fx.start("while :; do :; done")
            usleep(300_000)
            let cpu = try #require(try fx.cgroup.stats().cpu)
            #expect(cpu.usageNanoseconds > 50_000_000 && cpu.userNanoseconds > 0, "\(cpu)")
        }

        @Test("hugepage limits and unified keys go to hugetlb.<size>.max")
        func hugetlb() throws {
            let fx = try fixture()
            defer { fx.cleanup() }
            let dir = fx.cgroup.directories[""]!
            guard (readText(dir + "/cgroup.controllers") ?? "").split(separator: " ").contains("hugetlb") else { return }
            var resources = Spec.Resources()
            resources.hugepageLimits = [Spec.HugepageLimit(pageSize: "2MB", limit: 2 << 21)]
            try fx.cgroup.apply(resources)
            #expect(readText(dir + "/hugetlb.2MB.max") == "\(2 << 21)")
            resources.hugepageLimits = nil
            resources.unified = ["hugetlb.2MB.max": "\(6 << 21)"]
            try fx.cgroup.apply(resources)
            #expect(readText(dir + "/hugetlb.2MB.max") == "\(6 << 21)")
        }

        @Test("a controller the hierarchy lacks is ENOTSUP naming the controller, not a silent no-op")
        func missingController() throws {
            let fx = try fixture()
            defer { fx.cleanup() }
            let offered = Set((readText(fx.cgroup.directories[""]! + "/cgroup.controllers") ?? "").split(separator: " "))
            guard !offered.contains("memory") else { return }
            do {
                try fx.cgroup.apply(Spec.Resources(memory: Spec.Memory(limit: 1 << 30)))
                Issue.record("memory limit accepted without a memory controller")
            } catch let error as SystemError {
                #expect(error.errno == ENOTSUP && error.stage.contains("memory"), "\(error)")
            }
            #expect(throws: SystemError.self) { try fx.cgroup.oomKillCount() }
        }

        @Test("device rules become an eBPF program: /dev/null allowed, /dev/zero denied; re-applying replaces it")
        func deviceFilter() throws {
            let fx = try fixture()
            defer { fx.cleanup() }
            let cg = fx.cgroup
            let rules = [
                Spec.DeviceRule(allow: false, access: "rwm"),
                Spec.DeviceRule(allow: true, type: "c", major: 1, minor: 3, access: "rwm"),
                Spec.DeviceRule(allow: true, type: "c", major: 1, minor: 9, access: "r"),
            ]
            try cg.apply(Spec.Resources(devices: rules))
            #expect(try cg.deviceProgramCount() == 1)
            let out = Pipe()
            let probe = try fx.start("""
                echo x > /dev/null && echo null-ok
                head -c1 /dev/zero >/dev/null 2>&1 && echo zero-ok || echo zero-denied
                head -c1 /dev/urandom >/dev/null 2>&1 && echo urandom-read-ok || echo urandom-read-denied
                (echo x > /dev/urandom) 2>/dev/null && echo urandom-write-ok || echo urandom-write-denied
                """, stdout: out)
            #expect(waitForExit(probe, seconds: 5))
            let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            #expect(text == "null-ok\nzero-denied\nurandom-read-ok\nurandom-write-denied\n")

            // Allow everything again: the old program is detached, not stacked.
            try cg.apply(Spec.Resources(devices: [Spec.DeviceRule(allow: true, access: "rwm")]))
            #expect(try cg.deviceProgramCount() == 1)
            let out2 = Pipe()
            let probe2 = try fx.start("head -c1 /dev/zero >/dev/null 2>&1 && echo zero-ok || echo zero-denied", stdout: out2)
            #expect(waitForExit(probe2, seconds: 5))
            #expect(String(decoding: out2.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self) == "zero-ok\n")
        }
    }
}

private func fileExists(_ path: String) -> Bool { access(path, F_OK) == 0 }
