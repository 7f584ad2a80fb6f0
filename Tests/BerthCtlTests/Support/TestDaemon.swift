import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A berthd process started for one test, its stderr captured.
///
/// Always pair `start` with `defer { daemon.kill() }` so the process is gone even when
/// the test fails; tests that check shutdown call `stop(signal:)` first.
final class TestDaemon: Sendable {
    let child: Child
    let root: String
    let state: String
    let address: String
    private let log: CapturedOutput
    private let out: CapturedOutput

    var pid: pid_t { child.pid }

    /// What berthd wrote to stdout and stderr so far.
    var output: String { out.text + log.text }

    private init(child: Child, root: String, state: String, address: String, log: CapturedOutput, out: CapturedOutput) {
        self.child = child
        self.root = root
        self.state = state
        self.address = address
        self.log = log
        self.out = out
    }

    /// Starts `berthd --root --state --address` plus `arguments`. Returns at once; call
    /// `waitUntilServing()` before using the socket.
    ///
    /// - Parameter listenFD: a listening socket to hand over by socket activation (as
    ///   fd 3, with LISTEN_FDS=1 and LISTEN_PID set to berthd's own pid).
    static func start(root: String, state: String, address: String, arguments: [String] = [],
                      environment: [String: String] = [:], listenFD: Int32? = nil) throws -> TestDaemon {
        guard access(Binaries.berthd, X_OK) == 0 else {
            throw TestFailure("no berthd at \(Binaries.berthd): build first, or set BERTH_BIN_DIR")
        }
        let log = try CapturedOutput()
        let out = try CapturedOutput()
        let flags = ["--root", root, "--state", state, "--address", address] + arguments
        let child: Child
        if let listenFD {
            // LISTEN_PID must be berthd's pid: a shell learns its own ($$) and execs berthd
            // in place, so the pid stays the same.
            let source = listenFD == 3 ? fcntl(listenFD, F_DUPFD_CLOEXEC, 10) : listenFD
            defer { if source != listenFD { close(source) } }
            child = try spawn("/bin/sh", ["-c", #"LISTEN_PID=$$ LISTEN_FDS=1 exec "$0" "$@""#, Binaries.berthd] + flags,
                              environment: environment, stdout: out, stderr: log, dups: [(source, 3)])
        } else {
            child = try spawn(Binaries.berthd, flags, environment: environment, stdout: out, stderr: log)
        }
        return TestDaemon(child: child, root: root, state: state, address: address, log: log, out: out)
    }

    /// Starts a berthd on the conventional paths of `scratch` (see `Scratch.daemonPaths`).
    static func start(in scratch: Scratch, name: String = "", arguments: [String] = [],
                      environment: [String: String] = [:]) throws -> TestDaemon {
        let (root, state, address) = scratch.daemonPaths(name)
        return try start(root: root, state: state, address: address, arguments: arguments, environment: environment)
    }

    /// Waits until the socket accepts connections; throws (with berthd's output) if
    /// berthd exits first or does not get there within `timeout`.
    func waitUntilServing(timeout: Duration = .seconds(30)) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let ended = child.poll() {
                throw TestFailure("berthd exited (\(ended)) before serving on \(address):\n\(output)")
            }
            if UnixSocket.canConnect(address) { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw TestFailure("berthd did not serve on \(address) within \(timeout):\n\(output)")
    }

    /// Waits at most `timeout` for berthd to exit on its own.
    func waitForExit(timeout: Duration = .seconds(15)) async -> Termination? {
        await child.wait(timeout: timeout)
    }

    /// Sends `signal` and waits at most `timeout` for the exit; nil (and berthd
    /// killed) if it did not exit in time.
    @discardableResult
    func stop(signal: Int32 = SIGTERM, timeout: Duration = .seconds(10)) async -> Termination? {
        child.signal(signal)
        if let ended = await child.wait(timeout: timeout) { return ended }
        child.killAndReap()
        return nil
    }

    /// SIGKILL if still running: the `defer` safety net.
    func kill() {
        child.killAndReap()
    }
}

/// Starts a berthd in a fresh scratch directory, waits until it serves, runs `body`,
/// then stops it with SIGTERM and expects a clean exit. The daemon is killed and the
/// directory removed whatever happens.
func withDaemon<T>(arguments: [String] = [], _ body: (TestDaemon, Scratch) async throws -> T) async throws -> T {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let daemon = try TestDaemon.start(in: scratch, arguments: arguments)
    defer { daemon.kill() }
    try await daemon.waitUntilServing()
    let result = try await body(daemon, scratch)
    let ended = await daemon.stop()
    if ended != .exited(0) {
        throw TestFailure("berthd did not stop cleanly on SIGTERM (\(ended.map { "\($0)" } ?? "still running after 10s")):\n\(daemon.output)")
    }
    return result
}

/// `withDaemon` with a busybox rootfs for its tasks, which are killed (whatever happens)
/// before the daemon stops.
func withRunningDaemon(arguments: [String] = [], _ body: (TestDaemon, Scratch, String) async throws -> Void) async throws {
    try await withDaemon(arguments: arguments) { daemon, scratch in
        defer { killTasks(state: daemon.state) }
        try await body(daemon, scratch, try makeBusyboxRootfs(in: scratch))
    }
}

/// For the tests that SIGKILL berthd and start it again on the same paths: a busybox
/// rootfs, the paths, and the first daemon, serving. The tasks left and the first daemon
/// are killed, and the scratch directory removed, whatever happens.
func withRestartableDaemon(_ body: (_ first: TestDaemon, _ paths: (root: String, state: String, address: String), _ rootfs: String) async throws -> Void) async throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let rootfs = try makeBusyboxRootfs(in: scratch)
    let paths = scratch.daemonPaths()
    defer { killTasks(state: paths.state) }
    let first = try TestDaemon.start(root: paths.root, state: paths.state, address: paths.address)
    defer { first.kill() }
    try await first.waitUntilServing()
    try await body(first, paths, rootfs)
}
