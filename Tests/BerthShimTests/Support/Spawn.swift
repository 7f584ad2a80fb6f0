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

/// glibc's `posix_spawn_file_actions_addclosefrom_np` and `_addchdir_np`, which Swift
/// does not import (they sit behind _GNU_SOURCE).
private typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>?, Int32) -> Int32
private typealias AddChdir = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>?, UnsafePointer<CChar>?) -> Int32
private let addCloseFrom: AddCloseFrom? = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np").map { unsafeBitCast($0, to: AddCloseFrom.self) }
private let addChdir: AddChdir? = dlsym(nil, "posix_spawn_file_actions_addchdir_np").map { unsafeBitCast($0, to: AddChdir.self) }

/// An unlinked temporary file: a child's stdin, stdout or stderr. It vanishes with its
/// descriptor, so nothing is left behind even if the test crashes, and a grandchild that
/// keeps it open (a daemonizing shim) never makes the test wait for EOF.
final class TempFile: Sendable {
    let fd: Int32

    init(contents: String = "") throws {
        let path = "/tmp/bsttmp.\(getpid()).\(UInt64.random(in: 0...UInt64.max))"
        let fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw TestFailure("open \(path): \(String(cString: strerror(errno)))") }
        unlink(path)
        self.fd = fd
        let bytes = Array(contents.utf8)
        _ = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
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

/// Runs `path` with `arguments` in `directory`, `stdin` as its input, to completion
/// (SIGKILL after `timeout`). Every descriptor above 2 is closed in the child and its
/// signal mask and dispositions are reset, so it starts as it would from a shell.
func runProgram(_ path: String, _ arguments: [String], directory: String? = nil, stdin: String = "",
                timeout: Duration = .seconds(60)) async throws -> CommandResult {
    let input = try TempFile(contents: stdin)
    let out = try TempFile()
    let err = try TempFile()
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_adddup2(&actions, input.fd, 0)
    posix_spawn_file_actions_adddup2(&actions, out.fd, 1)
    posix_spawn_file_actions_adddup2(&actions, err.fd, 2)
    if let addCloseFrom { _ = addCloseFrom(&actions, 3) }
    if let directory {
        guard let addChdir else { throw TestFailure("posix_spawn_file_actions_addchdir_np is missing") }
        _ = addChdir(&actions, directory)
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
    defer { argv.forEach { free($0) } }
    var pid: pid_t = 0
    let rc = posix_spawn(&pid, path, &actions, &attributes, argv, environ)
    guard rc == 0 else { throw TestFailure("posix_spawn \(path): \(String(cString: strerror(rc)))") }

    let deadline = ContinuousClock.now + timeout
    var status: Int32 = 0
    while true {
        let reaped = waitpid(pid, &status, WNOHANG)
        if reaped == pid { break }
        if reaped == -1 && errno != EINTR { throw TestFailure("waitpid \(pid): \(String(cString: strerror(errno)))") }
        if ContinuousClock.now >= deadline {
            kill(pid, SIGKILL)
            _ = waitpid(pid, &status, 0)
            throw TestFailure("\(path) \(arguments) did not finish within \(timeout)\nstdout:\n\(out.text)\nstderr:\n\(err.text)")
        }
        try? await Task.sleep(for: .milliseconds(5))
    }
    let code = status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    return CommandResult(status: code, stdout: out.text, stderr: err.text)
}
