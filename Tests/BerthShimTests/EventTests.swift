import BerthAPI
import Foundation
import Testing

extension ShimTests {
    /// The shim's event stream: per process create → start → exit → delete with exactly one
    /// exit, contiguous seqs, and replay after a seq on a new connection (DESIGN.md §4, §5).
    @Suite("Events")
    struct EventTests {
        /// The container lives a moment so that its exit cannot race its start
        /// (`fastExitOrder` covers that race).
        @Test("one run: create, start, exit, delete as seqs 1...4; afterSeq 2 replays 3 and 4")
        func orderAndReplay() async throws {
            try await withShim(["sh", "-c", "sleep 0.2; exit 7"]) { shim in
                let client = try await shim.connect()
                let events = EventCollector(client)
                let subscribed = try await client.call(ShimAPI.subscribe, ShimSubscribeRequest(afterSeq: 0))
                #expect(subscribed.lastSeq == 0)
                let pid = try await client.call(ShimAPI.create, ShimCreateRequest(stdio: ShimStdio())).pid
                try await client.call(ShimAPI.start, ShimProcessRequest())
                #expect(try await client.call(ShimAPI.wait, ShimProcessRequest()).exitStatus == 7)
                try await client.call(ShimAPI.delete, ShimProcessRequest())

                let seen = await events.wait(for: "/tasks/delete")
                try await Task.sleep(for: .milliseconds(200)) // nothing more may follow
                #expect(events.events == seen)
                #expect(seen.topics == ["/tasks/create", "/tasks/start", "/tasks/exit", "/tasks/delete"])
                #expect(seen.seqs == [1, 2, 3, 4])
                #expect(events.malformed.isEmpty)
                let exits = seen.filter { $0.topic == "/tasks/exit" }
                #expect(exits.count == 1)
                #expect(exits.first?.payload.exitStatus == 7)
                #expect(exits.first?.payload.pid == pid)
                #expect(exits.first?.payload.exitedAt != nil)
                #expect(seen.allSatisfy { $0.payload.containerID == shim.id && $0.payload.execID == nil })

                let again = try await shim.connect()
                let replay = EventCollector(again)
                let resubscribed = try await again.call(ShimAPI.subscribe, ShimSubscribeRequest(afterSeq: 2))
                #expect(resubscribed.lastSeq == 4)
                let replayed = await replay.wait { $0.count >= 2 }
                try await Task.sleep(for: .milliseconds(200))
                #expect(replay.events == replayed)
                #expect(replayed.seqs == [3, 4])
                #expect(replayed == Array(seen.dropFirst(2)), "a replay repeats the events as first sent")
            }
        }

        /// A container that exits at once races the shim's /tasks/start; containerd holds
        /// such an exit back until the start is published. Twenty runs, four at a time,
        /// make the race likely.
        @Test("a container that exits at once is never reported exited before started")
        func fastExitOrder() async throws {
            var misordered: [[String]] = []
            for _ in 0..<5 {
                try await withThrowingTaskGroup(of: [String].self) { group in
                    for _ in 0..<4 { group.addTask { try await Self.runOnce(["true"]) } }
                    for try await topics in group where topics != ["/tasks/create", "/tasks/start", "/tasks/exit"] {
                        misordered.append(topics)
                    }
                }
            }
            #expect(misordered.isEmpty, "\(misordered.count) of 20 runs had their events out of order: \(misordered)")
        }

        /// The topics of one create, start and wait of a container running `args`.
        static func runOnce(_ args: [String]) async throws -> [String] {
            try await withShim(args) { shim in
                let client = try await shim.connect()
                let events = EventCollector(client)
                try await client.call(ShimAPI.subscribe, ShimSubscribeRequest(afterSeq: 0))
                try await client.call(ShimAPI.create, ShimCreateRequest(stdio: ShimStdio()))
                try await client.call(ShimAPI.start, ShimProcessRequest())
                #expect(try await client.call(ShimAPI.wait, ShimProcessRequest()).exitStatus == 0)
                return await events.wait { $0.count >= 3 }.topics
            }
        }

        @Test("an exit while no client is connected is kept: state, exit.json, and one replayed /tasks/exit")
        func exitWhileAway() async throws {
            try await withShim(["sleep", "1"]) { shim in
                let client = try await shim.connect()
                let events = EventCollector(client)
                try await client.call(ShimAPI.subscribe, ShimSubscribeRequest(afterSeq: 0))
                let pid = try await client.call(ShimAPI.create, ShimCreateRequest(stdio: ShimStdio())).pid
                try await client.call(ShimAPI.start, ShimProcessRequest())
                let beforeLeaving = await events.wait(for: "/tasks/start")
                let lastSeen = try #require(beforeLeaving.last).seq
                #expect(!beforeLeaving.topics.contains("/tasks/exit"))
                client.close()

                try await Task.sleep(for: .seconds(2))
                #expect(!Procfs.isAlive(pid), "the container's sleep 1 still runs after 2 s")
                let record = try #require(ExitRecord.read(from: shim.bundle), "no exit.json after the container exited")
                #expect(record.exitStatus == 0)

                let back = try await shim.connect()
                let state = try await back.call(ShimAPI.state, ShimProcessRequest())
                #expect(state.status == "stopped")
                #expect(state.exitStatus == 0)
                #expect(state.pid == pid)
                let replay = EventCollector(back)
                try await back.call(ShimAPI.subscribe, ShimSubscribeRequest(afterSeq: lastSeen))
                let missed = await replay.wait(for: "/tasks/exit")
                try await Task.sleep(for: .milliseconds(300))
                #expect(replay.events == missed)
                #expect(missed.topics == ["/tasks/exit"])
                #expect(missed.first?.seq == lastSeen + 1)
                #expect(missed.first?.payload.exitStatus == 0)
                #expect(missed.first?.payload.pid == pid)
                try await back.call(ShimAPI.delete, ShimProcessRequest())
            }
        }
    }
}
