import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// How a child process ended.
enum Termination: Equatable, Sendable, CustomStringConvertible {
    case exited(Int32)
    case signaled(Int32)

    init(waitStatus status: Int32) {
        // WIFEXITED / WEXITSTATUS / WTERMSIG, which Swift does not import.
        self = status & 0x7f == 0 ? .exited((status >> 8) & 0xff) : .signaled(status & 0x7f)
    }

    var description: String {
        switch self {
        case let .exited(code): "exit status \(code)"
        case let .signaled(signal): "killed by signal \(signal)"
        }
    }
}

/// A child started with posix_spawn, reaped exactly once and never signalled after it
/// has been reaped (so a recycled pid is never hit). Waiting polls with `Task.sleep`,
/// so no cooperative thread is ever blocked in `waitpid`.
final class Child: Sendable {
    let pid: pid_t
    private let termination = Mutex<Termination?>(nil)

    init(pid: pid_t) { self.pid = pid }

    /// The termination if the child has exited (reaping it); never blocks.
    func poll() -> Termination? {
        termination.withLock { state in
            if let state { return state }
            var status: Int32 = 0
            let rc = waitpid(pid, &status, WNOHANG)
            if rc == pid {
                state = Termination(waitStatus: status)
            } else if rc == -1 && errno == ECHILD {
                state = .exited(-1)
            }
            return state
        }
    }

    /// Waits at most `timeout` for the child to exit.
    func wait(timeout: Duration) async -> Termination? {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let done = poll() { return done }
            if ContinuousClock.now >= deadline { return nil }
            try? await Task.sleep(for: .milliseconds(5))
        }
    }

    func signal(_ signal: Int32) {
        termination.withLock { state in
            if state == nil { _ = kill(pid, signal) }
        }
    }

    /// SIGKILL and reap, if still running: the safety net.
    func killAndReap() {
        termination.withLock { state in
            guard state == nil else { return }
            _ = kill(pid, SIGKILL)
            var status: Int32 = 0
            var rc: pid_t
            repeat { rc = waitpid(pid, &status, 0) } while rc == -1 && errno == EINTR
            state = rc == pid ? Termination(waitStatus: status) : .exited(-1)
        }
    }
}

/// An unlinked temporary file that a child writes its stdout or stderr into; it
/// vanishes with its descriptor, so nothing is left in /tmp even if the test crashes.
final class CapturedOutput: Sendable {
    let fd: Int32

    init() throws {
        while true {
            let path = "/tmp/brcap.\(getpid()).\(UInt64.random(in: 0...UInt64.max))"
            let fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            if fd >= 0 {
                unlink(path)
                self.fd = fd
                return
            }
            guard errno == EEXIST else { throw TestFailure("open \(path): \(String(cString: strerror(errno)))") }
        }
    }

    var text: String {
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

/// glibc's posix_spawn_file_actions_addclosefrom_np (2.34+), which Swift does not import.
private typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>?, Int32) -> Int32
private let addCloseFrom: AddCloseFrom? = {
    guard let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") else { return nil }
    return unsafeBitCast(symbol, to: AddCloseFrom.self)
}()

/// Starts `path` with `arguments`: stdin from `stdin` (default /dev/null), stdout and
/// stderr into the given files, every other descriptor closed, signal mask and
/// dispositions reset (as from a shell), in a new session when `setsid`.
func spawn(_ path: String, _ arguments: [String], environment: [String: String] = [:], stdin: String = "/dev/null",
           stdout: CapturedOutput, stderr: CapturedOutput, setsid: Bool = false, dups: [(Int32, Int32)] = []) throws -> Child {
    var env = ProcessInfo.processInfo.environment
    env.merge(environment) { $1 }

    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, stdin, O_RDONLY, 0)
    posix_spawn_file_actions_adddup2(&actions, stdout.fd, 1)
    posix_spawn_file_actions_adddup2(&actions, stderr.fd, 2)
    for (source, target) in dups { posix_spawn_file_actions_adddup2(&actions, source, target) }
    if let addCloseFrom { _ = addCloseFrom(&actions, (dups.map(\.1).max() ?? 2) + 1) }

    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var empty = sigset_t()
    sigemptyset(&empty)
    var defaults = sigset_t()
    sigemptyset(&defaults)
    for signal in Int32(1)..<32 where signal != SIGKILL && signal != SIGSTOP { sigaddset(&defaults, signal) }
    posix_spawnattr_setsigmask(&attributes, &empty)
    posix_spawnattr_setsigdefault(&attributes, &defaults)
    let setsidFlag: Int32 = setsid ? 0x80 : 0 // POSIX_SPAWN_SETSID
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | setsidFlag))

    let argv = ([path] + arguments).map { strdup($0) } + [nil]
    let envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer {
        argv.forEach { free($0) }
        envp.forEach { free($0) }
    }
    var pid: pid_t = 0
    let rc = posix_spawn(&pid, path, &actions, &attributes, argv, envp)
    guard rc == 0 else { throw TestFailure("posix_spawn \(path): \(String(cString: strerror(rc)))") }
    return Child(pid: pid)
}

/// The outcome of running a command to completion.
struct CommandResult: CustomStringConvertible, Sendable {
    let command: String
    let termination: Termination
    let stdout: String
    let stderr: String

    /// The exit status, or nil if a signal ended it.
    var status: Int32? {
        if case let .exited(code) = termination { code } else { nil }
    }

    var description: String { "$ \(command)\n\(termination)\n--- stdout:\n\(stdout)--- stderr:\n\(stderr)" }
}

/// Runs a program to completion (killing it after `timeout`).
func runProgram(_ path: String, _ arguments: [String], environment: [String: String] = [:], stdin: String = "/dev/null",
                dups: [(Int32, Int32)] = [], timeout: Duration = .seconds(60)) async throws -> CommandResult {
    let out = try CapturedOutput()
    let err = try CapturedOutput()
    let child = try spawn(path, arguments, environment: environment, stdin: stdin, stdout: out, stderr: err, dups: dups)
    let command = ([path] + arguments).joined(separator: " ")
    guard let termination = await child.wait(timeout: timeout) else {
        child.killAndReap()
        throw TestFailure("\(command) did not finish within \(timeout)\nstdout:\n\(out.text)\nstderr:\n\(err.text)")
    }
    return CommandResult(command: command, termination: termination, stdout: out.text, stderr: err.text)
}

/// `sh -c SCRIPT` on the host.
func host(_ script: String, timeout: Duration = .seconds(120)) async throws -> CommandResult {
    try await runProgram("/bin/sh", ["-c", script], timeout: timeout)
}

/// A failure of the test machinery itself (not an assertion), with what it saw.
struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Polls `condition` every 10 ms until it holds or `timeout` passes.
func eventually(timeout: Duration = .seconds(10), _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return try await condition()
}

/// A limit on how many tests run containers at once (a 2-core machine): acquired by
/// `withTestBed`, so any number of tests may be scheduled in parallel.
actor Slots {
    static let shared = Slots(limit: 3)
    private var free: Int
    private var waiters: [CheckedContinuation<Void, Never>] = []

    init(limit: Int) { free = limit }

    func acquire() async {
        if free > 0 { free -= 1; return }
        await withCheckedContinuation { waiters.append($0) }
    }

    func release() {
        if waiters.isEmpty { free += 1 } else { waiters.removeFirst().resume() }
    }
}

func readText(_ path: String) -> String? {
    guard let data = FileManager.default.contents(atPath: path) else { return nil }
    return String(decoding: data, as: UTF8.self)
}

func readLink(_ path: String) -> String? {
    try? FileManager.default.destinationOfSymbolicLink(atPath: path)
}
