import CBerthShim

/// Blocking copies (a FIFO nobody writes yet, a pipe into a log, a pty) run on threads of
/// their own, so the loop never waits for them. Each takes ~8 KiB of touched stack.
private final class ThreadBody {
    let body: () -> Void
    init(_ body: @escaping () -> Void) { self.body = body }
}

func startThread(_ body: @escaping () -> Void) {
    let context = Unmanaged.passRetained(ThreadBody(body)).toOpaque()
    let rc = berth_shim_thread({ context in
        Unmanaged<ThreadBody>.fromOpaque(context!).takeRetainedValue().body()
    }, context)
    if rc != 0 { Unmanaged<ThreadBody>.fromOpaque(context).release() }
}

/// A pthread mutex.
final class Lock {
    private let mutex = berth_shim_mutex_new()

    func locked<T>(_ body: () -> T) -> T {
        berth_shim_mutex_lock(mutex)
        defer { berth_shim_mutex_unlock(mutex) }
        return body()
    }
}

/// A descriptor that a copier thread writes and the loop may close. The lock is never
/// held across a write, which can block (a pipe or pty nobody reads): a close during a
/// write is done by the writer when its write returns, so the number is never reused
/// under it and the loop never waits.
final class ClosableFD {
    private let lock = Lock()
    private var fd: Int32 = -1
    private var writing = false
    private var closeRequested = false
    /// Bytes for the write in progress to send after its own (`writeSoon`).
    private var pending: [UInt8] = []

    var value: Int32? { lock.locked { fd >= 0 && !closeRequested ? fd : nil } }

    func set(_ new: Int32) { lock.locked { fd = new } }

    /// Writes all of `bytes`, after another thread's write in progress; false once
    /// closed or on error.
    func write(_ bytes: ArraySlice<UInt8>) -> Bool {
        var target: Int32 = -2
        while target == -2 {
            target = lock.locked {
                guard fd >= 0, !closeRequested else { return -1 }
                if writing { return -2 }
                writing = true
                return fd
            }
            if target == -2 { usleep(1000) } // another thread's write (a copier's) is in progress
        }
        guard target >= 0 else { return false }
        var written = Sys.writeAll(target, Array(bytes))
        while true {
            let more: [UInt8] = lock.locked {
                defer { pending = [] }
                return pending
            }
            if more.isEmpty { break }
            written = Sys.writeAll(target, more) && written
        }
        return lock.locked {
            writing = false
            guard !closeRequested else {
                _ = CBerthShim.close(fd)
                fd = -1
                return false
            }
            return written
        }
    }

    /// Writes `bytes` without waiting: after the write in progress, by its writer, or on a
    /// thread of its own (the descriptor may be a pty nobody reads).
    func writeSoon(_ bytes: [UInt8]) {
        let queued = lock.locked { () -> Bool in
            guard writing else { return false }
            pending += bytes
            return true
        }
        if !queued { startThread { _ = self.write(bytes[...]) } }
    }

    func close() {
        lock.locked {
            guard fd >= 0 else { return }
            if writing {
                closeRequested = true
            } else {
                _ = CBerthShim.close(fd)
                fd = -1
            }
        }
    }
}

/// Copies `from` until end of file (or an error), passing each chunk to `sink`, which
/// returns false to stop.
func copyLoop(_ from: Int32, bufferSize: Int = 32768, _ sink: (ArraySlice<UInt8>) -> Bool) {
    var buffer = [UInt8](repeating: 0, count: bufferSize)
    while true {
        let n = buffer.withUnsafeMutableBytes { read(from, $0.baseAddress, $0.count) }
        if n < 0 && lastErrno == EINTR { continue }
        if n <= 0 { return }
        if !sink(buffer[0..<n]) { return }
    }
}
