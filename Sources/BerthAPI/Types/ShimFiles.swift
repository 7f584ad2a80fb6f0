#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import BerthSystem
#if canImport(Glibc)
import Glibc
#endif

/// What berthd tells a shim it starts (`berth-shim start` reads it on stdin), and what a
/// restarted berthd reads back from the bundle to find the shim again.
public struct ShimBootstrap: Codable, Sendable, Equatable {
    public var id: String
    public var namespace: String
    /// The OCI bundle: config.json, and the shim's own files (exit.json, logs).
    public var bundle: String
    /// The OCI runtime binary (berth-runtime, runc or crun) and its --root.
    public var runtime: String
    public var runtimeRoot: String
    /// The shim's socket path (see `ShimBootstrap.socketPath`).
    public var address: String
    /// oom_score_adj for the shim: one above berthd's, so the kernel kills it first.
    public var oomScoreAdj: Int?
    /// Filled in by the launcher: the pid of the serving shim.
    public var shimPid: Int32?

    public init(id: String, namespace: String, bundle: String, runtime: String, runtimeRoot: String,
                address: String, oomScoreAdj: Int? = nil) {
        self.id = id
        self.namespace = namespace
        self.bundle = bundle
        self.runtime = runtime
        self.runtimeRoot = runtimeRoot
        self.address = address
        self.oomScoreAdj = oomScoreAdj
    }

    public static let fileName = "bootstrap.json"

    /// A socket path under `directory` that always fits sockaddr_un's 108 bytes: a
    /// 64-bit FNV-1a hash of namespace and id, in hex.
    public static func socketPath(directory: String, namespace: String, id: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in (namespace + "/" + id).utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return directory + "/" + String(repeating: "0", count: 16 - hex.count) + hex + ".sock"
    }

    public func write(to bundle: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        try FileSystem.writeAtomically(bundle + "/" + Self.fileName, Array(try encoder.encode(self)), mode: 0o600)
    }

    public static func read(from bundle: String) throws -> ShimBootstrap {
        let bytes = try FileSystem.readFile(bundle + "/" + fileName, limit: 1 << 20)
        return try JSONDecoder().decode(ShimBootstrap.self, from: Data(bytes))
    }
}

/// What `berth-shim start` and `spare` print, and what a spare answers when it is adopted.
public struct ShimStarted: Codable, Sendable, Equatable {
    public var address: String
    public var pid: Int32
    public init(address: String, pid: Int32) {
        self.address = address
        self.pid = pid
    }
}

/// The one call a spare shim answers (proto-docs/shim.md, "Spare shims").
public enum SpareAPI {
    public static let adopt = APIMethod<ShimBootstrap, ShimStarted>("shim.adopt")
}

/// The exit status a shim records the moment it reaps a task's init (`<bundle>/exit.json`,
/// written to a temporary file and renamed: it outlives the shim and berthd, not the host,
/// like the container it reports on).
public struct ExitRecord: Codable, Sendable, Equatable {
    public var pid: Int32
    public var exitStatus: Int32
    public var exitedAt: String

    public static let fileName = "exit.json"

    public init(pid: Int32, exitStatus: Int32, exitedAt: String) {
        self.pid = pid
        self.exitStatus = exitStatus
        self.exitedAt = exitedAt
    }

    public func write(to bundle: String) throws {
        try FileSystem.writeAtomically(bundle + "/" + Self.fileName, try encoded(), mode: 0o600)
    }

    /// The file's bytes (sorted keys, as berth-shim writes it).
    public func encoded() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return Array(try encoder.encode(self))
    }

    public static func read(from bundle: String) -> ExitRecord? {
        guard let bytes = try? FileSystem.readFile(bundle + "/" + fileName, limit: 1 << 16) else { return nil }
        return try? JSONDecoder().decode(ExitRecord.self, from: Data(bytes))
    }
}
