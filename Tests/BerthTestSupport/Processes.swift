import BerthSystem
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Process helpers shared by the test targets that run Berth's executables: a child's
/// termination, a child that is reaped exactly once, output captured to unlinked files,
/// and spawning through `BerthSystem.spawnProcess` (only the given descriptors, default
/// signal actions, an empty mask).

/// How a child ended.
public enum Termination: Equatable, Sendable, CustomStringConvertible {
    case exited(Int32)
    case signaled(Int32)

    public init(waitStatus status: Int32) {
        let signal = status & 0x7f
        self = signal == 0 ? .exited((status >> 8) & 0xff) : .signaled(signal)
    }

    public var description: String {
        switch self {
        case let .exited(code): "exit status \(code)"
        case let .signaled(signal): "killed by signal \(signal)"
        }
    }
}

/// A child process of the test, reaped at most once (so a recycled pid is never hit).
/// Waiting polls with `Task.sleep`, so no cooperative thread is ever blocked in `waitpid`.
public final class Child: Sendable {
    public let pid: pid_t
    private let state = NSLockedTermination()

    public init(pid: pid_t) { self.pid = pid }

    /// The termination if the child has ended (reaping it), nil while it runs.
    public func poll() -> Termination? {
        state.with { current in
            if let current { return current }
            var status: Int32 = 0
            let rc = waitpid(pid, &status, WNOHANG)
            if rc == pid {
                current = Termination(waitStatus: status)
            } else if rc < 0 && errno == ECHILD {
                current = .exited(-1) // reaped by someone else: nothing left to signal
            }
            return current
        }
    }

    /// Waits up to `timeout`; nil if the child still runs then.
    public func wait(timeout: Duration) async -> Termination? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let done = poll() { return done }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return poll()
    }

    /// Sends `signal` unless the child has already been reaped.
    public func signal(_ signal: Int32) {
        state.with { current in
            if current == nil { kill(pid, signal) }
        }
    }

    /// SIGKILL and reap, if still running: the safety net for `defer`.
    public func killAndReap() {
        guard poll() == nil else { return }
        signal(SIGKILL)
        while poll() == nil { usleep(1000) }
    }
}

private final class NSLockedTermination: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Termination?

    func with<T>(_ body: (inout Termination?) -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body(&value)
    }
}

/// An unlinked temporary file that a child writes its stdout or stderr into; it
/// vanishes with its descriptor, so nothing is left in /tmp even if the test crashes.
public final class CapturedOutput: Sendable {
    public let fd: Int32

    public init() throws {
        while true {
            let path = "/tmp/bcap.\(getpid()).\(UInt64.random(in: 0...UInt64.max))"
            let fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            if fd >= 0 {
                unlink(path)
                self.fd = fd
                return
            }
            guard errno == EEXIST else { throw SystemError(errno: errno, stage: "open \(path)") }
        }
    }

    /// Everything written so far.
    public var text: String {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        var offset: off_t = 0
        while true {
            let n = chunk.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, offset) }
            if n <= 0 { break }
            bytes += chunk[0..<n]
            offset += off_t(n)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    deinit { close(fd) }
}

/// Starts `path` with `arguments`: stdin from the file `stdin`, stdout and stderr into
/// the captures, `dups` (ours, the child's number) after them, every other descriptor
/// closed, in a new session when `newSession`, in `directory` when given.
/// `environment` is the child's whole environment.
public func spawnChild(_ path: String, _ arguments: [String], environment: [String: String], stdin: String = "/dev/null",
                       stdout: CapturedOutput, stderr: CapturedOutput, dups: [(Int32, Int32)] = [],
                       newSession: Bool = false, directory: String? = nil) throws -> Child {
    let input = open(stdin, O_RDONLY | O_CLOEXEC)
    guard input >= 0 else { throw SystemError(errno: errno, stage: "open \(stdin)") }
    defer { close(input) }
    var options = SpawnOptions(stdin: input, stdout: stdout.fd, stderr: stderr.fd)
    options.extra = dups
    options.newSession = newSession
    options.directory = directory
    options.environment = environment.map { "\($0.key)=\($0.value)" }
    return Child(pid: try spawnProcess(path, [path] + arguments, options))
}
