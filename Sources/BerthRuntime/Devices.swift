import BerthOCI
import BerthSystem
import CBerthLinux
import CBerthRuntime
#if canImport(Glibc)
import Glibc
#endif

/// The devices every container gets (runtime-spec "Default Devices"), the spec's own,
/// and the /dev symlinks. Created with mknod, or bind-mounted from the host inside a
/// new user namespace, where mknod is not allowed.
struct Devices {
    let config: InitConfig
    let rootFD: Int32

    static let defaults: [Spec.Device] = [
        .init(type: "c", path: "/dev/null", major: 1, minor: 3, fileMode: 0o666, uid: 0, gid: 0),
        .init(type: "c", path: "/dev/zero", major: 1, minor: 5, fileMode: 0o666, uid: 0, gid: 0),
        .init(type: "c", path: "/dev/full", major: 1, minor: 7, fileMode: 0o666, uid: 0, gid: 0),
        .init(type: "c", path: "/dev/random", major: 1, minor: 8, fileMode: 0o666, uid: 0, gid: 0),
        .init(type: "c", path: "/dev/urandom", major: 1, minor: 9, fileMode: 0o666, uid: 0, gid: 0),
        .init(type: "c", path: "/dev/tty", major: 5, minor: 0, fileMode: 0o666, uid: 0, gid: 0),
    ]

    static let links: [(String, String)] = [
        ("/proc/self/fd", "/dev/fd"), ("/proc/self/fd/0", "/dev/stdin"),
        ("/proc/self/fd/1", "/dev/stdout"), ("/proc/self/fd/2", "/dev/stderr"),
    ]

    /// `devIsFresh`: /dev is a tmpfs the spec mounted (otherwise the nodes go into the
    /// image's /dev, as runc puts them).
    func create(devIsFresh: Bool) throws {
        // The default devices always exist, over whatever the image has there (runc).
        var devices = config.spec.linux?.devices ?? []
        devices = Self.defaults.filter { d in !devices.contains { $0.path == d.path } } + devices
        for device in devices { try make(device) }
        for (target, name) in Self.links { try symlink(target, name) }
        try symlink("pts/ptmx", "/dev/ptmx")
    }

    private func make(_ device: Spec.Device) throws {
        guard device.path.hasPrefix("/dev/") else { throw SystemError(errno: EINVAL, stage: "device \(device.path) is not under /dev") }
        let parentPath = FileSystem.parentDirectory(of: device.path)
        let name = String(device.path.split(separator: "/").last ?? "")
        let parent = berth_mkdir_all_in_root(rootFD, parentPath, 0o755)
        try checkNegativeErrno(parent, "device \(device.path): resolve in root")
        defer { close(parent) }
        if config.newUserNamespace {
            // Bind the host's node over an empty file.
            let file = berth_mkfile_in_root(rootFD, device.path, 0o644)
            try checkNegativeErrno(file, "device \(device.path): create mount point")
            defer { close(file) }
            try checkNegativeErrno(berth_mount(device.path, "/proc/self/fd/\(file)", nil, UInt(MS_BIND), nil), "bind device \(device.path)")
            return
        }
        let kind: mode_t = switch device.type {
        case "c", "u": S_IFCHR
        case "b": S_IFBLK
        case "p": S_IFIFO
        default: throw SystemError(errno: EINVAL, stage: "device \(device.path): unknown type \(device.type)")
        }
        let mode = kind | mode_t(device.fileMode ?? 0o666) & 0o7777
        unlinkat(parent, name, 0) // replace whatever the image has there
        try checkNegativeErrno(berth_mknod(parent, name, UInt32(mode), UInt32(device.major ?? 0), UInt32(device.minor ?? 0)), "mknod \(device.path)")
        // mknod applies the umask: set the mode and owner exactly.
        _ = fchmodat(parent, name, mode_t(device.fileMode ?? 0o666) & 0o7777, 0)
        _ = fchownat(parent, name, device.uid ?? 0, device.gid ?? 0, Int32(AT_SYMLINK_NOFOLLOW))
    }

    private func symlink(_ target: String, _ path: String) throws {
        let parent = berth_mkdir_all_in_root(rootFD, "/dev", 0o755)
        try checkNegativeErrno(parent, "resolve /dev in root")
        defer { close(parent) }
        let name = String(path.split(separator: "/").last!)
        if symlinkat(target, parent, name) != 0 && errno != EEXIST {
            throw SystemError(errno: errno, stage: "symlink \(path)")
        }
    }
}

/// Namespaced sysctls only: a container must never change the host's kernel settings.
enum Sysctls {
    static let ipcKeys: Set<String> = ["kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem", "kernel.shmall",
                                       "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced"]

    static func validate(_ key: String, _ value: String, namespaces: Set<String>) throws {
        if value.contains("\n") || value.contains("\0") {
            throw SystemError(errno: EINVAL, stage: "sysctl \(key): value must be one line")
        }
        if key.contains("/") || key.contains("..") || key.isEmpty {
            throw SystemError(errno: EINVAL, stage: "sysctl \(key): invalid name")
        }
        if ipcKeys.contains(key) || key.hasPrefix("fs.mqueue.") {
            guard namespaces.contains("ipc") else { throw SystemError(errno: EPERM, stage: "sysctl \(key) needs a new ipc namespace") }
        } else if key.hasPrefix("net.") {
            guard namespaces.contains("network") else { throw SystemError(errno: EPERM, stage: "sysctl \(key) needs a new network namespace") }
        } else if key == "kernel.hostname" || key == "kernel.domainname" {
            guard namespaces.contains("uts") else { throw SystemError(errno: EPERM, stage: "sysctl \(key) needs a new uts namespace") }
        } else {
            throw SystemError(errno: EPERM, stage: "sysctl \(key) is not namespaced and cannot be set in a container")
        }
    }

    static func apply(_ sysctls: [String: String], namespaces: Set<String>) throws {
        for (key, value) in sysctls.sorted(by: { $0.key < $1.key }) {
            try validate(key, value, namespaces: namespaces)
            let path = "/proc/sys/" + key.replacingDots()
            try FileSystem.writeExisting(path, Array(value.utf8))
        }
    }
}

extension String {
    func replacingDots() -> String { String(map { $0 == "." ? "/" : $0 }) }
}
