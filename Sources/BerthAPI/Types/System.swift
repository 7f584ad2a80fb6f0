/// Result of `system.version`.
public struct VersionInfo: Codable, Sendable, Equatable {
    /// The release of Berth, e.g. `0.1.0`.
    public var version: String
    /// The git commit the daemon was built from (`_dirty` when the tree had changes).
    public var revision: String
    /// The API version (`API.version`).
    public var apiVersion: Int

    public init(version: String, revision: String, apiVersion: Int) {
        self.version = version
        self.revision = revision
        self.apiVersion = apiVersion
    }
}

/// Result of `system.info`: what the daemon is, where it keeps things, what it found.
public struct SystemInfo: Codable, Sendable, Equatable {
    public var version: VersionInfo
    public var pid: Int32
    /// Persistent root (`metadata.db`, content, snapshots).
    public var root: String
    /// Volatile state (socket, shims, bundles).
    public var state: String
    /// The API socket's path.
    public var address: String
    /// `v1`, `v2`, `hybrid` (v1 controllers with cgroup2 beside them) or `unavailable`.
    public var cgroupMode: String
    /// Whether systemd is PID 1 (`sd_booted`).
    public var systemdBooted: Bool
    /// libseccomp's version, for the runtime's seccomp profiles.
    public var seccompVersion: String
    public var runtimes: [RuntimeInfo]
    public var snapshotters: [String]
    /// Every plugin the daemon loaded, in load order.
    public var plugins: [PluginInfo]
    public var limits: Limits

    public struct Limits: Codable, Sendable, Equatable {
        public var maxFrameBytes: Int
        public var frameTimeoutSeconds: Double
        public var maxConnections: Int
        public init(maxFrameBytes: Int, frameTimeoutSeconds: Double, maxConnections: Int) {
            self.maxFrameBytes = maxFrameBytes
            self.frameTimeoutSeconds = frameTimeoutSeconds
            self.maxConnections = maxConnections
        }
    }

    public init(
        version: VersionInfo, pid: Int32, root: String, state: String, address: String,
        cgroupMode: String, systemdBooted: Bool, seccompVersion: String,
        runtimes: [RuntimeInfo], snapshotters: [String], plugins: [PluginInfo], limits: Limits
    ) {
        self.version = version
        self.pid = pid
        self.root = root
        self.state = state
        self.address = address
        self.cgroupMode = cgroupMode
        self.systemdBooted = systemdBooted
        self.seccompVersion = seccompVersion
        self.runtimes = runtimes
        self.snapshotters = snapshotters
        self.plugins = plugins
        self.limits = limits
    }
}

/// An OCI runtime the daemon can drive.
public struct RuntimeInfo: Codable, Sendable, Equatable {
    public var name: String
    public var path: String
    public var isDefault: Bool

    public init(name: String, path: String, isDefault: Bool) {
        self.name = name
        self.path = path
        self.isDefault = isDefault
    }
}

/// A loaded plugin, as containerd's introspection service lists them.
public struct PluginInfo: Codable, Sendable, Equatable {
    /// e.g. `io.berth.service.v1`.
    public var type: String
    public var id: String
    /// `ok`, or `error` with `error` saying why.
    public var status: String
    public var error: String?

    public init(type: String, id: String, status: String = "ok", error: String? = nil) {
        self.type = type
        self.id = id
        self.status = status
        self.error = error
    }
}
