@_exported import BerthTestSupport
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The outcome of running a program to completion.
struct CommandResult: CustomStringConvertible {
    /// The exit status, or 128 + the signal that ended it.
    let status: Int32
    let stdout: String
    let stderr: String

    var description: String { "status \(status)\n--- stdout:\n\(stdout)--- stderr:\n\(stderr)" }
}

/// Runs `path` with `arguments` in `directory`, `stdin` as its input, to completion
/// (SIGKILL after `timeout`), through BerthTestSupport's `spawnChild`: every descriptor
/// above 2 closed, signal mask and dispositions reset, as from a shell. Output goes to
/// unlinked files, so a grandchild that keeps them open (a daemonizing shim) never
/// makes the test wait for EOF.
func runProgram(_ path: String, _ arguments: [String], directory: String? = nil, stdin: String = "",
                timeout: Duration = .seconds(60)) async throws -> CommandResult {
    let input = try CapturedOutput() // an unlinked file serves as stdin too, reopened by its /proc path
    let bytes = Array(stdin.utf8)
    _ = bytes.withUnsafeBytes { pwrite(input.fd, $0.baseAddress, $0.count, 0) }
    let out = try CapturedOutput()
    let err = try CapturedOutput()
    let child = try spawnChild(path, arguments, environment: ProcessInfo.processInfo.environment,
                               stdin: "/proc/self/fd/\(input.fd)", stdout: out, stderr: err, directory: directory)
    guard let termination = await child.wait(timeout: timeout) else {
        child.killAndReap()
        throw TestFailure("\(path) \(arguments) did not finish within \(timeout)\nstdout:\n\(out.text)\nstderr:\n\(err.text)")
    }
    let status: Int32 = switch termination {
    case let .exited(code): code
    case let .signaled(signal): 128 + signal
    }
    return CommandResult(status: status, stdout: out.text, stderr: err.text)
}
