@_exported import BerthTestSupport
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Variables a test must set on purpose, never inherit from whoever runs the tests.
private let controlledVariables: Set<String> = [
    "BERTH_ADDRESS", "BERTH_NAMESPACE", "NOTIFY_SOCKET", "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES",
]

/// Starts `path` with `arguments`, stdin from /dev/null, stdout and stderr into the
/// given files, `dups` (source fd, target fd) applied after them, and every other
/// descriptor closed (BerthTestSupport's `spawnChild`).
///
/// The environment is this process's minus the Berth/systemd variables, plus `environment`.
func spawn(
    _ path: String, _ arguments: [String], environment: [String: String] = [:],
    stdout: CapturedOutput, stderr: CapturedOutput, dups: [(Int32, Int32)] = []
) throws -> Child {
    var env = ProcessInfo.processInfo.environment.filter { !controlledVariables.contains($0.key) }
    env.merge(environment) { $1 }
    return try spawnChild(path, arguments, environment: env, stdout: stdout, stderr: stderr, dups: dups)
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
