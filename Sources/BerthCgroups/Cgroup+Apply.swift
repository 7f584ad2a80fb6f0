#if canImport(Glibc)
import Glibc
#endif
import BerthOCI
import BerthSystem

/// Where a controller is driven: a v1 mount (v1 file names) or the unified hierarchy
/// (v2 file names).
enum ControllerBackend: Equatable {
    case v1(String)
    case v2(String)
}

extension Cgroup {
    /// Where `controller` (its v1 name; `v2` when v2 calls it differently) lives.
    func backend(_ controller: String, v2 name: String? = nil) -> ControllerBackend? {
        if let h = v1.first(where: { $0.controllers.contains(controller) }) { return .v1(h.directory) }
        if let unified, unifiedControllers.contains(name ?? controller) { return .v2(unified.directory) }
        return nil
    }

    /// Like `backend`, but a controller this host lacks is an `ENOTSUP` error naming
    /// what asked for it.
    func requireBackend(_ controller: String, v2 name: String? = nil, for what: String) throws -> ControllerBackend {
        if let b = backend(controller, v2: name) { return b }
        if let unified, mode == .v2 {
            // The root offers it but the leaf may not have it yet: say which directory.
            throw SystemError(errno: ENOTSUP, stage: "\(what): the \(name ?? controller) controller is not available in \(unified.directory) (cgroup.controllers of \(unified.mountPoint): \(unifiedControllers.sorted().joined(separator: " ")))")
        }
        throw SystemError(errno: ENOTSUP, stage: "\(what): no \(controller) controller is mounted under \(root)")
    }

    /// Sets the limits in `resources`; absent fields (and zero values, as runc treats
    /// them) leave the kernel's current setting alone.
    ///
    /// What is *not* an error: v1-only knobs on a v2 controller with no counterpart
    /// (`swappiness`, `disableOOMKiller`) are ignored, as runc does; a swap limit of
    /// unlimited (or none) on a host without swap accounting is ignored.
    public func apply(_ resources: Spec.Resources) throws {
        if let memory = resources.memory { try applyMemory(memory) }
        if let cpu = resources.cpu { try applyCPU(cpu) }
        if let pids = resources.pids, pids.limit != 0 {
            let value = pids.limit > 0 ? String(pids.limit) : "max"
            switch try requireBackend("pids", for: "pids.limit") {
            case .v1(let dir), .v2(let dir): try CgroupFile.write(dir, "pids.max", value)
            }
        }
        if let blockIO = resources.blockIO { try applyBlockIO(blockIO) }
        if let hugepages = resources.hugepageLimits, !hugepages.isEmpty { try applyHugepages(hugepages) }
        if let devices = resources.devices, !devices.isEmpty { try applyDevices(devices) }
        if let unified = resources.unified, !unified.isEmpty { try applyUnified(unified) }
    }

    // MARK: memory

    func applyMemory(_ m: Spec.Memory) throws {
        let limit = m.limit ?? 0, reservation = m.reservation ?? 0
        var swap = m.swap ?? 0
        let anything = limit != 0 || reservation != 0 || swap != 0 || m.swappiness != nil || m.disableOOMKiller == true
        guard anything else { return }
        switch try requireBackend("memory", for: "memory") {
        case .v1(let dir):
            // Unlimited memory without a swap value means unlimited swap too (runc).
            if limit == -1 && swap == 0 { swap = -1 }
            let memsw = "memory.memsw.limit_in_bytes"
            if swap != 0 && !CgroupFile.exists(dir, memsw) {
                if swap != -1 {
                    throw SystemError(errno: ENOTSUP, stage: "write \(dir)/\(memsw) = \(swap): swap accounting is off on this host")
                }
                swap = 0
            }
            if limit != 0 && swap != 0 {
                // The kernel insists limit <= memsw at every instant: raise memsw first
                // when growing, lower the limit first when shrinking.
                let current = try CgroupFile.readNumber(dir, "memory.limit_in_bytes") ?? 0
                if swap == -1 || current < UInt64(max(swap, 0)) {
                    try CgroupFile.write(dir, memsw, String(swap))
                    try CgroupFile.write(dir, "memory.limit_in_bytes", String(limit))
                } else {
                    try CgroupFile.write(dir, "memory.limit_in_bytes", String(limit))
                    try CgroupFile.write(dir, memsw, String(swap))
                }
            } else if limit != 0 {
                try CgroupFile.write(dir, "memory.limit_in_bytes", String(limit))
            } else if swap != 0 {
                try CgroupFile.write(dir, memsw, String(swap))
            }
            if reservation != 0 { try CgroupFile.write(dir, "memory.soft_limit_in_bytes", String(reservation)) }
            if let swappiness = m.swappiness {
                guard swappiness <= 100 else {
                    throw SystemError(errno: EINVAL, stage: "write \(dir)/memory.swappiness = \(swappiness): must be 0...100")
                }
                try CgroupFile.write(dir, "memory.swappiness", String(swappiness))
            }
            if m.disableOOMKiller == true { try CgroupFile.write(dir, "memory.oom_control", "1") }
        case .v2(let dir):
            let swapMax = try Cgroup.v2SwapMax(memorySwap: swap, memory: limit, dir: dir)
            if let swapMax {
                do {
                    try CgroupFile.write(dir, "memory.swap.max", swapMax)
                } catch let error as SystemError where error.errno == ENOENT && (swapMax == "max" || swapMax == "0") {
                    // No swap accounting: unlimited or no swap is what the host gives anyway.
                }
            }
            if limit != 0 { try CgroupFile.write(dir, "memory.max", limit < 0 ? "max" : String(limit)) }
            if reservation != 0 { try CgroupFile.write(dir, "memory.low", reservation < 0 ? "max" : String(reservation)) }
        }
    }

    /// OCI's `swap` is memory+swap (v1's memsw); v2's `memory.swap.max` is swap alone.
    /// nil when nothing is to be written. The conversion is runc's.
    static func v2SwapMax(memorySwap: Int64, memory: Int64, dir: String) throws -> String? {
        if memory == -1 && memorySwap == 0 { return "max" }
        if memorySwap == 0 { return nil }
        if memorySwap == -1 { return "max" }
        guard memory > 0 else {
            throw SystemError(errno: EINVAL, stage: "write \(dir)/memory.swap.max: a swap limit (\(memorySwap)) needs a memory limit")
        }
        guard memorySwap >= memory else {
            throw SystemError(errno: EINVAL, stage: "write \(dir)/memory.swap.max: memory+swap \(memorySwap) is below the memory limit \(memory)")
        }
        return String(memorySwap - memory)
    }

    // MARK: cpu

    /// runc's conversion of v1 `cpu.shares` (2...262144) to v2 `cpu.weight` (1...10000).
    public static func cpuWeight(shares: UInt64) -> UInt64 {
        let s = min(max(shares, 2), 262_144)
        return 1 + ((s - 2) * 9999) / 262_142
    }

    func applyCPU(_ c: Spec.CPU) throws {
        let shares = c.shares ?? 0, quota = c.quota ?? 0, period = c.period ?? 0
        let rtRuntime = c.realtimeRuntime ?? 0, rtPeriod = c.realtimePeriod ?? 0
        if shares != 0 || quota != 0 || period != 0 || c.burst != nil || rtRuntime != 0 || rtPeriod != 0 || c.idle != nil {
            switch try requireBackend("cpu", for: "cpu") {
            case .v1(let dir):
                if rtPeriod != 0 { try CgroupFile.write(dir, "cpu.rt_period_us", String(rtPeriod)) }
                if rtRuntime != 0 { try CgroupFile.write(dir, "cpu.rt_runtime_us", String(rtRuntime)) }
                if shares != 0 { try CgroupFile.write(dir, "cpu.shares", String(shares)) }
                var quotaWritten = false
                if period != 0 {
                    do {
                        try CgroupFile.write(dir, "cpu.cfs_period_us", String(period))
                    } catch let error as SystemError where error.errno == EINVAL && quota != 0 {
                        // A shorter period can violate the current quota: quota first.
                        try CgroupFile.write(dir, "cpu.cfs_quota_us", String(quota))
                        try CgroupFile.write(dir, "cpu.cfs_period_us", String(period))
                        quotaWritten = true
                    }
                }
                if quota != 0 && !quotaWritten { try CgroupFile.write(dir, "cpu.cfs_quota_us", String(quota)) }
                if let burst = c.burst { try CgroupFile.write(dir, "cpu.cfs_burst_us", String(burst)) }
                if let idle = c.idle { try CgroupFile.write(dir, "cpu.idle", String(idle)) }
            case .v2(let dir):
                if rtRuntime != 0 || rtPeriod != 0 {
                    throw SystemError(errno: ENOTSUP, stage: "cpu.realtimeRuntime/realtimePeriod in \(dir): not supported on cgroup v2")
                }
                if shares != 0 { try CgroupFile.write(dir, "cpu.weight", String(Cgroup.cpuWeight(shares: shares))) }
                if quota != 0 || period != 0 {
                    var value = quota > 0 ? String(quota) : "max"
                    if period != 0 { value += " \(period)" }
                    try CgroupFile.write(dir, "cpu.max", value)
                }
                if let burst = c.burst { try CgroupFile.write(dir, "cpu.max.burst", String(burst)) }
                if let idle = c.idle { try CgroupFile.write(dir, "cpu.idle", String(idle)) }
            }
        }
        let cpus = c.cpus ?? "", mems = c.mems ?? ""
        if !cpus.isEmpty || !mems.isEmpty {
            switch try requireBackend("cpuset", for: "cpu.cpus/mems") {
            case .v1(let dir), .v2(let dir):
                if !cpus.isEmpty { try CgroupFile.write(dir, "cpuset.cpus", cpus) }
                if !mems.isEmpty { try CgroupFile.write(dir, "cpuset.mems", mems) }
            }
        }
    }

    // MARK: block I/O

    /// runc's conversion of v1 `blkio.weight` (10...1000) to v2 `io.weight` (1...10000).
    public static func ioWeight(blkioWeight w: UInt16) -> UInt64 {
        let w = UInt64(min(max(w, 10), 1000))
        return 1 + (w - 10) * 9999 / 990
    }

    func applyBlockIO(_ b: Spec.BlockIO) throws {
        let throttles: [(String, String, [Spec.ThrottleDevice]?)] = [
            ("blkio.throttle.read_bps_device", "rbps", b.throttleReadBpsDevice),
            ("blkio.throttle.write_bps_device", "wbps", b.throttleWriteBpsDevice),
            ("blkio.throttle.read_iops_device", "riops", b.throttleReadIOPSDevice),
            ("blkio.throttle.write_iops_device", "wiops", b.throttleWriteIOPSDevice),
        ]
        let anything = (b.weight ?? 0) != 0 || (b.leafWeight ?? 0) != 0 || !(b.weightDevice ?? []).isEmpty
            || throttles.contains { !($0.2 ?? []).isEmpty }
        guard anything else { return }
        switch try requireBackend("blkio", v2: "io", for: "blockIO") {
        case .v1(let dir):
            let bfq = !CgroupFile.exists(dir, "blkio.weight") && CgroupFile.exists(dir, "blkio.bfq.weight")
            let weightFile = bfq ? "blkio.bfq.weight" : "blkio.weight"
            if let w = b.weight, w != 0 { try CgroupFile.write(dir, weightFile, String(w)) }
            if let w = b.leafWeight, w != 0 { try CgroupFile.write(dir, "blkio.leaf_weight", String(w)) }
            for d in b.weightDevice ?? [] {
                if let w = d.weight { try CgroupFile.write(dir, weightFile + "_device", "\(d.major):\(d.minor) \(w)") }
                if let w = d.leafWeight { try CgroupFile.write(dir, "blkio.leaf_weight_device", "\(d.major):\(d.minor) \(w)") }
            }
            for (file, _, devices) in throttles {
                for d in devices ?? [] { try CgroupFile.write(dir, file, "\(d.major):\(d.minor) \(d.rate)") }
            }
        case .v2(let dir):
            let bfq = CgroupFile.exists(dir, "io.bfq.weight")
            if let w = b.weight, w != 0 {
                if bfq {
                    try CgroupFile.write(dir, "io.bfq.weight", String(w))
                } else {
                    try CgroupFile.write(dir, "io.weight", "default \(Cgroup.ioWeight(blkioWeight: w))")
                }
            }
            if let w = b.leafWeight, w != 0 {
                throw SystemError(errno: ENOTSUP, stage: "blockIO.leafWeight in \(dir): not supported on cgroup v2")
            }
            for d in b.weightDevice ?? [] {
                guard let w = d.weight else { continue }
                if bfq {
                    try CgroupFile.write(dir, "io.bfq.weight", "\(d.major):\(d.minor) \(w)")
                } else {
                    try CgroupFile.write(dir, "io.weight", "\(d.major):\(d.minor) \(Cgroup.ioWeight(blkioWeight: w))")
                }
            }
            for (_, key, devices) in throttles {
                for d in devices ?? [] {
                    try CgroupFile.write(dir, "io.max", "\(d.major):\(d.minor) \(key)=\(d.rate == 0 ? "max" : String(d.rate))")
                }
            }
        }
    }

    // MARK: hugetlb

    func applyHugepages(_ limits: [Spec.HugepageLimit]) throws {
        let backend = try requireBackend("hugetlb", for: "hugepageLimits")
        for l in limits {
            guard Cgroup.isPageSize(l.pageSize) else {
                throw SystemError(errno: EINVAL, stage: "hugepageLimits: page size '\(l.pageSize)' is not like 2MB or 1GB")
            }
            switch backend {
            case .v1(let dir): try CgroupFile.write(dir, "hugetlb.\(l.pageSize).limit_in_bytes", String(l.limit))
            case .v2(let dir): try CgroupFile.write(dir, "hugetlb.\(l.pageSize).max", String(l.limit))
            }
        }
    }

    static func isPageSize(_ s: String) -> Bool {
        guard s.hasSuffix("B"), s.count >= 3 else { return false }
        let unit = s.dropLast().last!
        guard "KMG".contains(unit) else { return false }
        let digits = s.dropLast(2)
        return !digits.isEmpty && digits.allSatisfy(\.isNumber)
    }

    // MARK: unified

    func applyUnified(_ values: [String: String]) throws {
        guard let unified else {
            throw SystemError(errno: ENOTSUP, stage: "linux.resources.unified: needs cgroup v2 (this host is \(mode.rawValue))")
        }
        for (key, value) in values.sorted(by: { $0.key < $1.key }) {
            let parts = key.split(separator: ".", maxSplits: 1)
            guard parts.count == 2, !key.contains("/") else {
                throw SystemError(errno: EINVAL, stage: "linux.resources.unified: '\(key)' is not a cgroup file name")
            }
            let controller = String(parts[0])
            if mode == .hybrid && controller != "cgroup" && !unifiedControllers.contains(controller) {
                throw SystemError(errno: EINVAL, stage: "linux.resources.unified[\(key)]: the \(controller) controller is not in the cgroup v2 hierarchy of this hybrid host (it has: \(unifiedControllers.sorted().joined(separator: " ")))")
            }
            try CgroupFile.write(unified.directory, key, value)
        }
    }
}
