import BerthCgroups
import BerthOCI
import BerthSystem
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

extension CgroupTests {
    /// apply(_:) on the host's layout, read back from the kernel's files.
    @Suite("limits")
    struct Limits {
        @Test("memory, cpu, cpuset and pids limits land in the kernel's files")
        func readBack() throws {
            let fx = try Fixture()
            defer { fx.cleanup() }
            let cg = fx.cgroup
            var memory = Spec.Memory(limit: 64 << 20, reservation: 32 << 20, swap: 64 << 20)
            memory.swappiness = 10
            var cpu = Spec.CPU(shares: 512, quota: 50_000, period: 100_000, cpus: "0", mems: "0")
            cpu.burst = 1000
            try cg.apply(Spec.Resources(memory: memory, cpu: cpu, pids: Spec.Pids(limit: 10)))

            let d = cg.directories
            if cg.mode == .v2 {
                let u = try #require(d[""])
                #expect(readText(u + "/memory.max") == "\(64 << 20)")
                #expect(readText(u + "/cpu.max") == "50000 100000")
                #expect(readText(u + "/cpu.weight") == "\(Cgroup.cpuWeight(shares: 512))")
                #expect(readText(u + "/pids.max") == "10")
                return
            }
            let mem = try #require(d["memory"]), cpuDir = try #require(d["cpu"] ?? d["cpu,cpuacct"])
            #expect(readText(mem + "/memory.limit_in_bytes") == "\(64 << 20)")
            #expect(readText(mem + "/memory.memsw.limit_in_bytes") == "\(64 << 20)")
            #expect(readText(mem + "/memory.soft_limit_in_bytes") == "\(32 << 20)")
            #expect(readText(mem + "/memory.swappiness") == "10")
            #expect(readText(cpuDir + "/cpu.shares") == "512")
            #expect(readText(cpuDir + "/cpu.cfs_quota_us") == "50000")
            #expect(readText(cpuDir + "/cpu.cfs_period_us") == "100000")
            #expect(readText(cpuDir + "/cpu.cfs_burst_us") == "1000")
            #expect(readText(try #require(d["cpuset"]) + "/cpuset.cpus") == "0")
            #expect(readText(try #require(d["cpuset"]) + "/cpuset.mems") == "0")
            #expect(readText(try #require(d["pids"]) + "/pids.max") == "10")

            // An update that shrinks memory below memsw, then grows both: order handled.
            try cg.apply(Spec.Resources(memory: Spec.Memory(limit: 16 << 20, swap: 16 << 20)))
            #expect(readText(mem + "/memory.memsw.limit_in_bytes") == "\(16 << 20)")
            try cg.apply(Spec.Resources(memory: Spec.Memory(limit: 128 << 20, swap: 256 << 20)))
            #expect(readText(mem + "/memory.limit_in_bytes") == "\(128 << 20)")
            #expect(readText(mem + "/memory.memsw.limit_in_bytes") == "\(256 << 20)")
            // Unlimited memory means unlimited swap too; pids -1 is max.
            try cg.apply(Spec.Resources(memory: Spec.Memory(limit: -1), pids: Spec.Pids(limit: -1)))
            #expect(try cg.stats().memory?.limit == nil)
            #expect(readText(try #require(d["pids"]) + "/pids.max") == "max")
            // A shorter period with a quota still fits.
            try cg.apply(Spec.Resources(cpu: Spec.CPU(quota: 5000, period: 10_000)))
            #expect(readText(cpuDir + "/cpu.cfs_quota_us") == "5000")
            #expect(readText(cpuDir + "/cpu.cfs_period_us") == "10000")
        }

        @Test("the process sees its cpuset: a cgroup pinned to CPU 0 runs its tasks on CPU 0 only")
        func cpusetPins() throws {
            let fx = try Fixture()
            defer { fx.cleanup() }
            try fx.cgroup.apply(Spec.Resources(cpu: Spec.CPU(cpus: "0")))
            let sleeper = try fx.start("exec /bin/sleep 30")
            let status = try String(contentsOfFile: "/proc/\(sleeper.processIdentifier)/status", encoding: .utf8)
            #expect(status.contains("Cpus_allowed_list:\t0\n"), "\(status)")
        }

        @Test("pids.limit stops forks past the limit")
        func pidsLimit() throws {
            let fx = try Fixture()
            defer { fx.cleanup() }
            let cg = fx.cgroup
            try cg.apply(Spec.Resources(pids: Spec.Pids(limit: 4)))
            try fx.start("i=0; while [ $i -lt 20 ]; do /bin/sleep 30 & i=$((i+1)); done; wait")
            let events = try #require(cg.directories["pids"] ?? cg.directories[""]) + "/pids.events"
            #expect(waitUntil(seconds: 5) { (readText(events) ?? "max 0") != "max 0" }, "no fork was refused")
            #expect(try cg.pids().count <= 4)
            let stats = try #require(try cg.stats().pids)
            #expect(stats.current <= 4 && stats.limit == 4, "\(stats)")
        }

        @Test("v1 device rules go to devices.deny/allow, in order, and the kernel enforces them")
        func v1Devices() throws {
            let fx = try Fixture()
            defer { fx.cleanup() }
            let cg = fx.cgroup
            guard let dir = cg.directories["devices"] else { return }
            try cg.apply(Spec.Resources(devices: [
                Spec.DeviceRule(allow: false, access: "rwm"),
                Spec.DeviceRule(allow: true, type: "c", major: 1, minor: 3, access: "rwm"),
                Spec.DeviceRule(allow: true, type: "c", major: 136, access: "rw"),
            ]))
            #expect(readText(dir + "/devices.list") == "c 1:3 rwm\nc 136:* rw")
            let out = Pipe()
            let probe = try fx.start("echo x > /dev/null && echo null-ok; head -c1 /dev/zero >/dev/null 2>&1 && echo zero-ok || echo zero-denied", stdout: out)
            #expect(waitForExit(probe, seconds: 5))
            let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            #expect(text == "null-ok\nzero-denied\n")
        }

        @Test("a bad value fails with the file and the value in the error, and the kernel's errno")
        func errorsNameFileAndValue() throws {
            let fx = try Fixture()
            defer { fx.cleanup() }
            do {
                try fx.cgroup.apply(Spec.Resources(cpu: Spec.CPU(cpus: "99")))
                Issue.record("cpuset.cpus = 99 accepted on a 2-CPU host")
            } catch let error as SystemError {
                #expect(error.errno == ERANGE || error.errno == EINVAL)
                #expect(error.stage.hasSuffix("/cpuset.cpus = 99"), "\(error)")
                #expect(error.description.contains(error.name))
            }
            if fx.cgroup.mode != .v2 {
                do {
                    try fx.cgroup.apply(Spec.Resources(cpu: Spec.CPU(quota: 500, period: 100_000)))
                    Issue.record("a 500 µs quota accepted")
                } catch let error as SystemError {
                    #expect(error.errno == EINVAL)
                    #expect(error.stage.hasSuffix("/cpu.cfs_quota_us = 500"), "\(error)")
                }
            }
            #expect(throws: SystemError.self) {
                try fx.cgroup.apply(Spec.Resources(devices: [Spec.DeviceRule(allow: true, type: "x")]))
            }
            var memory = Spec.Memory()
            memory.swappiness = 101
            #expect(throws: SystemError.self) { try fx.cgroup.apply(Spec.Resources(memory: memory)) }
        }

        @Test("hugepage limits: v1 hugetlb.<size>.limit_in_bytes, or the unified hierarchy's hugetlb.<size>.max on hybrid")
        func hugepages() throws {
            let fx = try Fixture()
            defer { fx.cleanup() }
            let cg = fx.cgroup
            var resources = Spec.Resources()
            resources.hugepageLimits = [Spec.HugepageLimit(pageSize: "2MB", limit: 4 << 21)]
            if let dir = cg.directories["hugetlb"] {
                try cg.apply(resources)
                #expect(readText(dir + "/hugetlb.2MB.limit_in_bytes") == "\(4 << 21)")
            } else if cg.mode == .hybrid, unifiedControllers.contains("hugetlb") {
                try cg.apply(resources)
                #expect(readText(cg.directories[""]! + "/hugetlb.2MB.max") == "\(4 << 21)")
                let stats = try #require(try cg.stats().hugetlb)
                #expect(stats.contains { $0.pageSize == "2MB" && $0.limit == 4 << 21 && $0.usage == 0 }, "\(stats)")
            } else {
                #expect(throws: SystemError.self) { try cg.apply(resources) }
            }
            resources.hugepageLimits = [Spec.HugepageLimit(pageSize: "2M/../x", limit: 1)]
            #expect(throws: SystemError.self) { try cg.apply(resources) }
        }

        @Test("unified keys: an error on v1, written for unified-hierarchy controllers on hybrid, refused for v1 ones")
        func unifiedResources() throws {
            let fx = try Fixture()
            defer { fx.cleanup() }
            var resources = Spec.Resources()
            resources.unified = ["memory.high": "1G"]
            if fx.cgroup.mode == .hybrid {
                do {
                    try fx.cgroup.apply(resources)
                    Issue.record("memory.high accepted on hybrid")
                } catch let error as SystemError {
                    #expect(error.errno == EINVAL)
                }
                if unifiedControllers.contains("hugetlb") {
                    resources.unified = ["hugetlb.2MB.max": "4194304"]
                    try fx.cgroup.apply(resources)
                    #expect(readText(fx.cgroup.directories[""]! + "/hugetlb.2MB.max") == "4194304")
                }
            }
            let v1 = try Cgroup(path: fx.cgroup.path, mode: .v1)
            #expect(v1.directories[""] == nil)
            do {
                try v1.apply(resources)
                Issue.record("unified accepted on v1")
            } catch let error as SystemError {
                #expect(error.errno == ENOTSUP)
            }
        }

        @Test("runc's conversions: shares to cpu.weight, blkio weight to io.weight")
        func conversions() {
            #expect(Cgroup.cpuWeight(shares: 2) == 1)
            #expect(Cgroup.cpuWeight(shares: 1024) == 39)
            #expect(Cgroup.cpuWeight(shares: 262_144) == 10_000)
            #expect(Cgroup.cpuWeight(shares: 1) == 1)
            #expect(Cgroup.ioWeight(blkioWeight: 10) == 1)
            #expect(Cgroup.ioWeight(blkioWeight: 500) == 4950)
            #expect(Cgroup.ioWeight(blkioWeight: 1000) == 10_000)
        }
    }
}
