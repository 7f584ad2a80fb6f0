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
