#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import BerthOCI
import BerthSystem
import CBerthLinux
import CBerthRuntime
#if canImport(Glibc)
import Glibc
#endif

/// `berth-runtime init`: the container's first process, exec'd from the sealed runtime
/// binary by the spawn child, inside the new namespaces. It is single-threaded (nothing
/// here starts a thread), prepares the root file system and the process, reports to the
/// parent over the sync socket, waits on the exec fifo, and execs the user's process.
///
/// Every failure goes back to the parent as `(errno, stage)` and the init exits 1.
public enum ContainerInit {
    /// The sync socket while the parent listens; -1 once READY was sent, after which
    /// failures go to the process's stderr (the container's), as runc's do.
    nonisolated(unsafe) static var syncFD: Int32 = -1

    public static func main() -> Never {
        do {
            let (config, sync) = try readConfig()
            syncFD = sync
            try run(config, sync: sync)
        } catch let error as SystemError {
            report(errno: error.errno, stage: error.stage)
        } catch {
            report(errno: EINVAL, stage: "\(error)")
        }
        exit(1)
    }

    static func report(errno: Int32, stage: String) {
        if syncFD >= 0 { _ = berth_sync_send(syncFD, BERTH_SYNC_ERROR.rawValue, errno, 0, stage) }
        else { writeStderr("berth-runtime: \(SystemError(errno: errno, stage: stage))\n") }
    }

    static func readConfig() throws -> (InitConfig, Int32) {
        guard let raw = getenv(initEnvironmentKey) else {
            throw SystemError(errno: EINVAL, stage: "berth-runtime init is started by the runtime, not by hand")
        }
        let parts = String(cString: raw).split(separator: ",").compactMap { Int32($0) }
        guard parts.count == 2 else { throw SystemError(errno: EINVAL, stage: "malformed \(initEnvironmentKey)") }
        let (configFD, sync) = (parts[0], parts[1])
        _ = fcntl(sync, F_SETFD, FD_CLOEXEC)
        let bytes = try FileSystem.read(configFD, limit: 64 << 20, what: "init config")
        close(configFD)
        let config = try InitConfig(wire: bytes)
        return (config, sync)
    }

    static func run(_ config: InitConfig, sync: Int32) throws -> Never {
        let process = config.process
        var console: Int32?
        switch config.mode {
        case .create:
            let rootfs = RootfsSetup(config: config)
            try rootfs.prepare()
            if config.spec.hooks?.prestart?.isEmpty == false || config.spec.hooks?.createRuntime?.isEmpty == false {
                try exchange(sync, send: BERTH_SYNC_HOOKS, expect: BERTH_SYNC_HOOKS_DONE)
            }
            let state = ContainerState(id: config.id, pid: getpid(), status: "creating", bundle: config.bundle,
                                       rootfs: config.rootfs, created: Timestamp.now(), annotations: config.spec.annotations)
            try Hooks.run(config.spec.hooks?.createContainer, state: state, stage: "createContainer")
            try rootfs.enterRoot()
            if process.terminal == true { console = try setupConsole(config, bindToDevConsole: true) }
            try rootfs.finish()
        case .exec:
            try expect(sync, BERTH_SYNC_GO)
            if process.terminal == true { console = try setupConsole(config, bindToDevConsole: false) }
        }
        var setup = ProcessSetup(process: process, config: config)
        try setup.beforeIdentity()
        try setup.switchIdentity()
        // A program that does not exist fails the create, not the start.
        let program = try setup.resolveProgram()
        guard berth_sync_send(sync, BERTH_SYNC_READY.rawValue, 0, 0, nil) == 0 else {
            throw SystemError(errno: EPIPE, stage: "report ready")
        }
        close(sync)
        syncFD = -1
        if config.mode == .create, let fifo = config.fifoFD {
            try waitForStart(fifo: fifo)
            let state = ContainerState(id: config.id, pid: getpid(), status: "running", bundle: config.bundle,
                                       rootfs: config.rootfs, created: Timestamp.now(), annotations: config.spec.annotations)
            try Hooks.run(config.spec.hooks?.startContainer, state: state, stage: "startContainer")
        }
        _ = console
        try setup.finalAndExec(program)
    }

    /// Blocks until `start` opens the exec fifo for reading, then writes one byte.
    static func waitForStart(fifo: Int32) throws {
        let fd = open("/proc/self/fd/\(fifo)", O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SystemError(errno: errno, stage: "open exec fifo") }
        var zero: UInt8 = 0x30
        guard write(fd, &zero, 1) == 1 else { throw SystemError(errno: errno, stage: "write exec fifo") }
        close(fd)
        close(fifo)
    }

    static func exchange(_ sync: Int32, send type: berth_sync_type, expect reply: berth_sync_type) throws {
        guard berth_sync_send(sync, type.rawValue, 0, 0, nil) == 0 else { throw SystemError(errno: EPIPE, stage: "sync with parent") }
        try expect(sync, reply)
    }

    static func expect(_ sync: Int32, _ type: berth_sync_type) throws {
        var message = berth_sync_msg()
        let rc = berth_sync_recv(sync, &message)
        guard rc == 0 else { throw SystemError(errno: -rc, stage: "sync with parent") }
        guard message.type == type.rawValue else { throw SystemError(errno: EPROTO, stage: "sync: unexpected message \(message.type)") }
    }

    /// A pty from the container's devpts: the master goes to the console socket, the
    /// slave becomes stdio and the controlling terminal (and /dev/console for create).
    static func setupConsole(_ config: InitConfig, bindToDevConsole: Bool) throws -> Int32 {
        guard let socketFD = config.consoleSocketFD else { throw SystemError(errno: EINVAL, stage: "terminal without console socket") }
        var master: Int32 = -1, slave: Int32 = -1
        try checkNegativeErrno(berth_open_pty(&master, &slave), "open pty")
        if let size = config.process.consoleSize {
            _ = berth_set_winsize(master, UInt16(truncatingIfNeeded: size.height), UInt16(truncatingIfNeeded: size.width))
        }
        if bindToDevConsole {
            let path = "/proc/self/fd/\(slave)"
            if FileSystem.fileType("/dev/console") == nil {
                let fd = open("/dev/console", O_CREAT | O_WRONLY | O_CLOEXEC, 0o600)
                if fd >= 0 { close(fd) }
            }
            try checkNegativeErrno(berth_mount(path, "/dev/console", nil, UInt(MS_BIND), nil), "bind pty to /dev/console")
        }
        try checkNegativeErrno(berth_send_fd(socketFD, master), "send pty master to console socket")
        close(master)
        close(socketFD)
        for target in [Int32(0), 1, 2] where dup2(slave, target) < 0 {
            throw SystemError(errno: errno, stage: "dup2 pty")
        }
        try checkNegativeErrno(berth_setsid_ctty(0), "set controlling terminal")
        if slave > 2 { close(slave) }
        return 0
    }
}
