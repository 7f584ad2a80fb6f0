import BerthAPI
import Foundation
import Testing

extension ShimTests {
    /// task.kill, task.pids, task.pause and task.resume on a running container.
    @Suite("Signals, pids, pause")
    struct SignalTests {
        @Test("SIGKILL: wait gives 137; a second kill of the stopped task is NotFound")
        func killInit() async throws {
            try await withShim(["sleep", "100"]) { shim in
                let client = try await shim.connect()
                let pid = try await client.call(ShimAPI.create, ShimCreateRequest(stdio: ShimStdio())).pid
                try await client.call(ShimAPI.start, ShimProcessRequest())
                #expect(try await client.call(ShimAPI.state, ShimProcessRequest()).status == "running")
                try await client.call(ShimAPI.kill, ShimKillRequest(signal: SIGKILL))
                let exit = try await client.call(ShimAPI.wait, ShimProcessRequest())
                #expect(exit.exitStatus == 137)
                #expect(exit.pid == pid)
                #expect(ExitRecord.read(from: shim.bundle)?.exitStatus == 137)
                let state = try await client.call(ShimAPI.state, ShimProcessRequest())
                #expect(state.status == "stopped")
                #expect(state.exitStatus == 137)
                await expectError(.notFound, "kill of a stopped task") {
                    try await client.call(ShimAPI.kill, ShimKillRequest(signal: SIGKILL))
                }
                await expectError(.notFound, "kill --all of a stopped task") {
                    try await client.call(ShimAPI.kill, ShimKillRequest(signal: SIGKILL, all: true))
                }
                try await client.call(ShimAPI.delete, ShimProcessRequest())
            }
        }

        /// The shim holds the init's namespaces while it runs (so that their teardown is
        /// not part of the init's exit) and lets go of them a second after the exit, or at
        /// the delete if that comes first (so that their teardown does not compete with the
        /// exit's way to berthd and its subscribers).
        @Test("the init's namespaces are held while it runs and released a second after its exit, or at its delete",
              arguments: [false, true])
        func namespacesHeldUntilTheExit(deleteAtOnce: Bool) async throws {
            try await withShim(["sleep", "100"]) { shim in
                let client = try await shim.connect()
                let pid = try await client.call(ShimAPI.create, ShimCreateRequest(stdio: ShimStdio())).pid
                try await client.call(ShimAPI.start, ShimProcessRequest())
                let shimPid = try #require(shim.shimPid)
                func heldNamespaces() -> Set<String> {
                    let dir = "/proc/\(shimPid)/fd"
                    let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
                    return Set(names.compactMap { try? FileManager.default.destinationOfSymbolicLink(atPath: dir + "/" + $0) }
                        .filter { $0.hasPrefix("mnt:") || $0.hasPrefix("net:") || $0.hasPrefix("ipc:") || $0.hasPrefix("uts:") })
                }
                let initNamespaces = Set(["mnt", "net", "ipc", "uts"].compactMap {
                    try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/ns/\($0)")
                })
                #expect(initNamespaces.count == 4)
                #expect(heldNamespaces() == initNamespaces)
                try await client.call(ShimAPI.kill, ShimKillRequest(signal: SIGKILL))
                #expect(try await client.call(ShimAPI.wait, ShimProcessRequest()).exitStatus == 137)
                func releasedWithin(_ limit: Duration) async throws -> Bool {
                    let deadline = ContinuousClock.now + limit
                    while !heldNamespaces().isEmpty, ContinuousClock.now < deadline {
                        try await Task.sleep(for: .milliseconds(10))
                    }
                    return heldNamespaces().isEmpty
                }
                if deleteAtOnce {
                    // Right after its answer: well before the second the timer waits.
                    try await client.call(ShimAPI.delete, ShimProcessRequest())
                    #expect(try await releasedWithin(.milliseconds(500)))
                } else {
                    #expect(try await releasedWithin(.seconds(5)))
                    try await client.call(ShimAPI.delete, ShimProcessRequest())
                }
            }
        }

        /// The shim runs its calls on its connection's I/O thread: a call that waits
        /// (task.wait, two of them) must not hold up the others on the same connection.
        @Test("a task.wait sent while the runtime's create runs is answered with the exit")
        func waitDuringCreate() async throws {
            try await withShim(["sleep", "100"]) { shim in
                // Pipelined on one connection: the shim reads the wait while the runtime's
                // create is still running, when the task is only being created.
                let raw = try RawSocket(shim.address)
                raw.send(#"{"jsonrpc":"2.0","id":1,"method":"task.create","params":{"stdio":{}}}"#)
                raw.send(#"{"jsonrpc":"2.0","id":2,"method":"task.wait","params":{}}"#)
                let created = raw.receive()
                #expect(created?["id"] as? Int == 1, "\(String(describing: created))")
                let pid = (created?["result"] as? [String: Any])?["pid"] as? Int
                let client = try await shim.connect()
                try await client.call(ShimAPI.start, ShimProcessRequest())
                try await client.call(ShimAPI.kill, ShimKillRequest(signal: SIGKILL))
                let waited = raw.receive() // nil after 10 s: the wait was lost
                #expect(waited?["id"] as? Int == 2, "\(String(describing: waited))")
                let result = waited?["result"] as? [String: Any]
                #expect(result?["exitStatus"] as? Int == 137)
                #expect(result?["pid"] as? Int == pid)
                try await client.call(ShimAPI.delete, ShimProcessRequest())
            }
        }

        @Test("waits in flight do not hold up state and kill on the same connection")
        func waitsInFlightDoNotBlockOtherCalls() async throws {
            try await withShim(["sleep", "100"]) { shim in
                let client = try await shim.connect()
                try await client.call(ShimAPI.create, ShimCreateRequest(stdio: ShimStdio()))
                try await client.call(ShimAPI.start, ShimProcessRequest())
                async let first = client.call(ShimAPI.wait, ShimProcessRequest())
                async let second = client.call(ShimAPI.wait, ShimProcessRequest())
                for _ in 0..<20 {
                    #expect(try await client.call(ShimAPI.state, ShimProcessRequest(), timeout: .seconds(5)).status == "running")
                }
                try await client.call(ShimAPI.kill, ShimKillRequest(signal: SIGKILL), timeout: .seconds(5))
                #expect(try await first.exitStatus == 137)
                #expect(try await second.exitStatus == 137)
                try await client.call(ShimAPI.delete, ShimProcessRequest())
            }
        }

        /// The init of a pid namespace ignores SIGTERM it has no handler for, so a plain
        /// SIGTERM leaves this container running; with `all`, its two children die, `wait`
        /// returns and the shell exits 0.
        @Test("kill with all signals every process of the container")
        func killAll() async throws {
            try await withShim(["sh", "-c", "sleep 100 & sleep 100 & wait"]) { shim in
                let client = try await shim.connect()
                let initPid = try await client.call(ShimAPI.create, ShimCreateRequest(stdio: ShimStdio())).pid
                try await client.call(ShimAPI.start, ShimProcessRequest())
                var pids: [Int32] = []
                for _ in 0..<50 { // until the shell has started both sleeps
                    pids = try await client.call(ShimAPI.pids, ShimProcessRequest()).pids
                    if pids.count >= 3 { break }
                    try await Task.sleep(for: .milliseconds(100))
                }
                #expect(pids.contains(initPid))
                #expect(pids.count == 3, "pids: \(pids)")

                try await client.call(ShimAPI.kill, ShimKillRequest(signal: SIGTERM))
                try await Task.sleep(for: .milliseconds(300))
                #expect(try await client.call(ShimAPI.state, ShimProcessRequest()).status == "running",
                        "the container's init has no SIGTERM handler: a plain SIGTERM must not stop it")

                try await client.call(ShimAPI.kill, ShimKillRequest(signal: SIGTERM, all: true))
                let exit = try await client.call(ShimAPI.wait, ShimProcessRequest(), timeout: .seconds(10))
                #expect(exit.exitStatus == 0)
                #expect(pids.allSatisfy { !Procfs.isAlive($0) }, "processes left after kill --all: \(pids.filter(Procfs.isAlive))")
                try await client.call(ShimAPI.delete, ShimProcessRequest())
            }
        }

        @Test("pids includes the init; pause and resume change the state and emit events")
        func pidsPauseResume() async throws {
            try await withShim(["sleep", "100"]) { shim in
                let client = try await shim.connect()
                let events = EventCollector(client)
                try await client.call(ShimAPI.subscribe, ShimSubscribeRequest(afterSeq: 0))
                let pid = try await client.call(ShimAPI.create, ShimCreateRequest(stdio: ShimStdio())).pid
                try await client.call(ShimAPI.start, ShimProcessRequest())
                #expect(try await client.call(ShimAPI.pids, ShimProcessRequest()).pids.contains(pid))
                #expect(try await client.call(ShimAPI.connect, Empty()).taskPid == pid)

                try await client.call(ShimAPI.pause, ShimProcessRequest())
                #expect(try await client.call(ShimAPI.state, ShimProcessRequest()).status == "paused")
                if let freezer = freezerState(shim) { #expect(freezer == "FROZEN") }
                await events.wait(for: "/tasks/paused")

                try await client.call(ShimAPI.resume, ShimProcessRequest())
                #expect(try await client.call(ShimAPI.state, ShimProcessRequest()).status == "running")
                let seen = await events.wait(for: "/tasks/resumed")
                #expect(seen.topics == ["/tasks/create", "/tasks/start", "/tasks/paused", "/tasks/resumed"])
                #expect(seen.filter { $0.topic.hasPrefix("/tasks/pa") || $0.topic.hasPrefix("/tasks/re") }
                    .allSatisfy { $0.payload.containerID == shim.id })

                try await client.call(ShimAPI.kill, ShimKillRequest(signal: SIGKILL))
                #expect(try await client.call(ShimAPI.wait, ShimProcessRequest()).exitStatus == 137)
                try await client.call(ShimAPI.delete, ShimProcessRequest())
            }
        }

        /// The v1 freezer's state of the container's cgroup (nil where there is no v1 freezer).
        private func freezerState(_ shim: ShimFixture) -> String? {
            (try? String(contentsOfFile: "/sys/fs/cgroup/freezer\(shim.cgroupsPath)/freezer.state", encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }
}
