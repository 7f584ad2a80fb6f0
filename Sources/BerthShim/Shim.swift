#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import BerthAPI
import BerthRPC
import BerthSystem
import CBerthLinux
import CBerthRuntime
import Logging
import NIOPosix
#if canImport(Glibc)
import Glibc
#endif

/// berth-shim's three commands. `start` is run by berthd in the bundle directory with
/// the bootstrap on stdin; it binds the socket, starts the serving shim in a new
/// session, prints `{"address","pid"}` and exits. `serve` is that shim. `delete` cleans
/// up after a shim that died.
public enum Shim {
    /// The listening socket's descriptor in the serving shim.
    static let listenFD: Int32 = 3

    public static func start() throws {
        let input = readAll(fd: 0)
        var bootstrap = try JSONDecoder().decode(ShimBootstrap.self, from: Data(input))
        // Written before the serving shim starts: it reads it at once.
        bootstrap.shimPid = nil
        try launchServer(address: bootstrap.address, ["serve", bootstrap.bundle]) {
            try bootstrap.write(to: bootstrap.bundle)
        }
    }

    /// What `start` and `spare` share: binds `address` (its directory 0700), runs
    /// `beforeSpawn`, starts `berth-shim ARGUMENTS` in a new session (detached from
    /// berthd: it survives berthd's restarts) with the socket as descriptor 3, and prints
    /// `{"address","pid"}`.
    static func launchServer(address: String, _ arguments: [String], beforeSpawn: () throws -> Void = {}) throws {
        try FileSystem.makeDirectory(FileSystem.parentDirectory(of: address), mode: 0o700)
        let listener = try bindListener(address)
        defer { close(listener) }
        try beforeSpawn()
        var options = SpawnOptions()
        options.extra = [(listener, listenFD)]
        options.newSession = true
        let pid = try spawnProcess("/proc/self/exe", ["berth-shim"] + arguments, options)
        print(String(decoding: try WireJSON.encode(ShimStarted(address: address, pid: pid)), as: UTF8.self))
    }

    /// The shim proper: serves the task of `bundle`, or (`spareAddress`) waits to be
    /// adopted for one first (Spare.swift).
    public static func serve(bundle: String, spareAddress: String? = nil) async throws {
        _ = berth_set_child_subreaper()
        let reaper = Reaper()
        try await reaper.start()
        let bootstrap: ShimBootstrap
        if let spareAddress {
            bootstrap = awaitAdoption(spareAddress: spareAddress)
        } else {
            var read = try ShimBootstrap.read(from: bundle)
            setOOMScoreAdj(read.oomScoreAdj)
            // Record who serves this bundle, for a restarted berthd and for `berth-shim delete`.
            read.shimPid = getpid()
            try read.write(to: bundle)
            bootstrap = read
        }
        var logger = Logger(label: "berth-shim")
        logger.logLevel = .error
        let done = AsyncStream<Void>.makeStream()
        let service = TaskService(bootstrap: bootstrap, reaper: reaper) { done.continuation.yield() }
        var router = Router()
        service.register(&router)
        let server = APIServer(options: .init(path: bootstrap.address), router: router, logger: logger)
        try await server.start(listenFD: listenFD)
        for await _ in done.stream { break }
        try await Task.sleep(for: .milliseconds(50)) // let the shutdown response go out
        await server.stop()
        // No unlink here: task.shutdown removed the name, which may be another shim's now.
    }

    /// `berth-shim delete`, run in the bundle of a shim that died: force-deletes the
    /// container through the runtime and records exit 255 when no exit was recorded.
    public static func delete(bundle: String) throws {
        let bootstrap = try ShimBootstrap.read(from: bundle)
        let words: [String] = [bootstrap.runtime, "--root", bootstrap.runtimeRoot, "delete", "--force", bootstrap.id]
        if let pid = try? spawnProcess(bootstrap.runtime, words, SpawnOptions()) { _ = waitForChild(pid) }
        let record = ExitRecord.read(from: bundle) ?? ExitRecord(pid: 0, exitStatus: 255, exitedAt: Timestamp.now())
        if ExitRecord.read(from: bundle) == nil { try record.write(to: bundle) }
        unlink(bootstrap.address)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        print(String(decoding: try encoder.encode(record), as: UTF8.self))
    }

    static func bindListener(_ path: String) throws -> Int32 {
        unlink(path)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SystemError(errno: errno, stage: "socket") }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: addr.sun_path) else { close(fd); throw SystemError(errno: ENAMETOOLONG, stage: "shim socket \(path)") }
        withUnsafeMutableBytes(of: &addr.sun_path) { $0.copyBytes(from: bytes) }
        let previous = umask(0o177)
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        umask(previous)
        guard rc == 0, listen(fd, 64) == 0 else {
            let err = errno
            close(fd)
            throw SystemError(errno: err, stage: "bind shim socket \(path)")
        }
        return fd
    }

    static func readAll(fd: Int32) -> [UInt8] {
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return out }
            out += chunk[0..<n]
        }
    }
}
