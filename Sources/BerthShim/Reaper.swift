import CBerthLinux
import CBerthShim

/// The shim's one reaper: every child (runtime invocations, the container's init, exec'd
/// processes reparented to the subreaper shim) is reaped here and only here, so no exit
/// is lost to another `waitpid`. SIGCHLD is blocked (first thing in `serve`) and read
/// from a signalfd on the loop: an exit is reaped, recorded and announced on the thread
/// that writes the event to berthd.
final class Reaper {
    private var handlers: [Int32: (Int32) -> Void] = [:]
    private var unclaimed: [Int32: Int32] = [:]
    private var order: [Int32] = []
    private let fd: Int32

    /// Unclaimed statuses kept at most (orphans reparented to the shim are never claimed).
    static let maxUnclaimed = 1024

    init(loop: EventLoop) throws(ShimError) {
        fd = berth_sigchld_fd()
        guard fd >= 0 else { throw ShimError.system("signalfd SIGCHLD", errno: -fd) }
        loop.watch(fd) { _ in
            var info = [UInt8](repeating: 0, count: 128 * 8)
            while info.withUnsafeMutableBytes({ read(self.fd, $0.baseAddress, $0.count) }) > 0 {}
            self.reapAll()
        }
        reapAll() // anything that exited before the signalfd existed
    }

    func reapAll() {
        while true {
            var status: Int32 = 0
            let pid = waitpid(-1, &status, WNOHANG)
            if pid <= 0 { return }
            if let handler = handlers.removeValue(forKey: pid) {
                handler(status)
                continue
            }
            unclaimed[pid] = status
            order.append(pid)
            if order.count > Reaper.maxUnclaimed { unclaimed.removeValue(forKey: order.removeFirst()) }
        }
    }

    /// Forgets an unclaimed status of `pid`: a process the shim has just started (on the
    /// loop, so not reaped yet) reuses the pid of an orphan reaped long ago.
    func forgetStale(_ pid: Int32) {
        if unclaimed.removeValue(forKey: pid) != nil { order.removeAll { $0 == pid } }
    }

    /// Calls `handler` with `pid`'s raw wait status when it exits, or at once when it has
    /// been reaped already. One handler per pid; it claims the status.
    func onExit(of pid: Int32, _ handler: @escaping (Int32) -> Void) {
        if let status = unclaimed.removeValue(forKey: pid) {
            order.removeAll { $0 == pid }
            handler(status)
            return
        }
        handlers[pid] = handler
    }
}
