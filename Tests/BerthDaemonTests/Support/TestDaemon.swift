import BerthAPI
@testable import BerthDaemon
import BerthRPC
import BerthSystem
import Foundation
import Logging

/// A berthd running in the test process on private temporary paths.
struct TestDaemon {
    let directory: String
    let config: DaemonConfig
    let running: Daemon.Running

    var address: String { config.socketPath }

    /// Starts a daemon; `configure` may change anything but the paths.
    static func start(in directory: String? = nil, _ configure: (inout DaemonConfig) -> Void = { _ in }) async throws -> TestDaemon {
        let dir = directory ?? makeTemporaryDirectory()
        var config = DaemonConfig()
        config.root = dir + "/root"
        config.state = dir + "/state"
        configure(&config)
        var logger = Logger(label: "berthd-test")
        logger.logLevel = .critical
        let running = try await Daemon(config: config, logger: logger).start()
        return TestDaemon(directory: dir, config: config, running: running)
    }

    func client() async throws -> BerthClient {
        try await BerthClient.connect(to: address, timeout: .seconds(10))
    }

    func raw() throws -> RawConnection {
        try RawConnection(path: address)
    }

    /// Stops the daemon, keeping its directory (for restart tests).
    func stop() async {
        await running.stop()
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: directory)
    }
}

/// Runs `body` with a fresh daemon, and always stops it and removes its files.
func withDaemon<T>(_ configure: (inout DaemonConfig) -> Void = { _ in }, _ body: (TestDaemon) async throws -> T) async throws -> T {
    let daemon = try await TestDaemon.start(configure)
    do {
        let result = try await body(daemon)
        await daemon.stop()
        daemon.remove()
        return result
    } catch {
        await daemon.stop()
        daemon.remove()
        throw error
    }
}

/// A short, private directory under /tmp (socket paths must stay under 108 bytes).
func makeTemporaryDirectory() -> String {
    var template = Array("/tmp/bdt-XXXXXX".utf8CString)
    let path = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
    return String(cString: path!)
}

/// Whether the daemon still answers a fresh connection: the check after every fault.
func stillServes(_ daemon: TestDaemon) async throws -> Bool {
    let client = try await daemon.client()
    defer { client.close() }
    return try await client.version().apiVersion == API.version
}
