import BerthOCI

extension Spec {
    /// The `config.json` that `berth-runtime spec` writes: runc's default, a read-only
    /// rootfs, `sh` on a terminal, new pid/network/ipc/uts/mount/cgroup namespaces.
    public static func runtimeDefault(rootless: Bool = false) -> Spec {
        let caps = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
        var linux = Linux(namespaces: ["pid", "network", "ipc", "uts", "mount", "cgroup"].map { Namespace(type: $0) })
        linux.resources = Resources(devices: [DeviceRule(allow: false, access: "rwm")])
        linux.maskedPaths = ["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
                             "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware",
                             "/proc/scsi"]
        linux.readonlyPaths = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]
        return Spec(
            process: Process(
                terminal: true, user: User(uid: 0, gid: 0), args: ["sh"],
                env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"], cwd: "/",
                capabilities: Capabilities(bounding: caps, effective: caps, permitted: caps),
                rlimits: [Rlimit(type: "RLIMIT_NOFILE", hard: 1024, soft: 1024)], noNewPrivileges: true),
            root: Root(path: "rootfs", readonly: true),
            hostname: "berth",
            mounts: [
                Mount(destination: "/proc", type: "proc", source: "proc"),
                Mount(destination: "/dev", type: "tmpfs", source: "tmpfs", options: ["nosuid", "strictatime", "mode=755", "size=65536k"]),
                Mount(destination: "/dev/pts", type: "devpts", source: "devpts",
                      options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]),
                Mount(destination: "/dev/shm", type: "tmpfs", source: "shm", options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]),
                Mount(destination: "/dev/mqueue", type: "mqueue", source: "mqueue", options: ["nosuid", "noexec", "nodev"]),
                Mount(destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", "ro"]),
                Mount(destination: "/sys/fs/cgroup", type: "cgroup", source: "cgroup", options: ["nosuid", "noexec", "nodev", "relatime", "ro"]),
            ],
            linux: linux)
    }
}

/// What `berth-runtime features` prints: runc's `features` document.
public struct Features: Codable, Sendable {
    public var ociVersionMin = "1.0.0"
    public var ociVersionMax = Spec.version
    public var hooks = ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"]
    public var mountOptions = (Array(MountOptions.setters.keys) + Array(MountOptions.clearers) + Array(MountOptions.propagation.keys) + ["rro"]).sorted()
    public var linux = LinuxFeatures()
    public var annotations = ["io.berth.runtime.version": "0.1.0"]

    public init() {}

    public struct LinuxFeatures: Codable, Sendable {
        public var namespaces = NamespaceTable.flags.keys.sorted()
        public var capabilities = CapabilityTable.numbers.sorted { $0.value < $1.value }.map(\.key)
        public var cgroup = ["v1": true, "v2": true, "systemd": false, "systemdUser": false, "rdma": false]
        public var seccomp = SeccompFeatures()
        public var apparmor = ["enabled": false]
        public var selinux = ["enabled": false]
        public var intelRdt = ["enabled": false]
        public var mountExtensions = ["idmap": ["enabled": false]]
    }

    public struct SeccompFeatures: Codable, Sendable {
        public var enabled = true
        public var actions = ["SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD",
                              "SCMP_ACT_LOG", "SCMP_ACT_TRACE", "SCMP_ACT_TRAP"]
        public var operators = ["SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_LE", "SCMP_CMP_LT", "SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE"]
        public var archs = ["SCMP_ARCH_X86", "SCMP_ARCH_X86_64", "SCMP_ARCH_X32", "SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"]
        public var knownFlags = ["SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_TSYNC"]
        public var supportedFlags = ["SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_TSYNC"]
    }
}
