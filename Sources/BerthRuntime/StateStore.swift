#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import BerthOCI
import BerthSystem
#if canImport(Glibc)
import Glibc
#endif

/// What the runtime keeps for a container between commands: `<root>/<id>/state.json`.
struct SavedState: Codable, Sendable {
    var id: String
    var bundle: String
    var rootfs: String
    var pid: Int32
    /// /proc/<pid>/stat start time of the init: tells a live init from a recycled pid.
    var startTime: UInt64
    var created: String
    var cgroupsPath: String
    var spec: Spec
    var owner: String = ""
}

/// The runtime's state directory (`--root`, default /run/berth-runtime).
public struct StateStore: Sendable {
    public let root: String

    public init(root: String) {
        self.root = root
    }

    func directory(_ id: String) -> String { root + "/" + id }
    /// Compiled seccomp programs, shared by the containers of this root.
    var seccompCache: SeccompCache { SeccompCache(directory: root + "/.seccomp") }
    func statePath(_ id: String) -> String { directory(id) + "/state.json" }
    func fifoPath(_ id: String) -> String { directory(id) + "/exec.fifo" }

    /// runc's identifier rule: letters, digits, `_`, `+`, `-`, `.`; not `.` or `..`.
    static func validate(id: String) throws {
        let ok = !id.isEmpty && id != "." && id != ".." && id.utf8.count <= 1024 && id.utf8.allSatisfy { b in
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || b == 0x5f || b == 0x2b || b == 0x2d || b == 0x2e
        }
        if !ok { throw RuntimeError("invalid container id \"\(id)\": use letters, digits, '_', '+', '-' and '.'") }
    }

    func exists(_ id: String) -> Bool { FileSystem.fileType(directory(id)) == S_IFDIR }

    func load(_ id: String) throws -> SavedState {
        try Self.validate(id: id)
        let bytes: [UInt8]
        do {
            bytes = try FileSystem.readFile(statePath(id), limit: 16 << 20)
        } catch let error as SystemError where error.errno == ENOENT {
            throw RuntimeError("container \"\(id)\" does not exist")
        }
        return try JSONDecoder().decode(SavedState.self, from: Data(bytes))
    }

    func save(_ state: SavedState) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try FileSystem.writeAtomically(statePath(state.id), Array(try encoder.encode(state)), mode: 0o600)
    }

    func ids() -> [String] {
        ((try? FileSystem.entries(root)) ?? []).filter { FileSystem.fileType(statePath($0)) == S_IFREG }.sorted()
    }

    /// The status the spec defines, worked out from the process, the fifo and the freezer.
    func status(of state: SavedState) -> String {
        guard ProcessInfoReader.isAlive(pid: state.pid, startTime: state.startTime) else { return "stopped" }
        if FileSystem.fileType(fifoPath(state.id)) != nil { return "created" }
        if let cgroup = try? cgroup(for: state), cgroup.isFrozen { return "paused" }
        return "running"
    }

    func report(_ state: SavedState) -> ContainerState {
        let status = status(of: state)
        return ContainerState(id: state.id, pid: status == "stopped" ? 0 : state.pid, status: status, bundle: state.bundle,
                              rootfs: state.rootfs, created: state.created, owner: state.owner, annotations: state.spec.annotations)
    }
}

/// Facts about processes from /proc.
enum ProcessInfoReader {
    /// Field 22 of /proc/<pid>/stat: the start time in clock ticks since boot.
    static func startTime(pid: Int32) -> UInt64? {
        guard let bytes = try? FileSystem.readFile("/proc/\(pid)/stat", limit: 4096) else { return nil }
        let text = String(decoding: bytes, as: UTF8.self)
        guard let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        // fields[0] is state (field 3); start time is field 22.
        guard fields.count > 19 else { return nil }
        return UInt64(fields[19])
    }

    static func state(pid: Int32) -> Character? {
        guard let bytes = try? FileSystem.readFile("/proc/\(pid)/stat", limit: 4096) else { return nil }
        let text = String(decoding: bytes, as: UTF8.self)
        guard let close = text.lastIndex(of: ")") else { return nil }
        return text[text.index(after: close)...].split(separator: " ").first?.first
    }

    /// Alive, not a zombie, and the same process that was recorded.
    static func isAlive(pid: Int32, startTime: UInt64) -> Bool {
        guard pid > 0, let now = self.startTime(pid: pid), now == startTime else { return false }
        return state(pid: pid) != "Z"
    }
}

