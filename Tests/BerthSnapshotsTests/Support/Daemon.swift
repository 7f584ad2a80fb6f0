import BerthAPI
import Foundation
import Testing

/// The built executables: `BERTH_BIN_DIR` (the Makefile sets it), or
/// `<package root>/.build/debug` for a plain `swift test`.
enum Binaries {
    static let directory: String = {
        if let dir = ProcessInfo.processInfo.environment["BERTH_BIN_DIR"], !dir.isEmpty { return dir }
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { url.deleteLastPathComponent() }
        return url.appendingPathComponent(".build/debug").path
    }()

    static var berthd: String { directory + "/berthd" }
    static var berthctl: String { directory + "/berthctl" }
}

/// A real `berthd` process on private paths, which a test can SIGKILL and restart.
final class DaemonProcess: @unchecked Sendable {
    let directory: String
    private(set) var process: Process?

    var root: String { directory + "/root" }
    var address: String { directory + "/state/berthd.sock" }

    init(directory: String) {
        self.directory = directory
    }

    func start() async throws {
        try? FileManager.default.removeItem(atPath: address)
        try "# snapshots tests\n".write(toFile: directory + "/config.toml", atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Binaries.berthd)
        p.arguments = ["--root", root, "--state", directory + "/state", "--config", directory + "/config.toml", "--log-level", "error"]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try p.run()
        process = p
        for _ in 0..<200 {
            if let client = try? await BerthClient.connect(to: address, timeout: .seconds(2)) {
                client.close()
                return
            }
            try await Task.sleep(for: .milliseconds(25))
        }
        throw BerthError.unavailable("berthd did not start within 5 s at \(address)")
    }

    func client() async throws -> BerthClient {
        try await BerthClient.connect(to: address, timeout: .seconds(60))
    }

    /// SIGKILL: no shutdown code runs, as in a crash.
    func kill() {
        guard let p = process, p.isRunning else { return }
        Foundation.kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        process = nil
    }

    func stop() {
        guard let p = process, p.isRunning else { return }
        p.terminate()
        p.waitUntilExit()
        process = nil
    }
}

/// Runs `body` with a started daemon, and always stops it, unmounts and removes its files.
func withDaemonProcess<T>(_ body: (DaemonProcess, String) async throws -> T) async throws -> T {
    let directory = makeTemporaryDirectory(prefix: "bsd")
    let daemon = DaemonProcess(directory: directory)
    defer {
        daemon.kill()
        for point in Mounting.mountPoints(under: directory) { try? Mounting.unmount(point, detach: true) }
        try? FileManager.default.removeItem(atPath: directory)
    }
    try await daemon.start()
    return try await body(daemon, directory)
}

/// Runs a command line; returns its exit status and standard output.
@discardableResult
func shell(_ command: String, environment: [String: String] = [:]) throws -> (status: Int32, output: String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/bin/sh")
    p.arguments = ["-c", command]
    p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    let pipe = Pipe()
    p.standardOutput = pipe
    try p.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: data, as: UTF8.self))
}

import BerthSystem

extension DaemonProcess {
    var pid: Int32? { process?.processIdentifier }
}

/// Sends one request and SIGKILLs the daemon the moment a directory entry with
/// `prefix` appears under `directory`, all from its own OS thread: neither the send nor
/// the kill waits for Swift's cooperative pool, which other tests may keep busy.
final class KillWhenSeen: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private(set) var seen = false
    private(set) var failure: String?

    init(address: String, request: String, directory: String, prefix: String, pid: Int32, timeout: Double = 30) {
        let thread = Thread { [self] in
            defer { done.signal() }
            let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { failure = "socket: \(errno)"; return }
            defer { close(fd) }
            var sa = sockaddr_un()
            sa.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &sa.sun_path) { raw in for (i, b) in address.utf8.enumerated() { raw[i] = b } }
            let connected = withUnsafePointer(to: &sa) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            guard connected == 0 else { failure = "connect: \(errno)"; return }
            let body = Array(request.utf8)
            let n = UInt32(body.count)
            let frame = [UInt8(n >> 24), UInt8((n >> 16) & 0xff), UInt8((n >> 8) & 0xff), UInt8(n & 0xff)] + body
            guard frame.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) == frame.count else { failure = "write: \(errno)"; return }
            let deadline = Date().addingTimeInterval(timeout)
            while Date() < deadline {
                if listing(directory).contains(where: { $0.hasPrefix(prefix) }) {
                    seen = true
                    kill(pid, SIGKILL)
                    return
                }
                usleep(200)
            }
            failure = "no \(prefix)* entry appeared in \(directory) within \(timeout) s"
        }
        thread.start()
    }

    /// Waits for the thread without holding a cooperative thread.
    func wait() async {
        while done.wait(timeout: .now()) == .timedOut { try? await Task.sleep(for: .milliseconds(10)) }
    }
}
