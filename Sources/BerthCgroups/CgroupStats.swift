/// A cgroup's counters at one instant. Groups whose controller this host lacks are
/// nil. Times are nanoseconds and sizes bytes, whatever unit the kernel file used.
public struct CgroupStats: Codable, Sendable, Equatable {
    public struct CPU: Codable, Sendable, Equatable {
        /// CPU time consumed by all tasks.
        public var usageNanoseconds: UInt64
        public var userNanoseconds: UInt64
        public var systemNanoseconds: UInt64
        /// CFS bandwidth periods elapsed, periods in which the group was throttled, and
        /// the total time throttled (zero without a quota).
        public var periods: UInt64
        public var throttledPeriods: UInt64
        public var throttledNanoseconds: UInt64

        public init(usageNanoseconds: UInt64 = 0, userNanoseconds: UInt64 = 0, systemNanoseconds: UInt64 = 0,
                    periods: UInt64 = 0, throttledPeriods: UInt64 = 0, throttledNanoseconds: UInt64 = 0) {
            self.usageNanoseconds = usageNanoseconds
            self.userNanoseconds = userNanoseconds
            self.systemNanoseconds = systemNanoseconds
            self.periods = periods
            self.throttledPeriods = throttledPeriods
            self.throttledNanoseconds = throttledNanoseconds
        }
    }

    public struct Memory: Codable, Sendable, Equatable {
        /// Current charge (v1 `memory.usage_in_bytes`, v2 `memory.current`).
        public var usage: UInt64
        /// The hard limit; nil when unlimited.
        public var limit: UInt64?
        /// The high-water mark (v1 `memory.max_usage_in_bytes`, v2 `memory.peak`); nil
        /// when the kernel has no such file.
        public var maxUsage: UInt64?
        /// Page cache (v1 `total_cache`, v2 `file`).
        public var cache: UInt64
        /// Anonymous memory (v1 `total_rss`, v2 `anon`).
        public var rss: UInt64
        /// Swap in use (v1 memsw usage minus usage; v2 `memory.swap.current`); nil
        /// without swap accounting.
        public var swapUsage: UInt64?
        /// Times the limit was hit (v1: the larger of `memory.failcnt` and
        /// `memory.memsw.failcnt`, as a memory+swap limit equal to the memory limit is
        /// hit first; v2: `memory.events` `max`).
        public var failCount: UInt64
        /// Processes the OOM killer killed in this cgroup.
        public var oomKills: UInt64
        /// The whole `memory.stat`, as the kernel names the keys.
        public var stat: [String: UInt64]

        public init(usage: UInt64 = 0, limit: UInt64? = nil, maxUsage: UInt64? = nil, cache: UInt64 = 0, rss: UInt64 = 0,
                    swapUsage: UInt64? = nil, failCount: UInt64 = 0, oomKills: UInt64 = 0, stat: [String: UInt64] = [:]) {
            self.usage = usage
            self.limit = limit
            self.maxUsage = maxUsage
            self.cache = cache
            self.rss = rss
            self.swapUsage = swapUsage
            self.failCount = failCount
            self.oomKills = oomKills
            self.stat = stat
        }
    }

    public struct Pids: Codable, Sendable, Equatable {
        public var current: UInt64
        /// nil when unlimited.
        public var limit: UInt64?

        public init(current: UInt64 = 0, limit: UInt64? = nil) {
            self.current = current
            self.limit = limit
        }
    }

    /// Block I/O per device and summed (v1 `blkio.throttle.io_service*`, v2 `io.stat`).
    public struct IO: Codable, Sendable, Equatable {
        public struct Device: Codable, Sendable, Equatable {
            public var major: UInt64
            public var minor: UInt64
            public var readBytes: UInt64
            public var writeBytes: UInt64
            public var readOperations: UInt64
            public var writeOperations: UInt64

            public init(major: UInt64, minor: UInt64, readBytes: UInt64 = 0, writeBytes: UInt64 = 0,
                        readOperations: UInt64 = 0, writeOperations: UInt64 = 0) {
                self.major = major
                self.minor = minor
                self.readBytes = readBytes
                self.writeBytes = writeBytes
                self.readOperations = readOperations
                self.writeOperations = writeOperations
            }
        }

        public var readBytes: UInt64
        public var writeBytes: UInt64
        public var readOperations: UInt64
        public var writeOperations: UInt64
        public var devices: [Device]

        public init(devices: [Device]) {
            self.devices = devices.sorted { ($0.major, $0.minor) < ($1.major, $1.minor) }
            readBytes = devices.reduce(0) { $0 + $1.readBytes }
            writeBytes = devices.reduce(0) { $0 + $1.writeBytes }
            readOperations = devices.reduce(0) { $0 + $1.readOperations }
            writeOperations = devices.reduce(0) { $0 + $1.writeOperations }
        }
    }

    /// Hugepage usage per page size ("2MB").
    public struct Hugetlb: Codable, Sendable, Equatable {
        public var pageSize: String
        public var usage: UInt64
        public var maxUsage: UInt64?
        public var limit: UInt64?

        public init(pageSize: String, usage: UInt64, maxUsage: UInt64? = nil, limit: UInt64? = nil) {
            self.pageSize = pageSize
            self.usage = usage
            self.maxUsage = maxUsage
            self.limit = limit
        }
    }

    public var cpu: CPU?
    public var memory: Memory?
    public var pids: Pids?
    public var io: IO?
    public var hugetlb: [Hugetlb]?

    public init(cpu: CPU? = nil, memory: Memory? = nil, pids: Pids? = nil, io: IO? = nil, hugetlb: [Hugetlb]? = nil) {
        self.cpu = cpu
        self.memory = memory
        self.pids = pids
        self.io = io
        self.hugetlb = hugetlb
    }
}
