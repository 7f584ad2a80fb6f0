import BerthAPI
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

extension ShimTests {
    /// Ending a shim: delete and shutdown refuse while the container runs; shutdown after
    /// delete ends the shim and removes its socket; `berth-shim delete` cleans up after a
    /// shim that was killed.
    @Suite("Delete and shutdown")
    struct TeardownTests {
        /// A listening UNIX socket bound at `path` (nil if it cannot be made).
        static func listen(at path: String) -> Int32? {
            let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { return nil }
            var addr = sockaddr_un()
            addr.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &addr.sun_path) { $0.copyBytes(from: Array(path.utf8).prefix($0.count - 1)) }
            let rc = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            guard rc == 0, Glibc.listen(fd, 1) == 0 else { close(fd); return nil }
            return fd
        }

        @Test("delete and shutdown of a running task are FailedPrecondition; after delete, shutdown ends the shim")
        func deleteThenShutdown() async throws {
            try await withShim(["sleep", "100"]) { shim in
                let shimPid = try #require(shim.shimPid)
                let client = try await shim.connect()
                #expect(try await client.call(ShimAPI.connect, Empty()).shimPid == shimPid)
                let pid = try await client.call(ShimAPI.create, ShimCreateRequest(stdio: ShimStdio())).pid
                try await client.call(ShimAPI.start, ShimProcessRequest())

                await expectError(.failedPrecondition, "delete of a running task") {
                    try await client.call(ShimAPI.delete, ShimProcessRequest())
                }
                await expectError(.failedPrecondition, "shutdown with a running task") {
                    try await client.call(ShimAPI.shutdown, Empty())
                }
                #expect(Procfs.isAlive(pid), "the refused calls must leave the container running")
                #expect(Procfs.isAlive(shimPid))

                try await client.call(ShimAPI.kill, ShimKillRequest(signal: SIGKILL))
                #expect(try await client.call(ShimAPI.wait, ShimProcessRequest()).exitStatus == 137)
                let deleted = try await client.call(ShimAPI.delete, ShimProcessRequest())
                #expect(deleted.exitStatus == 137)
                let listed = try await runProgram(Binaries.runtime, ["--root", shim.runtimeRoot, "state", shim.id])
                #expect(listed.status != 0, "the runtime still knows the deleted container: \(listed)")
                let controllers = (try? FileManager.default.contentsOfDirectory(atPath: "/sys/fs/cgroup")) ?? []
                let leftCgroups = controllers.filter { FileManager.default.fileExists(atPath: "/sys/fs/cgroup/\($0)\(shim.cgroupsPath)") }
                #expect(leftCgroups.isEmpty, "cgroups left after task.delete: \(leftCgroups)")

                try await client.call(ShimAPI.shutdown, Empty())
                #expect(await eventually { !Procfs.isAlive(shimPid) }, "the shim still runs 5 s after task.shutdown")
                #expect(!FileManager.default.fileExists(atPath: shim.address), "the shim left its socket behind")
            }
        }

        @Test("shutdown of a shim that never created a task ends it")
        func shutdownIdle() async throws {
            try await withShim(["true"]) { shim in
                let shimPid = try #require(shim.shimPid)
                let client = try await shim.connect()
                try await client.call(ShimAPI.shutdown, Empty())
                #expect(await eventually { !Procfs.isAlive(shimPid) })
                #expect(!FileManager.default.fileExists(atPath: shim.address))
            }
        }

        /// The next task of the same container gets the same socket path, and berthd may
        /// start its shim the moment the old one has answered task.shutdown: the old shim
        /// must have given up the name by then, and never remove it afterwards.
        @Test("a shim gives up its socket path before it answers shutdown, and leaves a new shim's alone")
        func socketPathFreedBeforeTheShutdownAnswer() async throws {
            try await withShim(["true"]) { shim in
                let shimPid = try #require(shim.shimPid)
                let client = try await shim.connect()
                try await client.call(ShimAPI.shutdown, Empty())
                #expect(!FileManager.default.fileExists(atPath: shim.address), "the socket is still there when shutdown has answered")
                // A newcomer binds the same path while the old shim is still exiting.
                let newcomer = try #require(Self.listen(at: shim.address))
                defer { close(newcomer) }
                #expect(await eventually { !Procfs.isAlive(shimPid) })
                #expect(FileManager.default.fileExists(atPath: shim.address), "the exiting shim removed another's socket")
            }
        }

        @Test("berth-shim delete after the shim was SIGKILLed: the container is gone and exit 255 recorded")
        func deleteAfterShimDied() async throws {
            try await withShim(["sleep", "100"]) { shim in
                let shimPid = try #require(shim.shimPid)
                let client = try await shim.connect()
                let pid = try await client.call(ShimAPI.create, ShimCreateRequest(stdio: ShimStdio())).pid
                try await client.call(ShimAPI.start, ShimProcessRequest())
                client.close()

                kill(shimPid, SIGKILL)
                #expect(await eventually { !Procfs.isAlive(shimPid) })
                #expect(Procfs.isAlive(pid), "the container should outlive its shim until cleaned up")
                #expect(ExitRecord.read(from: shim.bundle) == nil)

                let result = try await runProgram(Binaries.shim, ["delete", shim.bundle], directory: shim.bundle)
                #expect(result.status == 0, "\(result)")
                #expect(await eventually { !Procfs.isAlive(pid) }, "the container's init still runs after berth-shim delete")
                let printed = try? JSONDecoder().decode(ExitRecord.self, from: Data(result.stdout.utf8))
                #expect(printed?.exitStatus == 255, "printed: \(result.stdout)")
                #expect(ExitRecord.read(from: shim.bundle)?.exitStatus == 255)
                let state = try await runProgram(Binaries.runtime, ["--root", shim.runtimeRoot, "state", shim.id])
                #expect(state.status != 0, "the runtime still knows the container: \(state)")
                #expect(!FileManager.default.fileExists(atPath: shim.address), "berth-shim delete left the dead shim's socket")
            }
        }

        @Test("berth-shim delete keeps an exit that was recorded before the shim died")
        func deleteKeepsRecordedExit() async throws {
            try await withShim(["sh", "-c", "exit 4"]) { shim in
                let shimPid = try #require(shim.shimPid)
                let client = try await shim.connect()
                try await client.call(ShimAPI.create, ShimCreateRequest(stdio: ShimStdio()))
                try await client.call(ShimAPI.start, ShimProcessRequest())
                #expect(try await client.call(ShimAPI.wait, ShimProcessRequest()).exitStatus == 4)
                client.close()
                kill(shimPid, SIGKILL)
                #expect(await eventually { !Procfs.isAlive(shimPid) })

                let result = try await runProgram(Binaries.shim, ["delete"], directory: shim.bundle)
                #expect(result.status == 0, "\(result)")
                let printed = try? JSONDecoder().decode(ExitRecord.self, from: Data(result.stdout.utf8))
                #expect(printed?.exitStatus == 4, "printed: \(result.stdout)")
                #expect(ExitRecord.read(from: shim.bundle)?.exitStatus == 4)
            }
        }
    }
}
