import BerthOCI
import BerthSystem
import CBerthLinux
import CBerthRuntime
#if canImport(Glibc)
import Glibc
#endif

/// Prepares the container's root inside its new mount namespace: the spec's mounts,
/// the default devices, pivot_root, then masked and read-only paths, sysctls, hostname.
///
/// Every destination inside the root is resolved with `berth_open_in_root` and mounted
/// through `/proc/self/fd/N`, so a symlink planted in the image can never redirect a
/// mount onto the host.
struct RootfsSetup {
    let config: InitConfig
    var spec: Spec { config.spec }
    var rootfs: String { config.rootfs }

    func prepare() throws {
        let propagation = MountOptions.propagation[spec.linux?.rootfsPropagation ?? ""] ?? UInt(MS_SLAVE | MS_REC)
        try checkNegativeErrno(berth_mount(nil, "/", nil, propagation, nil), "make / \(spec.linux?.rootfsPropagation ?? "rslave")")
        // The root must be a mount point for pivot_root.
        try checkNegativeErrno(berth_mount(rootfs, rootfs, nil, UInt(MS_BIND | MS_REC), nil), "bind \(rootfs) onto itself")
        let rootFD = open(rootfs, BERTH_O_PATH | O_DIRECTORY | O_CLOEXEC)
        guard rootFD >= 0 else { throw SystemError(errno: errno, stage: "open rootfs \(rootfs)") }
        defer { close(rootFD) }
        var devMounted = false
        for mount in spec.mounts ?? [] {
            try mountOne(mount, rootFD: rootFD)
            if mount.destination == "/dev" || mount.destination == "/dev/" { devMounted = true }
        }
        try Devices(config: config, rootFD: rootFD).create(devIsFresh: devMounted)
    }

    /// pivot_root into the rootfs (MS_MOVE + chroot where pivot_root cannot work: a root
    /// on ramfs, or --no-pivot).
    func enterRoot() throws {
        if config.noPivot {
            try checkNegativeErrno(berth_move_root(rootfs), "move root \(rootfs)")
            return
        }
        let rc = berth_pivot_root(rootfs)
        if rc == -EINVAL {
            try checkNegativeErrno(berth_move_root(rootfs), "move root \(rootfs)")
        } else {
            try checkNegativeErrno(rc, "pivot_root \(rootfs)")
        }
    }

    /// After pivot_root: paths are the container's own.
    func finish() throws {
        let linux = spec.linux
        try Sysctls.apply(linux?.sysctl ?? [:], namespaces: Set((linux?.namespaces ?? []).map(\.type)))
        // Read-only paths first, then masks over them, as runc does.
        for path in linux?.readonlyPaths ?? [] { try makeReadOnly(path) }
        for path in linux?.maskedPaths ?? [] { try mask(path) }
        if let hostname = spec.hostname { try checkNegativeErrno(berth_sethostname(hostname), "sethostname") }
        // A new network namespace starts with lo down; containers expect 127.0.0.1.
        if config.newNetworkNamespace { try checkNegativeErrno(berth_loopback_up(), "bring up lo") }
        if let domain = spec.domainname { try checkNegativeErrno(berth_setdomainname(domain), "setdomainname") }
        if spec.root?.readonly == true { try remountReadOnly("/") }
    }

    private func mountOne(_ mount: Spec.Mount, rootFD: Int32) throws {
        let destination = mount.destination
        guard destination.hasPrefix("/") else { throw SystemError(errno: EINVAL, stage: "mount \(destination): destination must be absolute") }
        let type = mount.type ?? ""
        let options = MountOptions(mount.options ?? [])
        let isBind = options.flags & UInt(MS_BIND) != 0 || type == "bind"
        if type == "cgroup" || type == "cgroup2" {
            return try CgroupMount(config: config, rootFD: rootFD).mount(destination, options: options)
        }
        // Where the source is a file, the destination is a file too.
        var target: Int32
        if isBind, let source = mount.source, FileSystem.fileType(source) != S_IFDIR, FileSystem.fileType(source) != nil {
            target = berth_mkfile_in_root(rootFD, destination, 0o644)
        } else if type == "proc" || type == "sysfs" {
            // Must be real directories: a symlink here is refused, never followed.
            _ = berth_mkdir_all_in_root(rootFD, destination, 0o755)
            target = berth_open_in_root_nofollow(rootFD, destination, BERTH_O_PATH | O_DIRECTORY)
        } else {
            target = berth_mkdir_all_in_root(rootFD, destination, 0o755)
        }
        try checkNegativeErrno(target, "mount \(destination): resolve in root")
        defer { close(target) }
        let path = "/proc/self/fd/\(target)"
        let source = isBind ? (mount.source ?? "") : (mount.source ?? type)
        var flags = options.flags
        if type == "bind" { flags |= UInt(MS_BIND) }
        let mountFlags = isBind ? flags & ~UInt(MS_RDONLY) & UInt(MS_BIND | MS_REC) : flags
        try checkNegativeErrno(berth_mount(source, path, isBind ? nil : type, mountFlags, options.data.isEmpty ? nil : options.data),
                               "mount \(type.isEmpty ? "bind" : type) \(source) on \(destination)")
        let needsRemount = isBind && flags & ~UInt(MS_BIND | MS_REC) != 0
        guard needsRemount || options.recursiveReadOnly || options.propagation != 0 else { return }
        // The fd still names the directory under the new mount: open the mount itself.
        let mounted = berth_open_in_root(rootFD, destination, BERTH_O_PATH, 0)
        try checkNegativeErrno(mounted, "mount \(destination): reopen")
        defer { close(mounted) }
        let mountedPath = "/proc/self/fd/\(mounted)"
        // A bind mount takes its other flags (ro, nosuid…) only on a remount.
        if needsRemount {
            let remount = UInt(MS_REMOUNT | MS_BIND) | (flags & ~UInt(MS_REC))
            try checkNegativeErrno(berth_mount(nil, mountedPath, nil, remount, nil), "remount \(destination) with its options")
        }
        if options.recursiveReadOnly {
            try checkNegativeErrno(berth_mount_setattr_rdonly(mounted, "", 1), "make \(destination) recursively read-only")
        }
        if options.propagation != 0 {
            try checkNegativeErrno(berth_mount(nil, mountedPath, nil, options.propagation, nil), "set propagation of \(destination)")
        }
    }

    /// Hides a path: /dev/null over a file, an empty read-only tmpfs over a directory.
    private func mask(_ path: String) throws {
        guard let type = FileSystem.fileType(path) else { return }
        if type == S_IFDIR {
            try checkNegativeErrno(berth_mount("tmpfs", path, "tmpfs", UInt(MS_RDONLY), nil), "mask \(path)")
        } else {
            let rc = berth_mount("/dev/null", path, nil, UInt(MS_BIND), nil)
            if rc != -ENOENT { try checkNegativeErrno(rc, "mask \(path)") }
        }
    }

    private func makeReadOnly(_ path: String) throws {
        guard FileSystem.fileType(path) != nil else { return }
        try checkNegativeErrno(berth_mount(path, path, nil, UInt(MS_BIND | MS_REC), nil), "bind \(path) read-only")
        try remountReadOnly(path)
    }

    /// Remounts a mount point read-only, keeping the flags it already has (a remount
    /// that drops nosuid/nodev/noexec is refused in user namespaces).
    private func remountReadOnly(_ path: String) throws {
        var st = statvfs()
        _ = statvfs(path, &st)
        var flags = UInt(MS_REMOUNT | MS_BIND | MS_RDONLY)
        let keep: [(UInt, UInt)] = [(UInt(ST_NOSUID), UInt(MS_NOSUID)), (UInt(BERTH_ST_NODEV), UInt(MS_NODEV)), (UInt(BERTH_ST_NOEXEC), UInt(MS_NOEXEC))]
        for (statFlag, mountFlag) in keep where st.f_flag & statFlag != 0 { flags |= mountFlag }
        try checkNegativeErrno(berth_mount(nil, path, nil, flags, nil), "remount \(path) read-only")
    }
}

/// Parses OCI/fstab mount options into mount(2) flags, propagation and data.
struct MountOptions {
    var flags: UInt = 0
    var propagation: UInt = 0
    var recursiveReadOnly = false
    var data = ""

    static let setters: [String: UInt] = [
        "ro": UInt(MS_RDONLY), "nosuid": UInt(MS_NOSUID), "nodev": UInt(MS_NODEV), "noexec": UInt(MS_NOEXEC),
        "sync": UInt(MS_SYNCHRONOUS), "dirsync": UInt(MS_DIRSYNC), "remount": UInt(MS_REMOUNT), "mand": UInt(MS_MANDLOCK),
        "noatime": UInt(MS_NOATIME), "nodiratime": UInt(MS_NODIRATIME), "bind": UInt(MS_BIND),
        "rbind": UInt(MS_BIND | MS_REC), "relatime": UInt(MS_RELATIME), "strictatime": UInt(MS_STRICTATIME),
        "silent": UInt(MS_SILENT),
    ]
    static let clearers: Set<String> = [
        "rw", "suid", "dev", "exec", "async", "nomand", "atime", "diratime", "norelatime", "nostrictatime", "defaults",
    ]
    static let propagation: [String: UInt] = [
        "private": UInt(MS_PRIVATE), "rprivate": UInt(MS_PRIVATE | MS_REC), "shared": UInt(MS_SHARED),
        "rshared": UInt(MS_SHARED | MS_REC), "slave": UInt(MS_SLAVE), "rslave": UInt(MS_SLAVE | MS_REC),
        "unbindable": UInt(MS_UNBINDABLE), "runbindable": UInt(MS_UNBINDABLE | MS_REC),
    ]

    init(_ options: [String]) {
        var data: [String] = []
        for option in options {
            if let flag = Self.setters[option] { flags |= flag }
            else if Self.clearers.contains(option) { continue }
            else if let p = Self.propagation[option] { propagation |= p }
            else if option == "rro" { recursiveReadOnly = true }
            else if option == "rrw" || option.hasPrefix("tmpcopyup") || option == "idmap" || option == "ridmap" { continue }
            else { data.append(option) }
        }
        self.data = data.joined(separator: ",")
    }
}
