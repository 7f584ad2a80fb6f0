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
    /// Collects the topics of events after `afterSeq` until `stop` matches (or 10 s pass).
    func collect(_ address: String, afterSeq: UInt64 = 0, filters: [String] = [], until stop: @escaping @Sendable (Event) -> Bool) async throws -> [Event] {
        let client = try await BerthClient.connect(to: address)
        defer { client.close() }
        let subscription = try await client.subscribeEvents(filters: filters, afterSeq: afterSeq)
        return try await withThrowingTaskGroup(of: [Event].self) { group in
            group.addTask {
                var seen: [Event] = []
                for try await event in subscription {
                    seen.append(event)
                    if stop(event) { break }
                }
                return seen
            }
            group.addTask {
                try await Task.sleep(for: .seconds(10))
                throw TestFailure("no matching event within 10 s")
            }
            let result = try await group.next()!
            group.cancelAll()
            return result
        }
    }

    @Test("run --rm publishes containerd's topics in order, with contiguous seqs and one exit")
    func runRmOrder() async throws {
        try await withDaemon { daemon, scratch in
            defer { killTasks(state: daemon.state) }
            let rootfs = try makeBusyboxRootfs(in: scratch)
            let run = try await berthctl("run", "--rm", "--rootfs", rootfs, "ev1", "sh", "-c", "exit 4", address: daemon.address)
            #expect(run.status == 4, "\(run)")
            let events = try await collect(daemon.address, filters: [#"topic~="^/(tasks|containers)/""#]) { $0.topic == "/containers/delete" }
            #expect(events.map(\.topic) == ["/containers/create", "/tasks/create", "/tasks/start", "/tasks/exit", "/tasks/delete", "/containers/delete"])
            let exit = try #require(events.first { $0.topic == "/tasks/exit" })
            let payload = try JSONDecoder().decode(TaskExitEvent.self, from: JSONEncoder().encode(exit.payload))
            #expect(payload.exitStatus == 4 && payload.containerID == "ev1" && payload.id == "ev1")
            let all = try await collect(daemon.address) { $0.topic == "/containers/delete" }
            let seqs = all.map(\.seq)
            #expect(seqs == Array(seqs.first!...seqs.last!), "seqs are contiguous")
        }
    }

    @Test("an exit that happens while berthd is down is published once when it returns")
    func exitWhileDown() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let rootfs = try makeBusyboxRootfs(in: scratch)
        let paths = scratch.daemonPaths()
        defer { killTasks(state: paths.state) }
        let first = try TestDaemon.start(root: paths.root, state: paths.state, address: paths.address)
        defer { first.kill() }
        try await first.waitUntilServing()
        let run = try await berthctl("run", "-d", "--rootfs", rootfs, "down", "sh", "-c", "sleep 1; exit 6", address: paths.address)
        #expect(run.status == 0, "\(run)")
        let before = try await collect(paths.address) { $0.topic == "/tasks/start" }
        let lastSeen = try #require(before.last?.seq)
        first.kill()
        try await Task.sleep(for: .seconds(2))

        let second = try TestDaemon.start(root: paths.root, state: paths.state, address: paths.address)
        defer { second.kill() }
        try await second.waitUntilServing()
        let after = try await collect(paths.address, afterSeq: lastSeen) { $0.topic == "/tasks/exit" }
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
        let replay = try await collect(paths.address, afterSeq: lastSeen) { $0.topic == "/namespaces/create" }
        #expect(replay.filter { $0.topic == "/tasks/exit" }.count == 1, "\(replay.map(\.topic))")
    }
}
