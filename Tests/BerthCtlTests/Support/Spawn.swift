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
/// has been reaped (so a recycled pid is never hit).
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
                state = .exited(-1) // reaped by someone else: nothing left to signal
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
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Sends `signal` unless the child has already been reaped.
    func signal(_ signal: Int32) {
        termination.withLock { state in
            if state == nil { _ = kill(pid, signal) }
        }
    }

    /// SIGKILL and reap, if still running: the safety net for `defer`.
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
            let path = "/tmp/bctcap.\(getpid()).\(UInt64.random(in: 0...UInt64.max))"
            let fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            if fd >= 0 {
                unlink(path)
                self.fd = fd
                return
            }
            guard errno == EEXIST else { throw TestFailure("open \(path): \(String(cString: strerror(errno)))") }
        }
    }

    /// Everything written so far.
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

/// Variables a test must set on purpose, never inherit from whoever runs the tests.
private let controlledVariables: Set<String> = [
    "BERTH_ADDRESS", "BERTH_NAMESPACE", "NOTIFY_SOCKET", "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES",
]

/// glibc's posix_spawn_file_actions_addclosefrom_np (2.34+), which Swift does not import.
private typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>?, Int32) -> Int32
private let addCloseFrom: AddCloseFrom? = {
    guard let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") else { return nil }
    return unsafeBitCast(symbol, to: AddCloseFrom.self)
}()

/// Starts `path` with `arguments`, stdin from /dev/null, stdout and stderr into the
/// given files, `dups` (source fd, target fd) applied after them, and every other
/// descriptor closed. Signal mask and dispositions are reset, so the child starts as
/// it would from a shell.
///
/// The environment is this process's minus the Berth/systemd variables, plus `environment`.
func spawn(
    _ path: String, _ arguments: [String], environment: [String: String] = [:],
    stdout: CapturedOutput, stderr: CapturedOutput, dups: [(Int32, Int32)] = []
) throws -> Child {
    var env = ProcessInfo.processInfo.environment.filter { !controlledVariables.contains($0.key) }
    env.merge(environment) { $1 }

    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_adddup2(&actions, stdout.fd, 1)
    posix_spawn_file_actions_adddup2(&actions, stderr.fd, 2)
    for (source, target) in dups { posix_spawn_file_actions_adddup2(&actions, source, target) }
    if let addCloseFrom {
        _ = addCloseFrom(&actions, (dups.map(\.1).max() ?? 2) + 1)
    }

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
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

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
struct CommandResult: CustomStringConvertible {
    let termination: Termination
    let stdout: String
    let stderr: String

    /// The exit status, or nil if a signal ended it.
    var status: Int32? {
        if case let .exited(code) = termination { code } else { nil }
    }

    /// stderr's lines, without the empty one after the final newline.
    var stderrLines: [Substring] { stderr.split(separator: "\n", omittingEmptySubsequences: false).dropLast(stderr.hasSuffix("\n") ? 1 : 0).map { $0 } }

    var description: String { "\(termination)\n--- stdout:\n\(stdout)--- stderr:\n\(stderr)" }
}

/// Runs a program to completion (killing it after `timeout`).
func runProgram(_ path: String, _ arguments: [String], environment: [String: String] = [:],
                timeout: Duration = .seconds(60)) async throws -> CommandResult {
    let out = try CapturedOutput()
    let err = try CapturedOutput()
    let child = try spawn(path, arguments, environment: environment, stdout: out, stderr: err)
    guard let termination = await child.wait(timeout: timeout) else {
        child.killAndReap()
        throw TestFailure("\(path) \(arguments) did not finish within \(timeout)\nstdout:\n\(out.text)\nstderr:\n\(err.text)")
    }
    return CommandResult(termination: termination, stdout: out.text, stderr: err.text)
}

/// Runs berthctl with `arguments`; `env` adds variables (BERTH_ADDRESS, BERTH_NAMESPACE).
func berthctl(_ arguments: [String], env: [String: String] = [:]) async throws -> CommandResult {
    try await runProgram(Binaries.berthctl, arguments, environment: env)
}

/// Runs berthctl against the socket at `address` (through BERTH_ADDRESS).
func berthctl(_ arguments: String..., address: String) async throws -> CommandResult {
    try await berthctl(arguments, env: ["BERTH_ADDRESS": address])
}
