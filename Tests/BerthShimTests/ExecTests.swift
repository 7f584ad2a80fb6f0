import BerthAPI
import BerthOCI
import Foundation
import Testing

extension ShimTests {
    /// task.exec: a second process in a running container, with its own stdio, exit and events.
    @Suite("Exec")
    struct ExecTests {
        static func process(_ args: [String]) -> Spec.Process {
            Spec.Process(args: args, env: ["PATH=/bin"], cwd: "/")
        }

        @Test("exec: output in its log, exit 5 from wait, duplicate and invalid ids refused, events in order")
        func execInRunningContainer() async throws {
            try await withShim(["sleep", "100"]) { shim in
                let client = try await shim.connect()
                let events = EventCollector(client)
                try await client.call(ShimAPI.subscribe, ShimSubscribeRequest(afterSeq: 0))
                let initPid = try await client.call(ShimAPI.create, ShimCreateRequest(stdio: ShimStdio())).pid
                try await client.call(ShimAPI.start, ShimProcessRequest())

                let log = shim.directory + "/e1.log"
                try await client.call(ShimAPI.exec, ShimExecRequest(execID: "e1", process: Self.process(["sh", "-c", "echo hi; exit 5"]),
                                                                    stdio: ShimStdio(logPath: log)))
                let exit = try await client.call(ShimAPI.wait, ShimProcessRequest(execID: "e1"))
                #expect(exit.exitStatus == 5)
                #expect(exit.pid != initPid && exit.pid > 0)
                let state = try await client.call(ShimAPI.state, ShimProcessRequest(execID: "e1"))
                #expect(state.status == "stopped")
                #expect(state.exitStatus == 5)
                #expect(await eventually { logText(log) == "hi\n" }, "exec log: \((try? readLog(log)) ?? [])")
                #expect(((try? readLog(log)) ?? []).allSatisfy { $0.stream == "stdout" })

                await expectError(.alreadyExists, "a second exec e1") {
                    try await client.call(ShimAPI.exec, ShimExecRequest(execID: "e1", process: Self.process(["true"]), stdio: ShimStdio()))
                }
                await expectError(.invalidArgument, "exec id ../x") {
                    try await client.call(ShimAPI.exec, ShimExecRequest(execID: "../x", process: Self.process(["true"]), stdio: ShimStdio()))
                }
                // The init is untouched by its exec's exit.
                #expect(try await client.call(ShimAPI.state, ShimProcessRequest()).status == "running")

                let seen = await events.wait(for: "/tasks/exit", execID: "e1")
                let e1 = seen.filter { $0.payload.execID == "e1" }
                // Their order against the exit is `quickExecOrder`'s subject.
                #expect(e1.first?.topic == "/tasks/exec-added", "exec e1's events: \(e1.map { "\($0.seq) \($0.topic)" })")
                #expect(e1.filter { $0.topic == "/tasks/exec-started" }.count == 1)
                #expect(e1.filter { $0.topic == "/tasks/exit" }.count == 1)
                #expect(e1.count == 3)
                #expect(e1.first { $0.topic == "/tasks/exec-started" }?.payload.pid == exit.pid)
                #expect(e1.first { $0.topic == "/tasks/exit" }?.payload.exitStatus == 5)
                #expect(seen.seqs == Array(1...UInt64(seen.count)), "seqs must be contiguous: \(seen.seqs)")

                let deleted = try await client.call(ShimAPI.delete, ShimProcessRequest(execID: "e1"))
                #expect(deleted.exitStatus == 5)
                await expectError(.notFound, "state of a deleted exec") {
                    try await client.call(ShimAPI.state, ShimProcessRequest(execID: "e1"))
                }
                try await client.call(ShimAPI.kill, ShimKillRequest(signal: SIGKILL))
                #expect(try await client.call(ShimAPI.wait, ShimProcessRequest()).exitStatus == 137)
                try await client.call(ShimAPI.delete, ShimProcessRequest())
            }
        }

        /// An exec that exits at once races the shim's /tasks/exec-started (the exit is
        /// watched before the started event is published). Ten quick execs make it likely.
        @Test("a quick exec is never reported exited before exec-started")
        func quickExecOrder() async throws {
            try await withShim(["sleep", "100"]) { shim in
                let client = try await shim.connect()
                let events = EventCollector(client)
                try await client.call(ShimAPI.subscribe, ShimSubscribeRequest(afterSeq: 0))
                try await client.call(ShimAPI.create, ShimCreateRequest(stdio: ShimStdio()))
                try await client.call(ShimAPI.start, ShimProcessRequest())
                let ids = (0..<10).map { "q\($0)" }
                for id in ids {
                    try await client.call(ShimAPI.exec, ShimExecRequest(execID: id, process: Self.process(["true"]), stdio: ShimStdio()))
                    #expect(try await client.call(ShimAPI.wait, ShimProcessRequest(execID: id)).exitStatus == 0)
                }
                let seen = await events.wait { events in ids.allSatisfy { id in events.contains { $0.topic == "/tasks/exit" && $0.payload.execID == id } } }
                var misordered: [String: [String]] = [:]
                for id in ids {
                    let topics = seen.filter { $0.payload.execID == id }.topics
                    if topics != ["/tasks/exec-added", "/tasks/exec-started", "/tasks/exit"] { misordered[id] = topics }
                }
                #expect(misordered.isEmpty, "\(misordered.count) of 10 execs had their events out of order: \(misordered)")
                try await client.call(ShimAPI.kill, ShimKillRequest(signal: SIGKILL))
                _ = try await client.call(ShimAPI.wait, ShimProcessRequest())
            }
        }

        @Test("exec into a task that is not running is FailedPrecondition")
        func execIntoCreatedTask() async throws {
            try await withShim(["sleep", "100"]) { shim in
                let client = try await shim.connect()
                try await client.call(ShimAPI.create, ShimCreateRequest(stdio: ShimStdio()))
                await expectError(.failedPrecondition, "exec before start") {
                    try await client.call(ShimAPI.exec, ShimExecRequest(execID: "e1", process: Self.process(["true"]), stdio: ShimStdio()))
                }
                try await client.call(ShimAPI.delete, ShimProcessRequest())
            }
        }
    }
}
