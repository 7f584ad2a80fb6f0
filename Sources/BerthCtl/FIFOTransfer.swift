import ArgumentParser
import BerthAPI
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Moves an archive between berthctl and berthd through a FIFO that berthctl makes, so
/// blob bytes never travel in frames and berthd never opens the user's files with its
/// own privileges: berthctl reads the file (or stdin) it was given and writes it into the
/// FIFO for `images import`; for `images export` berthd writes into the FIFO and
/// berthctl into the file (or stdout).
final class FIFOTransfer: @unchecked Sendable {
    let directory: String
    var path: String { directory + "/archive" }
    /// Bytes moved so far.
    let bytes = Atomic<Int64>(0)
    private let done = Atomic<Bool>(false)
    private var thread: pthread_t?
    private var failure: String?

    init() throws {
        var template = Array("/tmp/berthctl-XXXXXX".utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else { throw ValidationError("mkdtemp failed") }
        directory = String(cString: made)
        guard mkfifo(path, 0o600) == 0 else {
            rmdir(directory)
            throw ValidationError("mkfifo \(path): \(String(cString: strerror(errno)))")
        }
    }

    deinit {
        unlink(path)
        rmdir(directory)
    }

    /// Copies `source` into the FIFO once berthd opens it; `progress` is called from the
    /// copying thread about four times a second.
    func send(from source: Int32, progress: (@Sendable (Int64) -> Void)? = nil) {
        start { [self] in
            // Wait for the reader without blocking forever if berthd fails first.
            var fd: Int32 = -1
            while !done.load(ordering: .acquiring) {
                fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC)
                if fd >= 0 || errno != ENXIO { break }
                usleep(2000)
            }
            guard fd >= 0 else { return }
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
            copy(from: source, to: fd, progress: progress)
            close(fd)
        }
    }

    /// Copies what berthd writes into the FIFO to `target`.
    func receive(into target: Int32) {
        start { [self] in
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { return }
            copy(from: fd, to: target, progress: nil)
            close(fd)
        }
    }

    /// Waits for the copy to end. Call after berthd answered: if it failed before
    /// opening the FIFO, the waiting side is released.
    func finish() throws {
        done.store(true, ordering: .releasing)
        // A reader still blocked in open(2) (berthd never wrote) is released by a writer.
        let release = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC)
        if release >= 0 { close(release) }
        if let thread { pthread_join(thread, nil) }
        thread = nil
        if let failure { throw ValidationError(failure) }
    }

    private func copy(from: Int32, to: Int32, progress: (@Sendable (Int64) -> Void)?) {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        var last = Self.now()
        while true {
            let n = read(from, buffer.baseAddress, buffer.count)
            if n < 0 && errno == EINTR { continue }
            if n < 0 { failure = "read: \(String(cString: strerror(errno)))"; return }
            if n == 0 { break }
            var offset = 0
            while offset < n {
                let w = write(to, buffer.baseAddress! + offset, n - offset)
                if w < 0 && errno == EINTR { continue }
                // EPIPE: berthd stopped reading (it failed and will say why).
                if w < 0 { if errno != EPIPE { failure = "write: \(String(cString: strerror(errno)))" }; return }
                offset += w
            }
            let total = bytes.add(Int64(n), ordering: .relaxed).newValue
            if let progress, Self.now() - last >= 0.25 {
                last = Self.now()
                progress(total)
            }
        }
        progress?(bytes.load(ordering: .relaxed))
    }

    private func start(_ body: @escaping () -> Void) {
        final class Box { let body: () -> Void; init(_ b: @escaping () -> Void) { body = b } }
        var t = pthread_t()
        let box = Unmanaged.passRetained(Box(body)).toOpaque()
        pthread_create(&t, nil, { raw in
            Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue().body()
            return nil
        }, box)
        thread = t
    }

    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}

/// A one-line progress display on stderr when it is a terminal: bytes, total, rate,
/// then the layers as berthd unpacks them (from its `images.progress` notifications).
final class TransferProgress: Sendable {
    let label: String
    let total: Int64?
    let started = FIFOTransfer.now()
    private struct State { var bytes: Int64 = 0; var lastByte = FIFOTransfer.now(); var layers: ImportProgress?; var ended = false }
    private let state = Mutex(State())

    init(label: String, total: Int64?) {
        self.label = label
        self.total = total
    }

    static func ifTerminal(_ label: String, total: Int64?) -> TransferProgress? {
        isatty(2) == 1 ? TransferProgress(label: label, total: total) : nil
    }

    func bytes(_ n: Int64) {
        state.withLock {
            if n != $0.bytes { $0.lastByte = FIFOTransfer.now() }
            $0.bytes = n
        }
        render()
    }

    func layers(_ p: ImportProgress) {
        state.withLock { $0.layers = p }
        render()
    }

    func render() {
        let (bytes, lastByte, layers, ended) = state.withLock { ($0.bytes, $0.lastByte, $0.layers, $0.ended) }
        guard !ended else { return }
        // The rate of the transfer itself: it stops growing old once the bytes are in.
        let elapsed = max(lastByte - started, 0.001)
        var line = "\r\(label): \(humanSize(bytes))"
        if let total, total > 0 { line += " / \(humanSize(total)) (\(Int(Double(bytes) * 100 / Double(total)))%)" }
        line += ", \(humanSize(Int64(Double(bytes) / elapsed)))/s"
        if let layers, let all = layers.layersTotal {
            line += "; layers \(layers.layersUnpacked + layers.layersReused)/\(all)"
            if layers.layersReused > 0 { line += " (\(layers.layersReused) reused)" }
        }
        writeStderr(line + "\u{1b}[K")
    }

    func end(_ message: String) {
        state.withLock { $0.ended = true }
        writeStderr("\r\(label): \(message)\u{1b}[K\n")
    }
}

func writeStderr(_ text: String) {
    var text = text
    text.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
}
