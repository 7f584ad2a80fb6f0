import BerthAPI
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// berthd as an administrator starts and stops it: its directories and socket, the
/// root lock, signals.
@Suite("berthd lifecycle", .timeLimit(.minutes(3)))
struct DaemonLifecycleTests {
    @Test("berthd creates root, state and socket with private modes and reports them through berthctl")
    func startsOnGivenPaths() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        // Nested, not yet existing paths; the socket in a directory of its own.
        let root = scratch("var/lib/berth"), state = scratch("run/berth"), address = scratch("api/b.sock")
        let daemon = try TestDaemon.start(root: root, state: state, address: address)
        defer { daemon.kill() }
        try await daemon.waitUntilServing()

        let version = try await berthctl("version", address: address)
        #expect(version.status == 0, "\(version)")
        #expect(version.stdout.contains("Server:"), "\(version)")
        #expect(version.stdout.contains("Version:     0."), "\(version)")
        let serverPart = version.stdout.components(separatedBy: "Server:").last ?? ""
        #expect(serverPart.contains("API version: \(API.version)"), "\(version)")
        #expect(API.version == 1)

        // Checked after a full round trip, so the bind-then-chmod window is long past.
        #expect(octal(FileInfo(root)?.permissions) == "0711")
        #expect(FileInfo(root)?.isDirectory == true)
        #expect(octal(FileInfo(state)?.permissions) == "0711")
        #expect(FileInfo(state)?.isDirectory == true)
        let socket = try #require(FileInfo(address), "no socket file at \(address)")
        #expect(socket.isSocket)
        #expect(octal(socket.permissions) == "0660") // srw-rw----
        #expect(octal(FileInfo(scratch("api"))?.permissions) == "0711")

        let infoRun = try await berthctl("info", "--format", "json", address: address)
        #expect(infoRun.status == 0, "\(infoRun)")
        let info = try JSONDecoder().decode(SystemInfo.self, from: Data(infoRun.stdout.utf8))
        #expect(info.root == root)
        #expect(info.state == state)
        #expect(info.address == address)
        #expect(info.pid == daemon.pid)
        #expect(info.version.apiVersion == 1)
        let expectedMode = try Host.cgroupMode()
        #expect(info.cgroupMode == expectedMode)
        #expect(!info.plugins.isEmpty)
        for plugin in info.plugins {
            #expect(plugin.status == "ok", "plugin \(plugin.type).\(plugin.id): \(plugin.error ?? "")")
        }
        #expect(info.limits.maxFrameBytes == Frame.defaultMaxPayload)

        let table = try await berthctl("info", address: address)
        #expect(table.status == 0, "\(table)")
        #expect(table.stdout.contains(root) && table.stdout.contains(address), "\(table)")

        #expect(await daemon.stop() == .exited(0), "\(daemon.output)")
    }

    @Test("a second berthd on the same root refuses to start, naming the lock and the holder's pid")
    func secondDaemonOnSameRootIsRefused() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let first = try TestDaemon.start(root: scratch("r"), state: scratch("s1"), address: scratch("s1/b.sock"))
        defer { first.kill() }
        try await first.waitUntilServing()

        let second = try TestDaemon.start(root: scratch("r"), state: scratch("s2"), address: scratch("s2/b.sock"))
        defer { second.kill() }
        let ended = await second.waitForExit(timeout: .seconds(15))
        #expect(ended != nil && ended != .exited(0), "second berthd: \(ended.map { "\($0)" } ?? "still running")\n\(second.output)")
        #expect(second.output.contains(scratch("r/berthd.lock")), "\(second.output)")
        #expect(second.output.contains("pid \(first.pid)"), "\(second.output)")
        #expect(FileInfo(scratch("s2/b.sock")) == nil, "the refused berthd left a socket")

        // The same command line again, the commonest way to get here: nothing of the first
        // one's may be touched, its socket least of all.
        let inode = try #require(FileInfo(first.address)).inode
        let third = try TestDaemon.start(root: first.root, state: first.state, address: first.address)
        defer { third.kill() }
        let thirdEnded = await third.waitForExit(timeout: .seconds(15))
        #expect(thirdEnded != nil && thirdEnded != .exited(0), "\(third.output)")
        #expect(third.output.contains("pid \(first.pid)"), "\(third.output)")
        #expect(FileInfo(first.address)?.inode == inode, "the refused berthd replaced the first one's socket")

        let version = try await berthctl("version", address: first.address)
        #expect(version.status == 0, "the first berthd stopped serving: \(version)")
        #expect(await first.stop() == .exited(0), "\(first.output)")
    }

    @Test("SIGTERM and SIGINT stop berthd cleanly: exit 0, socket removed, root lock released",
          arguments: [SIGTERM, SIGINT])
    func signalStopsGracefully(signal: Int32) async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let daemon = try TestDaemon.start(in: scratch)
        defer { daemon.kill() }
        try await daemon.waitUntilServing()
        // Serving for a moment (the instant right after start is stopRightAfterReady's case).
        let first = try await berthctl("version", address: daemon.address)
        #expect(first.status == 0, "\(first)")

        let started = ContinuousClock.now
        let ended = await daemon.stop(signal: signal, timeout: .seconds(5))
        #expect(ended == .exited(0), "after signal \(signal): \(ended.map { "\($0)" } ?? "still running after 5s")\n\(daemon.output)")
        #expect(ContinuousClock.now - started < .seconds(5))
        #expect(FileInfo(daemon.address) == nil, "socket \(daemon.address) left behind")

        // Same root, new state and address: the lock must be free.
        let next = try TestDaemon.start(root: daemon.root, state: scratch("s2"), address: scratch("s2/b.sock"))
        defer { next.kill() }
        try await next.waitUntilServing()
        let version = try await berthctl("version", address: next.address)
        #expect(version.status == 0, "\(version)")
        #expect(await next.stop(signal: signal) == .exited(0), "\(next.output)")
    }
}
