import CBerthLinux
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The shim's one reaper: every child (runtime invocations, the container's init, exec'd
/// processes reparented to the subreaper shim) is reaped here and only here, so no exit
/// is lost to another `waitpid`. A caller waiting for a pid gets its status even when
/// the process exited before the caller asked (statuses are kept until claimed).
///
/// The reaper is one thread blocked in `waitid(P_ALL, WEXITED | WNOWAIT)`: it wakes as
/// a child exits and reaps it itself, with no signal handler and no hop from a signal
/// thread to a queue (a dispatch signal source cost ~0.2 ms per exit here). While the
/// shim has no child at all `waitid` fails at once, so the thread sleeps on an eventfd
/// that `childStarted()` rings (with a 100 ms backstop).
public final class Reaper: @unchecked Sendable {
    private struct State {
        var waiters: [Int32: [CheckedContinuation<Int32, Never>]] = [:]
        var handlers: [Int32: @Sendable (Int32) -> Void] = [:]
        var unclaimed: [Int32: Int32] = [:]
        var order: [Int32] = []
        var warmUp: (@Sendable () -> Void)?
    }

    /// Unclaimed statuses kept at most (orphans reparented to the shim are never claimed).
    static let maxUnclaimed = 1024

    private let state = Mutex(State())
    /// Rung by `childStarted()`; set once in start().
    private var wake: Int32 = -1

    public init() {}

    /// Starts the reaper's thread. `warmUp`, if given, runs once on that thread when the
    /// first child starts (the shim is then idle, waiting for the runtime's create): the
    /// first use of the exit path's code and JSON types is paid there, not when the
    /// container exits.
    public func start(warmUp: (@Sendable () -> Void)? = nil) {
        signal(SIGCHLD, SIG_DFL)
        wake = berth_eventfd_nonblocking()
        state.withLock { $0.warmUp = warmUp }
        startThread { [self] in run() }
    }

    /// Tells the reaper that the shim has just started a child (call it after every spawn).
    public func childStarted() {
        var one: UInt64 = 1
        _ = write(wake, &one, 8)
    }

    private func run() {
        while true {
            var info = siginfo_t()
            if waitid(P_ALL, 0, &info, WEXITED | WNOWAIT) == 0 {
                reapAll()
                continue
            }
            guard errno == ECHILD else { continue } // EINTR
            var fd = pollfd(fd: wake, events: Int16(POLLIN), revents: 0)
            _ = poll(&fd, 1, 100)
            var count: UInt64 = 0
            if read(wake, &count, 8) == 8, let warmUp = state.withLock({ s in defer { s.warmUp = nil }; return s.warmUp }) {
                warmUp()
            }
        }
    }

    /// Reaps every child that has exited.
    public func reapAll() {
        while true {
            var status: Int32 = 0
            let pid = waitpid(-1, &status, WNOHANG)
            if pid <= 0 { return }
            deliver(pid: pid, status: status)
        }
    }

    private func deliver(pid: Int32, status: Int32) {
        let (handler, waiters) = state.withLock { s -> ((@Sendable (Int32) -> Void)?, [CheckedContinuation<Int32, Never>]) in
            if let h = s.handlers.removeValue(forKey: pid) { return (h, []) }
            if let w = s.waiters.removeValue(forKey: pid) { return (nil, w) }
            s.unclaimed[pid] = status
            s.order.append(pid)
            if s.order.count > Self.maxUnclaimed {
                let old = s.order.removeFirst()
                s.unclaimed.removeValue(forKey: old)
            }
            return (nil, [])
        }
        handler?(status)
        waiters.forEach { $0.resume(returning: status) }
    }

    /// Calls `handler` with `pid`'s raw wait status when it exits: on the reaper's own
    /// thread the moment it is reaped (no hop to another thread, so an exit is recorded
    /// and announced within microseconds), or at once on the caller's thread when it was
    /// reaped already. One handler per pid; it claims the status (`wait` then waits for
    /// a later process with the same pid).
    public func onExit(of pid: Int32, _ handler: @escaping @Sendable (Int32) -> Void) {
        let ready = state.withLock { s -> Int32? in
            if let status = s.unclaimed.removeValue(forKey: pid) {
                s.order.removeAll { $0 == pid }
                return status
            }
            s.handlers[pid] = handler
            return nil
        }
        if let ready { handler(ready) }
    }

    /// The raw wait status of `pid`, waiting until it exits.
    public func wait(for pid: Int32) async -> Int32 {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { s -> Int32? in
                if let status = s.unclaimed.removeValue(forKey: pid) {
                    s.order.removeAll { $0 == pid }
                    return status
                }
                s.waiters[pid, default: []].append(continuation)
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }
}

/// A wait status as a shell reports it: the exit code, or 128 + the signal.
public func exitCode(fromWaitStatus status: Int32) -> Int32 {
    let signal = status & 0x7f
    return signal == 0 ? (status >> 8) & 0xff : 128 + signal
}
