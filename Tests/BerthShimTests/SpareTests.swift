import BerthAPI
import Foundation
import Testing

extension ShimTests {
    /// `berth-shim spare ADDRESS` and `shim.adopt`, as berthd drives them.
    @Suite("Spare")
    struct SpareTests {
        /// Starts a spare beside the fixture's bundle; returns what the launcher printed.
        func startSpare(_ fixture: ShimFixture) async throws -> ShimStarted {
            let address = fixture.directory + "/s/spare-1.sock"
            let result = try await runProgram(Binaries.shim, ["spare", address], timeout: .seconds(30))
            try #require(result.status == 0, "\(result)")
            let line = try #require(result.stdout.split(separator: "\n").last)
            return try JSONDecoder().decode(ShimStarted.self, from: Data(line.utf8))
        }

        /// A spare for `fixture` and a client connected to it, as berthd holds; the spare
        /// is killed at the end if it is still there.
        func withSpare(_ fixture: ShimFixture, _ body: (ShimStarted, BerthClient) async throws -> Void) async throws {
            let spare = try await startSpare(fixture)
            defer { if Procfs.isAlive(spare.pid) { kill(spare.pid, SIGKILL) } }
            let client = try await BerthClient.connect(to: spare.address)
            defer { client.close() }
            try await body(spare, client)
        }

        @Test("adopt: the spare binds the task's socket, writes bootstrap.json and serves the task like a started shim")
        func adoption() async throws {
            try await withShim(["true"], start: false) { fixture in
                try await withSpare(fixture) { spare, client in
                    let adopted = try await client.call(SpareAPI.adopt, fixture.bootstrap)
                    #expect(adopted == ShimStarted(address: fixture.address, pid: spare.pid))
                    #expect(!FileManager.default.fileExists(atPath: spare.address), "the spare's own socket name is gone")
                    var expected = fixture.bootstrap
                    expected.shimPid = spare.pid
                    #expect(try ShimBootstrap.read(from: fixture.bundle) == expected)
                    #expect(Procfs.commandLine(spare.pid).hasPrefix("berth-shim serve \(fixture.bundle)"), "\(Procfs.commandLine(spare.pid).debugDescription)")

                    let task = try await BerthClient.connect(to: fixture.address)
                    defer { task.close() }
                    #expect(try await task.call(ShimAPI.connect, Empty()).shimPid == spare.pid)
                    let created = try await task.call(ShimAPI.create, ShimCreateRequest(stdio: ShimStdio()))
                    #expect(created.pid > 0)
                    _ = try await task.call(ShimAPI.start, ShimProcessRequest())
                    let exit = try await task.call(ShimAPI.wait, ShimProcessRequest(), timeout: .seconds(20))
                    #expect(exit.exitStatus == 0)
                    _ = try await task.call(ShimAPI.delete, ShimProcessRequest())
                    _ = try? await task.call(ShimAPI.shutdown, Empty())
                    #expect(await eventually { !Procfs.isAlive(spare.pid) })
                }
            }
        }

        @Test("a spare whose client goes away before adopting exits, leaving nothing")
        func clientGone() async throws {
            try await withShim(["true"], start: false) { fixture in
                let spare = try await startSpare(fixture)
                let client = try await BerthClient.connect(to: spare.address)
                client.close()
                #expect(await eventually { !Procfs.isAlive(spare.pid) })
                #expect(!FileManager.default.fileExists(atPath: spare.address))
            }
        }

        @Test("bad adoptions are answered with a clear error and the spare exits: another method, a bundle that does not exist")
        func badAdoptions() async throws {
            try await withShim(["true"], start: false) { fixture in
                try await withSpare(fixture) { spare, client in
                    let wrong = await #expect(throws: BerthError.self) { try await client.call(ShimAPI.connect, Empty()) }
                    #expect(wrong?.message.contains("shim.adopt") == true, "\(String(describing: wrong))")
                    #expect(await eventually { !Procfs.isAlive(spare.pid) })
                }
            }
            try await withShim(["true"], start: false) { fixture in
                try await withSpare(fixture) { spare, client in
                    var bootstrap = fixture.bootstrap
                    bootstrap.bundle = fixture.directory + "/no-such-bundle"
                    let failed = await #expect(throws: BerthError.self) { try await client.call(SpareAPI.adopt, bootstrap) }
                    #expect(failed?.message.contains("no-such-bundle") == true, "\(String(describing: failed))")
                    #expect(await eventually { !Procfs.isAlive(spare.pid) })
                    #expect(!FileManager.default.fileExists(atPath: fixture.address), "no task socket was bound")
                }
            }
        }
    }
}
