import CBerthShim

/// The shim's one I/O thread: an epoll loop that serves the sockets, reaps children
/// (a signalfd) and watches OOM events. Everything that touches the task's state runs
/// here, so none of it needs a lock, and an exit goes from `waitpid` to the event on
/// berthd's socket without waking another thread.
final class EventLoop {
    private let epfd: Int32
    private struct Watch {
        var generation: UInt32
        var handler: (UInt32) -> Void
    }
    private var watches: [Int32: Watch] = [:]
    private var generation: UInt32 = 0
    /// Called after each round of events; returns false to stop the loop.
    var shouldContinue: () -> Bool = { true }
    /// The epoll timeout while `shouldContinue` needs polling (ms; -1: none).
    var timeoutMs: Int32 = -1

    /// Work handed to the loop by other threads (`post`), and the eventfd that wakes it.
    private let postLock = Lock()
    private var posted: [() -> Void] = []
    private let wakeFD: Int32
    /// Callbacks due at a monotonic time (ms), in no order.
    private var timers: [(due: Int64, callback: () -> Void)] = []

    init() throws(ShimError) {
        epfd = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard epfd >= 0 else { throw ShimError.system("epoll_create1", errno: lastErrno) }
        wakeFD = eventfd(0, Int32(EFD_CLOEXEC | EFD_NONBLOCK))
        guard wakeFD >= 0 else { throw ShimError.system("eventfd", errno: lastErrno) }
        watch(wakeFD) { _ in
            var count: UInt64 = 0
            _ = read(self.wakeFD, &count, 8)
            let work = self.postLock.locked { () -> [() -> Void] in
                defer { self.posted = [] }
                return self.posted
            }
            for item in work { item() }
        }
    }

    /// Runs `work` on the loop; callable from any thread.
    func post(_ work: @escaping () -> Void) {
        postLock.locked { posted.append(work) }
        var one: UInt64 = 1
        _ = write(wakeFD, &one, 8)
    }

    /// Runs `callback` on the loop after `milliseconds`.
    func after(milliseconds: Int64, _ callback: @escaping () -> Void) {
        timers.append((monotonicMilliseconds() + milliseconds, callback))
    }

    private func runDueTimers() {
        guard !timers.isEmpty else { return }
        let now = monotonicMilliseconds()
        let due = timers.filter { $0.due <= now }
        guard !due.isEmpty else { return }
        timers.removeAll { $0.due <= now }
        for timer in due { timer.callback() }
    }

    /// The epoll timeout: the nearest timer's, or `timeoutMs`.
    private var nextTimeout: Int32 {
        guard let nearest = timers.map({ $0.due }).min() else { return timeoutMs }
        let wait = Int32(clamping: max(0, nearest - monotonicMilliseconds()))
        return timeoutMs < 0 ? wait : min(wait, timeoutMs)
    }

    static let readable = UInt32(EPOLLIN.rawValue)
    static let writable = UInt32(EPOLLOUT.rawValue)

    /// Calls `handler` with the ready events each time `fd` is ready for `events`.
    func watch(_ fd: Int32, events: UInt32 = EventLoop.readable, _ handler: @escaping (UInt32) -> Void) {
        generation &+= 1
        watches[fd] = Watch(generation: generation, handler: handler)
        _ = berth_shim_epoll_ctl(epfd, EPOLL_CTL_ADD, fd, events, UInt64(generation) << 32 | UInt64(UInt32(bitPattern: fd)))
    }

    func change(_ fd: Int32, events: UInt32) {
        guard let watch = watches[fd] else { return }
        _ = berth_shim_epoll_ctl(epfd, EPOLL_CTL_MOD, fd, events, UInt64(watch.generation) << 32 | UInt64(UInt32(bitPattern: fd)))
    }

    /// Stops watching `fd` (before closing it).
    func unwatch(_ fd: Int32) {
        guard watches.removeValue(forKey: fd) != nil else { return }
        _ = berth_shim_epoll_ctl(epfd, EPOLL_CTL_DEL, fd, 0, 0)
    }

    func run() {
        var tokens = [UInt64](repeating: 0, count: 32)
        var events = [UInt32](repeating: 0, count: 32)
        while shouldContinue() {
            let n = tokens.withUnsafeMutableBufferPointer { t in
                events.withUnsafeMutableBufferPointer { e in
                    berth_shim_epoll_wait(epfd, t.baseAddress, e.baseAddress, Int32(t.count), nextTimeout)
                }
            }
            runDueTimers()
            if n <= 0 { continue }
            for i in 0..<Int(n) {
                let fd = Int32(bitPattern: UInt32(truncatingIfNeeded: tokens[i]))
                // A descriptor closed and reused by an earlier handler of this round is
                // another watch now: its generation tells.
                guard let watch = watches[fd], watch.generation == UInt32(truncatingIfNeeded: tokens[i] >> 32) else { continue }
                watch.handler(events[i])
            }
        }
    }
}
