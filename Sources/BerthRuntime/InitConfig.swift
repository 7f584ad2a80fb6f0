import BerthOCI

/// What `berth-runtime create` or `exec` hands the init it spawns, in an inherited memfd
/// (`_BERTH_INIT=<config fd>,<sync fd>` in the environment), in the binary form of
/// InitConfig+Wire.swift.
struct InitConfig: Sendable {
    enum Mode: String, Sendable { case create, exec }

    var mode: Mode
    var id: String
    var bundle: String
    var rootfs: String
    var spec: Spec
    /// The process to run (the spec's for create, the exec's own for exec).
    var process: Spec.Process
    /// BERTH_O_PATH fd of the exec fifo (create only).
    var fifoFD: Int32?
    /// Connected console socket, when process.terminal.
    var consoleSocketFD: Int32?
    /// The compiled seccomp program (`struct sock_filter` array), as bytes.
    var seccompFilter: [UInt8]?
    var seccompFlags: UInt32
    /// Number of fds after stdio passed through to the process (runc --preserve-fds).
    var preserveFDs: Int32
    /// Whether new user/mount/network namespaces were created (governs mknod vs bind).
    var newUserNamespace: Bool
    var newNetworkNamespace: Bool
    /// --no-pivot: MS_MOVE + chroot instead of pivot_root.
    var noPivot: Bool = false
}

/// The environment variable that carries the init's descriptors.
let initEnvironmentKey = "_BERTH_INIT"
