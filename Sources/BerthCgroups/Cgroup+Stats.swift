#if canImport(Glibc)
import Glibc
#endif
import BerthSystem
import CBerthLinux

// Counters, and OOM-kill notification.
extension Cgroup {
    /// The cgroup's counters. A group whose controller the host lacks is nil; a counter
    /// file a kernel does not have reads as zero (or nil where the type says so).
    public func stats() throws -> CgroupStats {
        var stats = CgroupStats()
        stats.cpu = try cpuStats()
        stats.memory = try memoryStats()
        if let backend = backend("pids") {
            switch backend {
            case .v1(let dir), .v2(let dir):
                stats.pids = CgroupStats.Pids(current: try CgroupFile.readNumber(dir, "pids.current") ?? 0,
                                              limit: try CgroupFile.readNumber(dir, "pids.max"))
            }
        }
        stats.io = try ioStats()
        stats.hugetlb = try hugetlbStats()
        return stats
    }

    func cpuStats() throws -> CgroupStats.CPU? {
        if let acct = v1.first(where: { $0.controllers.contains("cpuacct") }) {
            let dir = acct.directory
            var cpu = CgroupStats.CPU(usageNanoseconds: try CgroupFile.readNumber(dir, "cpuacct.usage") ?? 0)
            if let user = try CgroupFile.readNumber(dir, "cpuacct.usage_user"),
               let system = try CgroupFile.readNumber(dir, "cpuacct.usage_sys") {
                cpu.userNanoseconds = user
                cpu.systemNanoseconds = system
            } else if let ticks = try CgroupFile.readKeyed(dir, "cpuacct.stat") {
                let nanosecondsPerTick = UInt64(1_000_000_000 / max(sysconf(Int32(_SC_CLK_TCK)), 1))
                cpu.userNanoseconds = (ticks["user"] ?? 0) * nanosecondsPerTick
                cpu.systemNanoseconds = (ticks["system"] ?? 0) * nanosecondsPerTick
            }
            if let h = v1.first(where: { $0.controllers.contains("cpu") }),
               let stat = try CgroupFile.readKeyed(h.directory, "cpu.stat") {
                cpu.periods = stat["nr_periods"] ?? 0
                cpu.throttledPeriods = stat["nr_throttled"] ?? 0
                cpu.throttledNanoseconds = stat["throttled_time"] ?? 0
            }
            return cpu
        }
        // v2: cpu.stat's usage lines exist in every cgroup, controller or not.
        guard let unified, let stat = try CgroupFile.readKeyed(unified.directory, "cpu.stat") else { return nil }
        return CgroupStats.CPU(
            usageNanoseconds: (stat["usage_usec"] ?? 0) * 1000,
            userNanoseconds: (stat["user_usec"] ?? 0) * 1000,
            systemNanoseconds: (stat["system_usec"] ?? 0) * 1000,
            periods: stat["nr_periods"] ?? 0,
            throttledPeriods: stat["nr_throttled"] ?? 0,
            throttledNanoseconds: (stat["throttled_usec"] ?? 0) * 1000)
    }

    /// v1 reports "unlimited" as a huge page-aligned number.
    static func v1Limit(_ value: UInt64?) -> UInt64? {
        guard let value, value < (1 << 62) else { return nil }
        return value
    }

    func memoryStats() throws -> CgroupStats.Memory? {
        switch backend("memory") {
        case .v1(let dir)?:
            let stat = try CgroupFile.readKeyed(dir, "memory.stat") ?? [:]
            let usage = try CgroupFile.readNumber(dir, "memory.usage_in_bytes") ?? 0
            let memsw = try CgroupFile.readNumber(dir, "memory.memsw.usage_in_bytes")
            let oom = try CgroupFile.readKeyed(dir, "memory.oom_control") ?? [:]
            return CgroupStats.Memory(
                usage: usage,
                limit: Cgroup.v1Limit(try CgroupFile.readNumber(dir, "memory.limit_in_bytes")),
                maxUsage: try CgroupFile.readNumber(dir, "memory.max_usage_in_bytes"),
                cache: stat["total_cache"] ?? stat["cache"] ?? 0,
                rss: stat["total_rss"] ?? stat["rss"] ?? 0,
                swapUsage: memsw.map { $0 > usage ? $0 - usage : 0 },
                failCount: max(try CgroupFile.readNumber(dir, "memory.failcnt") ?? 0,
                               try CgroupFile.readNumber(dir, "memory.memsw.failcnt") ?? 0),
                oomKills: oom["oom_kill"] ?? 0,
                stat: stat)
        case .v2(let dir)?:
            let stat = try CgroupFile.readKeyed(dir, "memory.stat") ?? [:]
            let events = try CgroupFile.readKeyed(dir, "memory.events") ?? [:]
            return CgroupStats.Memory(
                usage: try CgroupFile.readNumber(dir, "memory.current") ?? 0,
                limit: try CgroupFile.readNumber(dir, "memory.max"),
                maxUsage: try CgroupFile.readNumber(dir, "memory.peak"),
                cache: stat["file"] ?? 0,
                rss: stat["anon"] ?? 0,
                swapUsage: try CgroupFile.readNumber(dir, "memory.swap.current"),
                failCount: events["max"] ?? 0,
                oomKills: events["oom_kill"] ?? 0,
                stat: stat)
        case nil:
            return nil
        }
    }

    func ioStats() throws -> CgroupStats.IO? {
        switch backend("blkio", v2: "io") {
        case .v1(let dir)?:
            var devices: [String: CgroupStats.IO.Device] = [:]
            func add(_ file: String, _ apply: (inout CgroupStats.IO.Device, String, UInt64) -> Void) throws {
                let text = try CgroupFile.readIfPresent(dir, file + "_recursive") ?? CgroupFile.readIfPresent(dir, file) ?? ""
                for line in text.split(separator: "\n") {
                    let f = line.split(separator: " ")
                    guard f.count == 3, let value = UInt64(f[2]) else { continue }
                    let mm = f[0].split(separator: ":")
                    guard mm.count == 2, let major = UInt64(mm[0]), let minor = UInt64(mm[1]) else { continue }
                    apply(&devices[String(f[0]), default: .init(major: major, minor: minor)], String(f[1]), value)
                }
            }
            try add("blkio.throttle.io_service_bytes") { d, op, v in
                if op == "Read" { d.readBytes = v } else if op == "Write" { d.writeBytes = v }
            }
            try add("blkio.throttle.io_serviced") { d, op, v in
                if op == "Read" { d.readOperations = v } else if op == "Write" { d.writeOperations = v }
            }
            return CgroupStats.IO(devices: Array(devices.values))
        case .v2(let dir)?:
            guard let text = try CgroupFile.readIfPresent(dir, "io.stat") else { return nil }
            var devices: [CgroupStats.IO.Device] = []
            for line in text.split(separator: "\n") {
                let f = line.split(separator: " ")
                let mm = f.first?.split(separator: ":") ?? []
                guard mm.count == 2, let major = UInt64(mm[0]), let minor = UInt64(mm[1]) else { continue }
                var d = CgroupStats.IO.Device(major: major, minor: minor)
                for pair in f.dropFirst() {
                    let kv = pair.split(separator: "=")
                    guard kv.count == 2, let v = UInt64(kv[1]) else { continue }
                    switch kv[0] {
                    case "rbytes": d.readBytes = v
                    case "wbytes": d.writeBytes = v
                    case "rios": d.readOperations = v
                    case "wios": d.writeOperations = v
                    default: break
                    }
                }
                devices.append(d)
            }
            return CgroupStats.IO(devices: devices)
        case nil:
            return nil
        }
    }

    func hugetlbStats() throws -> [CgroupStats.Hugetlb]? {
        guard let backend = backend("hugetlb") else { return nil }
        let sizes = Cgroup.hugepageSizes()
        var out: [CgroupStats.Hugetlb] = []
        for size in sizes {
            switch backend {
            case .v1(let dir):
                guard let usage = try CgroupFile.readNumber(dir, "hugetlb.\(size).usage_in_bytes") else { continue }
                out.append(.init(pageSize: size, usage: usage,
                                 maxUsage: try CgroupFile.readNumber(dir, "hugetlb.\(size).max_usage_in_bytes"),
                                 limit: Cgroup.v1Limit(try CgroupFile.readNumber(dir, "hugetlb.\(size).limit_in_bytes"))))
            case .v2(let dir):
                guard let usage = try CgroupFile.readNumber(dir, "hugetlb.\(size).current") else { continue }
                out.append(.init(pageSize: size, usage: usage, maxUsage: nil,
                                 limit: try CgroupFile.readNumber(dir, "hugetlb.\(size).max")))
            }
        }
        return out
    }

    /// The host's huge page sizes in cgroup file notation ("2MB", "1GB"), from
    /// /sys/kernel/mm/hugepages/hugepages-<n>kB.
    static func hugepageSizes() -> [String] {
        let dirs = (try? subdirectories("/sys/kernel/mm/hugepages")) ?? []
        return dirs.compactMap { dir -> (UInt64, String)? in
            guard let name = dir.split(separator: "/").last, name.hasPrefix("hugepages-"), name.hasSuffix("kB"),
                  let kb = UInt64(name.dropFirst("hugepages-".count).dropLast(2)) else { return nil }
            if kb >= 1 << 20, kb % (1 << 20) == 0 { return (kb, "\(kb >> 20)GB") }
            if kb >= 1 << 10, kb % (1 << 10) == 0 { return (kb, "\(kb >> 10)MB") }
            return (kb, "\(kb)KB")
        }.sorted { $0.0 < $1.0 }.map(\.1)
    }

    // MARK: OOM

    /// How many processes the kernel's OOM killer has killed in this cgroup (v1
    /// `memory.oom_control` `oom_kill`, v2 `memory.events` `oom_kill`).
    /// - Throws: `ENOTSUP` without a memory controller.
    public func oomKillCount() throws -> UInt64 {
        switch try requireBackend("memory", for: "oomKillCount") {
        case .v1(let dir):
            return try CgroupFile.readKeyed(dir, "memory.oom_control")?["oom_kill"] ?? 0
        case .v2(let dir):
            guard let events = try CgroupFile.readKeyed(dir, "memory.events") else {
                throw SystemError(errno: ENOENT, stage: "read \(dir)/memory.events")
            }
            return events["oom_kill"] ?? 0
        }
    }

    /// A new non-blocking, close-on-exec descriptor that polls readable when the cgroup
    /// may have had an OOM event. The caller owns it (close it) and, on each wake-up,
    /// drains it (`drainEventDescriptor`) and re-reads `oomKillCount()` to confirm: a v2
    /// wake-up is any change of `memory.events`, a v1 one can also mean the cgroup was
    /// removed.
    ///
    /// v1: an eventfd registered through `cgroup.event_control` for `memory.oom_control`.
    /// v2: an inotify descriptor watching `memory.events` for modification.
    public func oomEventDescriptor() throws -> Int32 {
        switch try requireBackend("memory", for: "oomEventDescriptor") {
        case .v1(let dir):
            let efd = try checkNegativeErrno(berth_eventfd_nonblocking(), "eventfd for \(dir)/memory.oom_control")
            do {
                let control = "\(dir)/memory.oom_control"
                let ofd = try retryingEINTR("open \(control)") { open(control, O_RDONLY | O_CLOEXEC) }
                defer { close(ofd) }
                try CgroupFile.write(dir, "cgroup.event_control", "\(efd) \(ofd)")
            } catch {
                close(efd)
                throw error
            }
            return efd
        case .v2(let dir):
            return try checkNegativeErrno(berth_inotify_watch_modify("\(dir)/memory.events"), "inotify_add_watch \(dir)/memory.events")
        }
    }

    /// Reads and discards whatever is pending on a descriptor from
    /// `oomEventDescriptor()`, so the next poll waits for a new event.
    public static func drainEventDescriptor(_ fd: Int32) {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while buffer.withUnsafeMutableBytes({ read(fd, $0.baseAddress, $0.count) }) > 0 {}
    }
}
