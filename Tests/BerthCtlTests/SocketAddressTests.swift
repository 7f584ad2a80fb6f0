import BerthAPI
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// What berthd does with its socket path: whatever already sits there, and the
/// directory around it.
@Suite("berthd socket address", .timeLimit(.minutes(3)))
struct SocketAddressTests {
    @Test("a stale socket file at the address (nobody listening) is replaced at start")
    func staleSocketIsReplaced() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let (root, state, address) = scratch.daemonPaths()
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        try UnixSocket.makeStale(at: address)
        #expect(!UnixSocket.canConnect(address))

        let daemon = try TestDaemon.start(root: root, state: state, address: address)
        defer { daemon.kill() }
        try await daemon.waitUntilServing()
        let version = try await berthctl("version", address: address)
        #expect(version.status == 0, "\(version)")
        #expect(await daemon.stop() == .exited(0), "\(daemon.output)")
    }

    @Test("a regular file at the address makes berthd refuse to start and is left untouched")
    func regularFileAtAddressIsRefused() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let (root, state, address) = scratch.daemonPaths()
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        let content = "precious data, not a socket\n"
        try scratch.write("s/b.sock", content)

        let daemon = try TestDaemon.start(root: root, state: state, address: address)
        defer { daemon.kill() }
        let ended = await daemon.waitForExit(timeout: .seconds(15))
        #expect(ended != nil && ended != .exited(0), "\(ended.map { "\($0)" } ?? "still running")\n\(daemon.output)")
        #expect(daemon.output.contains(address), "\(daemon.output)")
        #expect(daemon.output.contains("not a socket"), "\(daemon.output)")
        #expect(FileInfo(address)?.isRegularFile == true)
        #expect((try? String(contentsOfFile: address, encoding: .utf8)) == content)
    }

    @Test("an address a live server answers on makes a second berthd (other root) refuse; the first keeps serving")
    func liveServerAtAddressIsRefused() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let address = scratch("shared.sock")
        let first = try TestDaemon.start(root: scratch("r1"), state: scratch("s1"), address: address)
        defer { first.kill() }
        try await first.waitUntilServing()

        let second = try TestDaemon.start(root: scratch("r2"), state: scratch("s2"), address: address)
        defer { second.kill() }
        let ended = await second.waitForExit(timeout: .seconds(15))
        #expect(ended != nil && ended != .exited(0), "\(ended.map { "\($0)" } ?? "still running")\n\(second.output)")
        #expect(second.output.contains(address), "\(second.output)")

        #expect(FileInfo(address)?.isSocket == true, "the refused berthd removed the first one's socket")
        let info = try await berthctl("info", "--format", "json", address: address)
        #expect(info.status == 0, "\(info)")
        let decoded = try JSONDecoder().decode(SystemInfo.self, from: Data(info.stdout.utf8))
        #expect(decoded.pid == first.pid, "the socket is no longer the first berthd's")
        #expect(await first.stop() == .exited(0), "\(first.output)")
    }

    @Test("the socket may live in an existing shared directory, whose mode berthd leaves alone")
    func existingDirectoryModeIsKept() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        // Like --address /tmp/berthd.sock: a sticky, world-writable directory others use.
        let shared = scratch("pub")
        #expect(mkdir(shared, 0o755) == 0)
        #expect(chmod(shared, 0o1777) == 0)
        let address = shared + "/b.sock"
        let daemon = try TestDaemon.start(root: scratch("r"), state: scratch("s"), address: address)
        defer { daemon.kill() }
        try await daemon.waitUntilServing()
        let version = try await berthctl("version", address: address)
        #expect(version.status == 0, "\(version)")
        #expect(octal(FileInfo(shared)?.permissions) == "01777", "berthd changed the mode of a directory it did not create")
        #expect(octal(FileInfo(address)?.permissions) == "0660")
        #expect(await daemon.stop() == .exited(0), "\(daemon.output)")
    }

    @Test("the socket may live in a directory reached through a symlink (as /var/run -> /run)")
    func symlinkedSocketDirectory() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try FileManager.default.createDirectory(atPath: scratch("run"), withIntermediateDirectories: false)
        try FileManager.default.createSymbolicLink(atPath: scratch("varrun"), withDestinationPath: "run")
        let daemon = try TestDaemon.start(root: scratch("r"), state: scratch("s"), address: scratch("varrun/b.sock"))
        defer { daemon.kill() }
        try await daemon.waitUntilServing(timeout: .seconds(15))
        let version = try await berthctl("version", address: scratch("varrun/b.sock"))
        #expect(version.status == 0, "\(version)")
        #expect(FileInfo(scratch("run/b.sock"))?.isSocket == true)
        #expect(await daemon.stop() == .exited(0), "\(daemon.output)")
    }
}
