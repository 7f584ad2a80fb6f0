import BerthAPI
import BerthSystem
import CBerthLinux

/// Performs `Mount` values, as containerd's `mount.All`: what the tests and the shim
/// use to mount what a snapshotter returns.
///
/// Overlays whose option data would not fit mount(2)'s one page (4096 bytes; a chain
/// of ~100 layers with absolute paths) are mounted with the new mount API, one
/// `lowerdir+` per layer (Linux 6.8+), so the chain length is bounded only by
/// overlay's own limit of 500 layers. On older kernels the fallback is containerd's:
/// mount(2) from a helper process that has changed directory to the layers' common
/// parent, with relative lower directories (`12/fs:11/fs:…`).
public enum MountExecutor {
    /// How overlays with long option data are mounted.
    public enum LongOverlayStrategy: Sendable {
        /// `lowerdir+` through fsconfig, falling back to `relativePaths` when the
        /// kernel does not know `lowerdir+`.
        case automatic
        /// Only `lowerdir+`.
        case lowerdirPlus
        /// Only mount(2) from a helper in the layers' common directory.
        case relativePaths
    }

    /// The largest option data mount(2) accepts (one page, with its NUL).
    public static let maxMountData = Mount.maxMountData

    /// Mounts each of `mounts` on `target`, in order (later ones on top). If one fails,
    /// those already mounted are unmounted again.
    public static func mount(_ mounts: [Mount], at target: String, strategy: LongOverlayStrategy = .automatic) throws {
        var done = 0
        do {
            for m in mounts {
                try mount(m, at: target, strategy: strategy)
                done += 1
            }
        } catch {
            for _ in 0..<done { try? Mounting.unmount(target, detach: true) }
            throw error
        }
    }

    /// Mounts one `Mount` on `target` (its own `target` is ignored).
    public static func mount(_ m: Mount, at target: String, strategy: LongOverlayStrategy = .automatic) throws {
        let parsed = ParsedOptions(m.options)
        let isBind = m.type == "bind" || parsed.flags & BERTH_MS_BIND != 0
        if isBind {
            let flags = (parsed.flags | BERTH_MS_BIND) & ~BERTH_MS_RDONLY
            try Mounting.mount(source: m.source, target: target, type: nil, flags: flags, data: nil)
            if parsed.flags & BERTH_MS_RDONLY != 0 {
                do {
                    try Mounting.mount(source: "", target: target, type: nil,
                                       flags: (flags & ~BERTH_MS_REC) | BERTH_MS_REMOUNT | BERTH_MS_RDONLY, data: nil)
                } catch {
                    try? Mounting.unmount(target, detach: true)
                    throw error
                }
            }
            return
        }
        let data = parsed.data.joined(separator: ",")
        if m.type == "overlay" && data.utf8.count > maxMountData {
            try mountLongOverlay(m, parsed, at: target, strategy: strategy)
            return
        }
        try Mounting.mount(source: m.source, target: target, type: m.type, flags: parsed.flags, data: data.isEmpty ? nil : data)
    }

    /// Unmounts `target`; with `all`, every mount stacked there.
    public static func unmount(_ target: String, all: Bool = true) throws {
        try Mounting.unmount(target)
        guard all else { return }
        while Mounting.isMountPoint(target) { try Mounting.unmount(target) }
    }

    static func mountLongOverlay(_ m: Mount, _ parsed: ParsedOptions, at target: String, strategy: LongOverlayStrategy) throws {
        var lowers: [String] = []
        var others: [String] = []
        for word in parsed.data {
            if word.hasPrefix("lowerdir=") {
                lowers = word.dropFirst("lowerdir=".count).split(separator: ":").map(String.init)
            } else {
                others.append(word)
            }
        }
        if strategy != .relativePaths {
            do {
                try Mounting.mountOverlay(target: target, lowers: lowers, parameters: others, flags: parsed.flags)
                return
            } catch let error as SystemError where error.errno == EINVAL && strategy == .automatic {
                // A kernel before 6.8 rejects "lowerdir+": try the relative form.
            }
        }
        guard let (base, relative) = Mount(type: "overlay", source: m.source, options: parsed.data).relativeOverlayOptions() else {
            throw BerthError.invalidArgument("overlay without absolute lowerdir paths cannot be mounted from their common directory")
        }
        let data = relative.joined(separator: ",")
        guard data.utf8.count <= maxMountData else {
            throw BerthError.invalidArgument("overlay of \(lowers.count) layers: options are \(data.utf8.count) bytes even with relative paths; mount(2) takes \(maxMountData)")
        }
        try Mounting.mount(inDirectory: base, source: m.source, target: target, type: "overlay", flags: parsed.flags, data: data)
    }
}

/// mount(8) option words split into mount flags and file-system data.
struct ParsedOptions {
    var flags: UInt = 0
    var data: [String] = []

    static let table: [String: (set: Bool, flag: UInt)] = [
        "ro": (true, BERTH_MS_RDONLY), "rw": (false, BERTH_MS_RDONLY),
        "bind": (true, BERTH_MS_BIND), "rbind": (true, BERTH_MS_BIND | BERTH_MS_REC),
        "nosuid": (true, BERTH_MS_NOSUID), "suid": (false, BERTH_MS_NOSUID),
        "nodev": (true, BERTH_MS_NODEV), "dev": (false, BERTH_MS_NODEV),
        "noexec": (true, BERTH_MS_NOEXEC), "exec": (false, BERTH_MS_NOEXEC),
        "sync": (true, BERTH_MS_SYNCHRONOUS), "async": (false, BERTH_MS_SYNCHRONOUS),
        "dirsync": (true, BERTH_MS_DIRSYNC), "mand": (true, BERTH_MS_MANDLOCK), "nomand": (false, BERTH_MS_MANDLOCK),
        "noatime": (true, BERTH_MS_NOATIME), "atime": (false, BERTH_MS_NOATIME),
        "nodiratime": (true, BERTH_MS_NODIRATIME), "diratime": (false, BERTH_MS_NODIRATIME),
        "relatime": (true, BERTH_MS_RELATIME), "norelatime": (false, BERTH_MS_RELATIME),
        "strictatime": (true, BERTH_MS_STRICTATIME), "remount": (true, BERTH_MS_REMOUNT),
        "defaults": (false, 0),
    ]

    init(_ options: [String]) {
        for word in options {
            if let entry = Self.table[word] {
                if entry.set { flags |= entry.flag } else { flags &= ~entry.flag }
            } else {
                data.append(word)
            }
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
