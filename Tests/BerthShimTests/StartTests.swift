import BerthAPI
import Foundation
import Testing

extension ShimTests {
    /// `berth-shim start` as berthd runs it: bootstrap on stdin, in the bundle, several
    /// containers at once (berthd starts shims concurrently).
    @Suite("Start")
    struct StartTests {
        @Test("start prints the address and pid, writes bootstrap.json, and the shim serves")
        func startOne() async throws {
            try await withShim(["true"]) { shim in
                let pid = try #require(shim.shimPid)
                #expect(Procfs.commandLine(pid).hasPrefix("berth-shim serve"), "cmdline of \(pid): \(Procfs.commandLine(pid).debugDescription)")
                // What ps and top show: the binary's name, not "exe" (/proc/self/exe).
                let comm = (try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8)) ?? ""
                #expect(comm == "berth-shim\n", "comm of \(pid): \(comm.debugDescription)")
                // The launcher writes bootstrap.json before the shim starts; the shim
                // adds its own pid as it comes up.
                #expect(await eventually { (try? ShimBootstrap.read(from: shim.bundle))?.shimPid == pid },
                        "bootstrap.json: \(String(describing: try? ShimBootstrap.read(from: shim.bundle)))")
                let written = try ShimBootstrap.read(from: shim.bundle)
                var expected = shim.bootstrap
                expected.shimPid = pid
                #expect(written == expected)
                let client = try await shim.connect()
                let connected = try await client.call(ShimAPI.connect, Empty())
                #expect(connected.shimPid == pid)
                #expect(connected.taskPid == 0)
                // A daemon: its own session, not the launcher's.
                #expect(getsid(pid) == pid)
            }
        }

        /// The launcher spawns the serving shim, which reads `<bundle>/bootstrap.json`;
        /// the launcher must have written that file before the shim looks for it.
        @Test("eight shims started at once all serve")
        func startConcurrently() async throws {
            let count = 8
            var fixtures: [ShimFixture] = []
            defer { _ = fixtures }
            do {
                for _ in 0..<count { fixtures.append(try await ShimFixture.make(args: ["true"])) }
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for fixture in fixtures { group.addTask { try await fixture.start() } }
                    try await group.waitForAll()
                }
                try await Task.sleep(for: .milliseconds(300))
                var dead: [String] = []
                for fixture in fixtures {
                    guard let pid = fixture.shimPid, Procfs.isAlive(pid) else {
                        let bootstrap = FileManager.default.fileExists(atPath: fixture.bundle + "/" + ShimBootstrap.fileName)
                        dead.append("\(fixture.id) (pid \(fixture.shimPid ?? 0), bootstrap.json \(bootstrap ? "present" : "absent") now)")
                        continue
                    }
                    let client = try await fixture.connect()
                    #expect(try await client.call(ShimAPI.connect, Empty()).shimPid == pid)
                }
                #expect(dead.isEmpty, "\(dead.count) of \(count) serving shims exited right after a successful start: \(dead)")
            } catch {
                for fixture in fixtures { await fixture.cleanup() }
                throw error
            }
            for fixture in fixtures { await fixture.cleanup() }
        }
    }
}
