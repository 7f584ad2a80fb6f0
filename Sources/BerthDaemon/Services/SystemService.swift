import BerthAPI
import BerthRPC
import BerthSystem
import CBerthLinux
import CSeccomp
#if canImport(Glibc)
import Glibc
#endif

/// `system.*`: what the daemon is and what it found on the host.
struct SystemService: Sendable {
    let context: DaemonContext

    static let release = "0.1.0"

    static var versionInfo: VersionInfo {
        VersionInfo(version: release, revision: String(cString: berth_git_commit()), apiVersion: API.version)
    }

    func register(_ router: inout Router) {
        router.register(API.systemVersion) { _, _ in Self.versionInfo }
        router.register(API.systemInfo) { _, _ in info() }
    }

    func info() -> SystemInfo {
        let config = context.config
        return SystemInfo(
            version: Self.versionInfo,
            pid: getpid(),
            root: config.root,
            state: config.state,
            address: config.socketPath,
            cgroupMode: CgroupMode.detect().rawValue,
            systemdBooted: Systemd.booted,
            seccompVersion: Self.seccompVersion,
            runtimes: Self.runtimes(),
            snapshotters: context.snapshotters.names,
            plugins: context.plugins.infos,
            limits: .init(maxFrameBytes: config.maxFrameBytes, frameTimeoutSeconds: config.frameTimeoutSeconds,
                          maxConnections: config.maxConnections)
        )
    }

    /// The runtimes a container may name, as found on this host: berth-runtime beside
    /// berthd (the default), runc and crun on PATH.
    static func runtimes() -> [RuntimeInfo] {
        Container.Runtime.known.compactMap { name, binary in
            ShimManager.binary(named: binary).map { RuntimeInfo(name: name, path: $0, isDefault: name == Container.Runtime().name) }
        }
    }

    static let seccompVersion: String = {
        var buffer = [CChar](repeating: 0, count: 32)
        guard berth_seccomp_version(&buffer, UInt(buffer.count)) == 0 else { return "unknown" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }()
}
