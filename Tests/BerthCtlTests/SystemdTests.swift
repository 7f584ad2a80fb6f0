import BerthAPI
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// berthd under systemd: readiness notifications and socket activation, with the test
/// playing systemd's part.
@Suite("berthd under systemd", .timeLimit(.minutes(3)))
struct SystemdTests {
    @Test("sd_notify: READY=1 with STATUS and MAINPID once serving, STOPPING=1 on SIGTERM")
    func notifiesReadinessAndStopping() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let notifyPath = scratch("n.sock")
        let notify = try UnixSocket.datagram(at: notifyPath)
        defer { close(notify) }

        let daemon = try TestDaemon.start(in: scratch, environment: ["NOTIFY_SOCKET": notifyPath])
        defer { daemon.kill() }
        let ready = await UnixSocket.receive(notify, timeout: .seconds(30))
        let message = try #require(ready, "no notification from berthd within 30s:\n\(daemon.output)")
        let fields = message.split(separator: "\n").map(String.init)
        #expect(fields.contains("READY=1"), "\(message)")
        #expect(fields.contains("STATUS=serving on \(daemon.address)"), "\(message)")
        #expect(fields.contains("MAINPID=\(daemon.pid)"), "\(message)")
        // Ready means ready: the socket answers right away.
        let version = try await berthctl("version", address: daemon.address)
        #expect(version.status == 0, "\(version)")

        daemon.child.signal(SIGTERM)
        let stopping = await UnixSocket.receive(notify, timeout: .seconds(10))
        #expect(stopping?.split(separator: "\n").contains("STOPPING=1") == true, "\(stopping ?? "nothing received")")
        #expect(await daemon.waitForExit(timeout: .seconds(10)) == .exited(0), "\(daemon.output)")
    }

    @Test("socket activation: berthd serves on the socket passed as fd 3 and leaves its file to systemd")
    func servesActivatedSocket() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let address = scratch("act.sock")
        let listener = try UnixSocket.listen(at: address)
        defer { close(listener) }
        let inode = try #require(FileInfo(address)).inode

        let daemon = try TestDaemon.start(root: scratch("r"), state: scratch("s"), address: address, listenFD: listener)
        defer { daemon.kill() }
        // The socket accepts connections before berthd does (the kernel queues them), so
        // readiness is a call that gets its answer.
        let version = try await berthctl(["version", "--timeout", "30"], env: ["BERTH_ADDRESS": address])
        #expect(version.status == 0, "\(version)\n\(daemon.output)")
        #expect(version.stdout.contains("API version: 1"), "\(version)")

        let infoRun = try await berthctl("info", "--format", "json", address: address)
        #expect(infoRun.status == 0, "\(infoRun)")
        let info = try JSONDecoder().decode(SystemInfo.self, from: Data(infoRun.stdout.utf8))
        #expect(info.pid == daemon.pid)
        #expect(info.address == address)

        let create = try await berthctl("namespaces", "create", "activated", address: address)
        #expect(create.status == 0, "\(create)")

        #expect(await daemon.stop() == .exited(0), "\(daemon.output)")
        #expect(FileInfo(address)?.isSocket == true, "berthd removed systemd's socket file")
        #expect(FileInfo(address)?.inode == inode, "berthd replaced systemd's socket file with its own")
    }

    @Test("a stop requested the moment berthd reports READY=1 is still graceful: exit 0, socket removed")
    func stopRightAfterReady() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        // systemd may stop a unit as soon as it is ready (a restart, a failed dependency);
        // a few rounds, since a lost or unhandled signal is a race.
        var failures: [String] = []
        for round in 1...10 {
            let notifyPath = scratch("n\(round).sock")
            let notify = try UnixSocket.datagram(at: notifyPath)
            defer { close(notify) }
            let daemon = try TestDaemon.start(in: scratch, name: "\(round)", environment: ["NOTIFY_SOCKET": notifyPath])
            defer { daemon.kill() }
            let ready = await UnixSocket.receive(notify, timeout: .seconds(30)) { message in
                if message.split(separator: "\n").contains("READY=1") { daemon.child.signal(SIGTERM) }
            }
            #expect(ready?.split(separator: "\n").contains("READY=1") == true,
                    "round \(round): \(ready ?? "no notification within 30s")\n\(daemon.output)")
            let ended = await daemon.waitForExit(timeout: .seconds(5))
            let socketLeft = FileInfo(daemon.address) != nil
            if ended != .exited(0) || socketLeft {
                failures.append("round \(round): \(ended.map { "\($0)" } ?? "still running 5s after SIGTERM")"
                                + (socketLeft ? ", socket left behind" : ""))
            }
        }
        #expect(failures.isEmpty, "SIGTERM right after READY=1:\n\(failures.joined(separator: "\n"))")
    }

    @Test("socket activation with something other than one listening stream socket is refused")
    func activationWithWrongSocketIsRefused() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let datagram = try UnixSocket.datagram(at: scratch("d.sock"))
        defer { close(datagram) }
        let daemon = try TestDaemon.start(root: scratch("r"), state: scratch("s"), address: scratch("d.sock"), listenFD: datagram)
        defer { daemon.kill() }
        let ended = await daemon.waitForExit(timeout: .seconds(15))
        #expect(ended != nil && ended != .exited(0), "\(ended.map { "\($0)" } ?? "still running")\n\(daemon.output)")
        #expect(daemon.output.contains("socket activation"), "\(daemon.output)")
        #expect(FileInfo(scratch("d.sock")) != nil, "berthd removed the socket it was handed")
    }
}
