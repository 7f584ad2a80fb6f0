#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import BerthCgroups
import BerthOCI
import BerthSystem
import CBerthRuntime
#if canImport(Glibc)
import Glibc
#endif

extension Runtime {
    /// `run`: create and start; without `detach`, wait for the process, forward signals
    /// to it, delete the container and return its exit status (128+n for a signal).
    public func run(id: String, options: CreateOptions, detach: Bool) throws -> Int32 {
        let signals: [Int32] = [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH]
        var mask = sigset_t()
        sigemptyset(&mask)
        if !detach {
            // Blocked before the container exists, so no signal is lost to the default action.
            for s in signals + [SIGCHLD] { sigaddset(&mask, s) }
            sigprocmask(SIG_BLOCK, &mask, nil)
            // An init that joins a pid namespace is forked by an intermediate that exits at
            // once: as subreaper, this process gets it as a child to wait for.
            try checkNegativeErrno(berth_set_child_subreaper(), "prctl PR_SET_CHILD_SUBREAPER")
        }
        let saved = try createSaving(id: id, options: options)
        do {
            try start(saved)
        } catch {
            try? delete(saved, force: true)
            throw error
        }
        if detach { return 0 }
        let status = waitForwarding(pid: saved.pid, signals: mask)
        try? delete(saved, force: true)
        return status
    }

    /// Waits for `pid` (our child, or reparented to us as subreaper), passing the blocked
    /// signals in `signals` on to it. Returns the exit status as a shell reports it.
    func waitForwarding(pid: Int32, signals: sigset_t) -> Int32 {
        var mask = signals
        var timeout = timespec(tv_sec: 1, tv_nsec: 0)
        while true {
            var status: Int32 = 0
            let reaped = waitpid(pid, &status, WNOHANG)
            if reaped == pid {
                let signal = status & 0x7f
                return signal == 0 ? (status >> 8) & 0xff : 128 + signal
            }
            if reaped < 0 && errno == ECHILD { return 255 }
            var info = siginfo_t()
            // SIGCHLD (blocked, so it queues) wakes us to reap; others are passed on.
            let sig = sigtimedwait(&mask, &info, &timeout)
            if sig > 0 && sig != SIGCHLD { Glibc.kill(pid, sig) }
        }
    }

    /// `exec`: runs the process `makeProcess` makes from the container's spec in the
    /// container's namespaces and cgroup. Without `detach` it waits and returns the
    /// process's exit status.
    public func exec(id: String, process makeProcess: (Spec) throws -> Spec.Process, pidFile: String?, consoleSocket: String?,
                     preserveFDs: Int32, detach: Bool) throws -> Int32 {
        let saved = try store.load(id)
        var spec = try store.spec(of: saved)
        let process = try makeProcess(spec)
        let status = store.status(of: saved)
        guard status == "running" || status == "created" else { throw RuntimeError("cannot exec in a container that is \(status)") }
        if process.terminal == true && consoleSocket == nil { throw RuntimeError("process.terminal is true: --console-socket is required") }
        try checkNegativeErrno(berth_set_child_subreaper(), "prctl PR_SET_CHILD_SUBREAPER")
        var mask = sigset_t()
        sigemptyset(&mask)
        if !detach {
            for s in [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGCHLD] { sigaddset(&mask, s) }
            sigprocmask(SIG_BLOCK, &mask, nil)
        }
        spec.hooks = nil
        let launcher = try InitLauncher(mode: .exec, id: id, bundle: saved.bundle, rootfs: saved.rootfs, spec: spec,
                                        process: process, fifoFD: nil, consoleSocket: consoleSocket, preserveFDs: preserveFDs,
                                        seccompCache: store.seccompCache)
        let pid = try launcher.spawnExec(targetPid: saved.pid, cgroup: try? store.cgroup(for: saved))
        if let pidFile { try writePidFile(pidFile, pid) }
        if detach { return 0 }
        return waitForwarding(pid: pid, signals: mask)
    }

    /// Reads an exec's process from `--process FILE` (runc's format: a Spec.Process).
    public static func loadProcess(_ path: String) throws -> Spec.Process {
        let bytes = try FileSystem.readFile(path, limit: 16 << 20)
        if let process = Spec.Process.quickDecode(bytes) { return process } // JSONDecoder for the rest, and its errors
        do {
            return try JSONDecoder().decode(Spec.Process.self, from: Data(bytes))
        } catch let error as DecodingError {
            throw RuntimeError("\(path): \(describe(error))")
        }
    }
}
