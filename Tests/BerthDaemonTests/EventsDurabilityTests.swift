import BerthAPI
@testable import BerthDaemon
import Foundation
import Testing

/// Seqs survive restarts: a graceful stop and start in-process, and a SIGKILL of a real
/// berthd process.
@Suite struct EventsDurabilityTests {
    @Test func seqsContinueAcrossAStopAndStartOnTheSameRoot() async throws {
        let first = try await TestDaemon.start()
        defer { first.remove() }
        do {
            let client = try await first.client()
            defer { client.close() }
            _ = try await EventsTestSupport.publish(client, count: 40)
            try await client.createNamespace("before")
        }
        await first.stop()
        let second = try await TestDaemon.start(in: first.directory)
        do {
            let client = try await second.client()
            defer { client.close() }
            try await client.createNamespace("after")
            #expect(try await client.publishEvent(topic: "/test/after", payload: ["x": 1]) == 43)
            let all = try await EventsTestSupport.collect(try await client.subscribeEvents(afterSeq: 0), count: 43)
            #expect(all.map(\.seq) == Array(1...43))
            #expect(all[40].topic == "/namespaces/create" && all[41].topic == "/namespaces/create")
        }
        await second.stop()
    }

    /// SIGKILL a berthd child while events are being published; restarted on the same
    /// root it continues the numbering: every acknowledged event is there, seqs are
    /// contiguous, none repeats.
    @Test(.enabled(if: ChildBerthd.binary != nil, "build berthd first (.build/debug/berthd or BERTH_BIN_DIR)"))
    func seqsContinueAfterSIGKILL() async throws {
        let dir = makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var acknowledged: [UInt64] = []
        do {
            let daemon = try await ChildBerthd.start(in: dir)
            defer { if daemon.process.isRunning { Glibc.kill(daemon.pid, SIGKILL) } } // if anything below throws
            let client = try await daemon.client()
            acknowledged += try await EventsTestSupport.publish(client, count: 300)
            // A flood in flight when the kill lands.
            let flood = Task { () -> [UInt64] in
                var seqs: [UInt64] = []
                while let seq = try? await client.call(API.eventsPublish, PublishEventRequest(topic: "/test/flood", payload: .object([:]))).seq {
                    seqs.append(seq)
                }
                return seqs
            }
            try await Task.sleep(for: .milliseconds(150))
            await daemon.kill()
            acknowledged += await flood.value
            client.close()
        }
        #expect(acknowledged.count > 300)
        let daemon = try await ChildBerthd.start(in: dir)
        do {
            let client = try await daemon.client()
            defer { client.close() }
            let next = try await client.publishEvent(topic: "/test/after", payload: ["x": 1])
            #expect(next > acknowledged.max()!, "a seq was reused")
            let subscription = try await client.subscribeEvents(afterSeq: 0)
            let all = try await EventsTestSupport.collect(subscription, count: Int(next))
            #expect(all.map(\.seq) == Array(1...next), "no gap, no duplicate")
            #expect(Set(all.map(\.seq)).isSuperset(of: acknowledged))
            #expect(all.last?.topic == "/test/after")
        } catch {
            await daemon.stop()
            throw error
        }
        await daemon.stop()
    }
}

/// berthd as a child process on private paths.
struct ChildBerthd {
    let process: Process
    let address: String

    static var binary: String? {
        let dir = ProcessInfo.processInfo.environment["BERTH_BIN_DIR"]
            ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent(".build/debug").path
        let path = dir + "/berthd"
        return FileManager.default.isExecutableFile(atPath: path) ? path : nil
    }

    static func start(in dir: String) async throws -> ChildBerthd {
        let config = dir + "/config.toml"
        _ = FileManager.default.createFile(atPath: config, contents: Data("# defaults\n".utf8))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary!)
        process.arguments = ["--root", dir + "/root", "--state", dir + "/state", "--config", config, "--log-level", "error"]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        let daemon = ChildBerthd(process: process, address: dir + "/state/berthd.sock")
        let ready = await pollUntil(20) {
            guard let client = try? await BerthClient.connect(to: daemon.address, timeout: .seconds(2)) else { return false }
            defer { client.close() }
            return (try? await client.version()) != nil
        }
        guard ready else {
            await daemon.stop()
            throw BerthError.unavailable("berthd child did not start")
        }
        return daemon
    }

    var pid: Int32 { process.processIdentifier }

    func client() async throws -> BerthClient {
        try await BerthClient.connect(to: address, timeout: .seconds(10))
    }

    /// SIGKILL, then reap (on a Dispatch thread: never block the cooperative pool).
    func kill() async {
        let process = self.process
        Glibc.kill(process.processIdentifier, SIGKILL)
        await onOwnThread { process.waitUntilExit() }
    }

    /// SIGTERM (a graceful stop), then reap.
    func stop() async {
        let process = self.process
        guard process.isRunning else { return }
        process.terminate()
        await onOwnThread { process.waitUntilExit() }
    }
}
