import BerthAPI
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The daemon's event stream as a container runs: containerd's topics, in order, each
/// process's exit exactly once — also when it happened while berthd was down.
@Suite("task events", .serialized, .timeLimit(.minutes(3)))
struct TaskEventsTests {
    @Test("run --rm publishes containerd's topics in order, with contiguous seqs and one exit")
    func runRmOrder() async throws {
        try await withDaemon { daemon, scratch in
            defer { killTasks(state: daemon.state) }
            let rootfs = try makeBusyboxRootfs(in: scratch)
            let run = try await berthctl("run", "--rm", "--rootfs", rootfs, "ev1", "sh", "-c", "exit 4", address: daemon.address)
            #expect(run.status == 4, "\(run)")
            let events = try await collectEvents(daemon.address, filters: [#"topic~="^/(tasks|containers)/""#]) { $0.topic == "/containers/delete" }
            #expect(events.map(\.topic) == ["/containers/create", "/tasks/create", "/tasks/start", "/tasks/exit", "/tasks/delete", "/containers/delete"])
            let exit = try #require(events.first { $0.topic == "/tasks/exit" })
            let payload = try JSONDecoder().decode(TaskExitEvent.self, from: JSONEncoder().encode(exit.payload))
            #expect(payload.exitStatus == 4 && payload.containerID == "ev1" && payload.id == "ev1")
            let all = try await collectEvents(daemon.address) { $0.topic == "/containers/delete" }
            let seqs = all.map(\.seq)
            #expect(seqs == Array(seqs.first!...seqs.last!), "seqs are contiguous")
        }
    }

    @Test("an exit that happens while berthd is down is published once when it returns")
    func exitWhileDown() async throws {
        try await withRestartableDaemon { first, paths, rootfs in
            let run = try await berthctl("run", "-d", "--rootfs", rootfs, "down", "sh", "-c", "sleep 1; exit 6", address: paths.address)
            #expect(run.status == 0, "\(run)")
            let before = try await collectEvents(paths.address) { $0.topic == "/tasks/start" }
            let lastSeen = try #require(before.last?.seq)
            first.kill()
            try await Task.sleep(for: .seconds(2))

            let second = try TestDaemon.start(root: paths.root, state: paths.state, address: paths.address)
            defer { second.kill() }
            try await second.waitUntilServing()
            let after = try await collectEvents(paths.address, afterSeq: lastSeen) { $0.topic == "/tasks/exit" }
            let exits = after.filter { $0.topic == "/tasks/exit" }
            #expect(exits.count == 1)
            let payload = try JSONDecoder().decode(TaskExitEvent.self, from: JSONEncoder().encode(exits[0].payload))
            #expect(payload.exitStatus == 6)
            // A third start must not publish it again.
            second.kill()
            let third = try TestDaemon.start(root: paths.root, state: paths.state, address: paths.address)
            defer { third.kill() }
            try await third.waitUntilServing()
            let marker = try await BerthClient.connect(to: paths.address)
            try await marker.createNamespace("marker")
            marker.close()
            let replay = try await collectEvents(paths.address, afterSeq: lastSeen) { $0.topic == "/namespaces/create" }
            #expect(replay.filter { $0.topic == "/tasks/exit" }.count == 1, "\(replay.map(\.topic))")
        }
    }

    static func exitPayload(_ event: Event) throws -> TaskExitEvent {
        try JSONDecoder().decode(TaskExitEvent.self, from: JSONEncoder().encode(event.payload))
    }

    @Test("a task whose shim is SIGKILLed gets one /tasks/exit (255), and tasks rm its /tasks/delete")
    func shimKilledWhileRunning() async throws {
        try await withDaemon { daemon, scratch in
            defer { killTasks(state: daemon.state) }
            let rootfs = try makeBusyboxRootfs(in: scratch)
            #expect(try await berthctl("run", "-d", "--rootfs", rootfs, "sk1", "sleep", "100", address: daemon.address).status == 0)
            let lastSeen = try #require(try await collectEvents(daemon.address) { $0.topic == "/tasks/start" }.last?.seq)
            let shim = try #require(shimPid(state: daemon.state, id: "sk1"))
            kill(shim, SIGKILL)
            #expect(try await eventually { try await taskStatuses(daemon.address)["sk1"] == "stopped" })
            let rm = try await berthctl("tasks", "rm", "sk1", address: daemon.address)
            #expect(rm.status == 0, "\(rm)")
            let after = try await collectEvents(daemon.address, afterSeq: lastSeen, filters: [#"topic~="^/tasks/""#]) { $0.topic == "/tasks/delete" }
            #expect(after.map(\.topic) == ["/tasks/exit", "/tasks/delete"])
            let exit = try Self.exitPayload(try #require(after.first))
            #expect(exit.containerID == "sk1" && exit.id == "sk1" && exit.exitStatus == 255)
        }
    }

    @Test("a shim SIGKILLed after its task exited, exit.json gone as if it died before writing it: the exit it sent is kept, not published again")
    func shimKilledAfterTheExit() async throws {
        try await withDaemon { daemon, scratch in
            defer { killTasks(state: daemon.state) }
            let rootfs = try makeBusyboxRootfs(in: scratch)
            #expect(try await berthctl("run", "-d", "--rootfs", rootfs, "sk2", "sh", "-c", "exit 3", address: daemon.address).status == 0)
            let before = try await collectEvents(daemon.address) { $0.topic == "/tasks/exit" }
            let exitSeq = try #require(before.last?.seq)
            let shim = try #require(shimPid(state: daemon.state, id: "sk2"))
            // The shim sends the event before it writes exit.json: dying in between leaves
            // none, and berthd must keep the exit it was told, not record 255.
            try FileManager.default.removeItem(atPath: "\(daemon.state)/tasks/default/sk2/exit.json")
            kill(shim, SIGKILL)
            // The dead shim's cleanup is done when the bundle is gone.
            #expect(await eventually { !FileManager.default.fileExists(atPath: "\(daemon.state)/tasks/default/sk2") })
            let rm = try await berthctl("tasks", "rm", "sk2", address: daemon.address)
            #expect(rm.stdout == "sk2\t3\n", "\(rm)")
            let all = try await collectEvents(daemon.address, afterSeq: exitSeq - 1, filters: [#"topic~="^/tasks/""#]) { $0.topic == "/tasks/delete" }
            #expect(all.map(\.topic) == ["/tasks/exit", "/tasks/delete"], "\(all.map(\.topic))")
            #expect(try Self.exitPayload(try #require(all.first)).exitStatus == 3)
        }
    }

    @Test("containers rm of a container whose shim died publishes its task's /tasks/delete before /containers/delete")
    func containerRemovedWithADeadTask() async throws {
        try await withDaemon { daemon, scratch in
            defer { killTasks(state: daemon.state) }
            let rootfs = try makeBusyboxRootfs(in: scratch)
            #expect(try await berthctl("run", "-d", "--rootfs", rootfs, "sk3", "sleep", "100", address: daemon.address).status == 0)
            let lastSeen = try #require(try await collectEvents(daemon.address) { $0.topic == "/tasks/start" }.last?.seq)
            kill(try #require(shimPid(state: daemon.state, id: "sk3")), SIGKILL)
            #expect(try await eventually { try await taskStatuses(daemon.address)["sk3"] == "stopped" })
            let rm = try await berthctl("containers", "rm", "sk3", address: daemon.address)
            #expect(rm.status == 0, "\(rm)")
            let after = try await collectEvents(daemon.address, afterSeq: lastSeen) { $0.topic == "/containers/delete" }
            #expect(after.map(\.topic) == ["/tasks/exit", "/tasks/delete", "/containers/delete"])
            #expect(try await taskStatuses(daemon.address)["sk3"] == nil, "the dead task outlived its container")
        }
    }

    @Test("shims that die while berthd is down: a running task's exit (255) is published once, an exit already published is not")
    func shimsDeadAtRestart() async throws {
        try await withRestartableDaemon { first, paths, rootfs in
            #expect(try await berthctl("run", "-d", "--rootfs", rootfs, "dr1", "sleep", "100", address: paths.address).status == 0)
            #expect(try await berthctl("run", "-d", "--rootfs", rootfs, "dr2", "sh", "-c", "exit 5", address: paths.address).status == 0)
            let before = try await collectEvents(paths.address, filters: [#"topic~="^/tasks/""#]) { event in
                (try? Self.exitPayload(event))?.containerID == "dr2"
            }
            let lastSeen = try #require(before.last?.seq)
            let shims = try ["dr1", "dr2"].map { try #require(shimPid(state: paths.state, id: $0)) }
            // Let events.seq record dr2's exit (it follows the journal's commit by a moment).
            try await Task.sleep(for: .milliseconds(300))
            first.kill()
            for shim in shims { kill(shim, SIGKILL) }

            let second = try TestDaemon.start(root: paths.root, state: paths.state, address: paths.address)
            defer { second.kill() }
            try await second.waitUntilServing()
            #expect(try await eventually { try await taskStatuses(paths.address)["dr1"] == "stopped" })
            let marker = try await BerthClient.connect(to: paths.address)
            try await marker.createNamespace("marker")
            marker.close()
            let after = try await collectEvents(paths.address, afterSeq: lastSeen) { $0.topic == "/namespaces/create" }
            let exits = try after.filter { $0.topic == "/tasks/exit" }.map(Self.exitPayload)
            #expect(exits.map(\.containerID) == ["dr1"], "\(after.map(\.topic))")
            #expect(exits.first?.exitStatus == 255)
            let all = try await collectEvents(paths.address) { $0.topic == "/namespaces/create" }
            #expect(try all.filter { $0.topic == "/tasks/exit" }.map(Self.exitPayload).filter { $0.containerID == "dr2" }.map(\.exitStatus) == [5])
        }
    }
}

/// A subscriber that never reads must not slow anyone down.
@Suite("stalled subscriber", .serialized, .timeLimit(.minutes(3)))
struct StalledSubscriberTests {
    /// Subscribes to every event on a raw socket with a tiny receive buffer, then never reads.
    func stalledSubscriber(_ address: String) throws -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var size: Int32 = 4096
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { $0.copyBytes(from: Array(address.utf8)) }
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard rc == 0 else { throw TestFailure("connect \(address): errno \(errno)") }
        let body = Array(#"{"jsonrpc":"2.0","id":1,"method":"events.subscribe","params":{"afterSeq":0}}"#.utf8)
        let n = UInt32(body.count)
        let frame = [UInt8(n >> 24), UInt8((n >> 16) & 0xff), UInt8((n >> 8) & 0xff), UInt8(n & 0xff)] + body
        _ = frame.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        return fd
    }

    func runMany(_ count: Int, _ rootfs: String, _ address: String, prefix: String) async throws -> Duration {
        let start = ContinuousClock.now
        for i in 0..<count {
            let run = try await berthctl("run", "--rm", "--rootfs", rootfs, "\(prefix)\(i)", "true", address: address)
            #expect(run.status == 0, "\(run)")
        }
        return ContinuousClock.now - start
    }

    @Test("30 run --rm beside a subscriber that never reads take no longer than without it; berthd's memory stays bounded")
    func stalledSubscriberDoesNotSlowRuns() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let config = try scratch.write("config.toml", "[events]\nsubscriber_queue = 16\n")
        try await withDaemon(arguments: ["--config", config]) { daemon, scratch in
            defer { killTasks(state: daemon.state) }
            let rootfs = try makeBusyboxRootfs(in: scratch)
            let alone = try await runMany(30, rootfs, daemon.address, prefix: "a")
            let rssBefore = residentKiB(daemon.pid)
            let stalled = try stalledSubscriber(daemon.address)
            defer { close(stalled) }
            let beside = try await runMany(30, rootfs, daemon.address, prefix: "b")
            #expect(beside < alone * 2 + .seconds(3), "alone \(alone), beside a stalled subscriber \(beside)")
            let rssAfter = residentKiB(daemon.pid)
            #expect(rssAfter < rssBefore + 32 * 1024, "berthd grew from \(rssBefore) KiB to \(rssAfter) KiB")
        }
    }

    func residentKiB(_ pid: pid_t) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return 0 }
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
    }
}
