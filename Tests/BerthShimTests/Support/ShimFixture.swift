import BerthAPI
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// One shim under test in a private directory `/tmp/bst.XXXXXX` (short, so the socket
/// path stays far below sun_path's 108 bytes): the bundle `b/`, the runtime root `rt/`,
/// the socket `s/shim.sock`. The container's cgroup is `/berth-runtime/<id>`, unique
/// per fixture. `cleanup()` removes every trace, whatever state the test left.
final class ShimFixture: Sendable {
    let directory: String
    let id: String
    private let started = Mutex<Int32?>(nil)
    private let clients = Mutex<[BerthClient]>([])

    var bundle: String { directory + "/b" }
    var runtimeRoot: String { directory + "/rt" }
    var address: String { directory + "/s/shim.sock" }
    var cgroupsPath: String { "/berth-runtime/" + id }
    var exitFile: String { bundle + "/exit.json" }
    /// The serving shim's pid, once started.
    var shimPid: Int32? { started.withLock { $0 } }

    private init(directory: String, id: String) {
        self.directory = directory
        self.id = id
    }

    /// A new directory with a bundle whose container runs `args`.
    static func make(args: [String]) async throws -> ShimFixture {
        var template = Array("/tmp/bst.XXXXXX".utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw TestFailure("mkdtemp: \(String(cString: strerror(errno)))")
        }
        let directory = String(cString: made)
        let fixture = ShimFixture(directory: directory, id: "st-" + String(UInt32.random(in: 0...UInt32.max), radix: 16))
        do {
            try FileManager.default.createDirectory(atPath: fixture.bundle, withIntermediateDirectories: true)
            try await TestBundle.make(at: fixture.bundle, args: args, cgroupsPath: fixture.cgroupsPath)
        } catch {
            await fixture.cleanup()
            throw error
        }
        return fixture
    }

    var bootstrap: ShimBootstrap {
        ShimBootstrap(id: id, namespace: "default", bundle: bundle, runtime: Binaries.runtime,
                      runtimeRoot: runtimeRoot, address: address)
    }

    /// Runs `berth-shim start` in the bundle with the bootstrap on stdin, as berthd does;
    /// returns the serving shim's pid.
    @discardableResult
    func start() async throws -> Int32 {
        let input = String(decoding: try JSONEncoder().encode(bootstrap), as: UTF8.self)
        let result = try await runProgram(Binaries.shim, ["start"], directory: bundle, stdin: input, timeout: .seconds(30))
        guard result.status == 0 else { throw TestFailure("berth-shim start failed: \(result)") }
        struct Started: Decodable { let address: String; let pid: Int32 }
        guard let line = result.stdout.split(separator: "\n").last,
              let reply = try? JSONDecoder().decode(Started.self, from: Data(line.utf8)) else {
            throw TestFailure("berth-shim start printed no {address, pid}: \(result)")
        }
        started.withLock { $0 = reply.pid }
        guard reply.address == address else { throw TestFailure("berth-shim start printed address \(reply.address), expected \(address)") }
        return reply.pid
    }

    /// A new connection to the shim, closed by `cleanup()` if the test does not.
    func connect() async throws -> BerthClient {
        let client: BerthClient
        do {
            client = try await BerthClient.connect(to: address, timeout: .seconds(20))
        } catch {
            if let pid = shimPid, !Procfs.isAlive(pid) {
                throw TestFailure("cannot connect to \(address): the serving shim \(pid) is gone, "
                    + "though `berth-shim start` succeeded and the test never stopped it (\(error))")
            }
            throw error
        }
        clients.withLock { $0.append(client) }
        return client
    }

    /// Kills the shim (if it still runs), force-deletes the container through the runtime,
    /// removes the container's cgroups and the directory.
    func cleanup() async {
        clients.withLock { $0.forEach { $0.close() }; $0.removeAll() }
        if let pid = shimPid, Procfs.isAlive(pid), Procfs.commandLine(pid).contains("berth-shim") {
            kill(pid, SIGKILL)
            _ = await eventually(timeout: .seconds(5)) { !Procfs.isAlive(pid) }
        }
        if FileManager.default.fileExists(atPath: runtimeRoot) {
            _ = try? await runProgram(Binaries.runtime, ["--root", runtimeRoot, "delete", "--force", id], timeout: .seconds(30))
        }
        if let controllers = try? FileManager.default.contentsOfDirectory(atPath: "/sys/fs/cgroup") {
            for controller in controllers { rmdir("/sys/fs/cgroup/\(controller)\(cgroupsPath)") }
        }
        try? FileManager.default.removeItem(atPath: directory)
    }
}

/// Runs `body` with a fixture whose container runs `args` (its shim started unless
/// `start` is false), and always cleans up, also when `body` throws.
func withShim<T>(_ args: [String], start: Bool = true, _ body: (ShimFixture) async throws -> T) async throws -> T {
    let fixture = try await ShimFixture.make(args: args)
    do {
        if start { try await fixture.start() }
        let result = try await body(fixture)
        await fixture.cleanup()
        return result
    } catch {
        await fixture.cleanup()
        throw error
    }
}
