@_exported import BerthTestSupport
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Starts `path` with `arguments`: stdin from `stdin` (default /dev/null), stdout and
/// stderr into the given files, every other descriptor closed, signal mask and
/// dispositions reset (as from a shell), in a new session when `setsid`
/// (BerthTestSupport's `spawnChild`).
func spawn(_ path: String, _ arguments: [String], environment: [String: String] = [:], stdin: String = "/dev/null",
           stdout: CapturedOutput, stderr: CapturedOutput, setsid: Bool = false, dups: [(Int32, Int32)] = []) throws -> Child {
    var env = ProcessInfo.processInfo.environment
    env.merge(environment) { $1 }
    return try spawnChild(path, arguments, environment: env, stdin: stdin, stdout: stdout, stderr: stderr,
                          dups: dups, newSession: setsid)
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
