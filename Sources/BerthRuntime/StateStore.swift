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
/// The spec itself is kept beside it as `config.json`, the bundle's bytes as create read
/// them: only `exec` needs it, so start, kill, delete and the rest read a few fields
/// instead of decoding the whole spec (and create writes bytes it has instead of
/// encoding it again).
struct SavedState: Codable, Sendable {
    var id: String
    var bundle: String
    var rootfs: String
    var pid: Int32
    /// /proc/<pid>/stat start time of the init: tells a live init from a recycled pid.
    var startTime: UInt64
    var created: String
    var cgroupsPath: String
    /// The spec's hooks (start runs poststart, delete poststop) and annotations (every
    /// hook and `state` report them): what the commands after create need of the spec.
    var hooks: Spec.Hooks?
    var annotations: [String: String]?
    var owner: String = ""
    /// The whole spec, from a state.json written before the spec moved to its own file
    /// (a container created by an earlier version). Read, never written.
    var legacySpec: Spec?

    init(id: String, bundle: String, rootfs: String, pid: Int32, startTime: UInt64, created: String, cgroupsPath: String,
         spec: Spec) {
        self.id = id
        self.bundle = bundle
        self.rootfs = rootfs
        self.pid = pid
        self.startTime = startTime
        self.created = created
        self.cgroupsPath = cgroupsPath
        self.hooks = spec.hooks
        self.annotations = spec.annotations
    }

    enum CodingKeys: String, CodingKey {
        case id, bundle, rootfs, pid, startTime, created, cgroupsPath, hooks, annotations, owner
        case legacySpec = "spec"
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        bundle = try c.decode(String.self, forKey: .bundle)
        rootfs = try c.decode(String.self, forKey: .rootfs)
        pid = try c.decode(Int32.self, forKey: .pid)
        startTime = try c.decode(UInt64.self, forKey: .startTime)
        created = try c.decode(String.self, forKey: .created)
        cgroupsPath = try c.decode(String.self, forKey: .cgroupsPath)
        owner = try c.decodeIfPresent(String.self, forKey: .owner) ?? ""
        legacySpec = try c.decodeIfPresent(Spec.self, forKey: .legacySpec)
        hooks = try c.decodeIfPresent(Spec.Hooks.self, forKey: .hooks) ?? legacySpec?.hooks
        annotations = try c.decodeIfPresent([String: String].self, forKey: .annotations) ?? legacySpec?.annotations
    }
}

extension SavedState {
    /// state.json without Codable, as `Spec.quickDecode` reads config.json: every command
    /// after create (start, kill, state, delete) reads it once in a fresh process, where
    /// JSONDecoder's first use cost ~0.4 ms. nil (JSONDecoder then) for anything unsure,
    /// and for an older state.json that holds the whole spec.
    static func quickDecode(_ bytes: [UInt8]) -> SavedState? {
        let r = QuickJSONReader(bytes)
        var id: String?, bundle: String?, rootfs: String?, created: String?, cgroupsPath: String?, owner: String?
        var pid: Int32?, startTime: UInt64?
        var hooks: Spec.Hooks?, annotations: [String: String]?
        do {
            try r.object { key in
                switch key {
                case "id": id = try r.string()
                case "bundle": bundle = try r.string()
                case "rootfs": rootfs = try r.string()
                case "pid": pid = try r.integer(Int32.self)
                case "startTime": startTime = try r.integer(UInt64.self)
                case "created": created = try r.string()
                case "cgroupsPath": cgroupsPath = try r.string()
                case "owner": owner = try r.optional { try r.string() }
                case "hooks": hooks = try r.optional { try r.hooks() }
                case "annotations": annotations = try r.optional { try r.stringMap() }
                case "spec": throw QuickJSONReader.Unsure() // legacy: the whole spec inside
                default: try r.skip()
                }
            }
            guard r.atEnd() else { return nil }
            var state = SavedState(id: try r.required(id), bundle: try r.required(bundle), rootfs: try r.required(rootfs),
                                   pid: try r.required(pid), startTime: try r.required(startTime), created: try r.required(created),
                                   cgroupsPath: try r.required(cgroupsPath), spec: Spec())
            state.hooks = hooks
            state.annotations = annotations
            state.owner = owner ?? ""
            return state
        } catch {
            return nil
        }
    }
}

extension SavedState {
    /// state.json as JSONEncoder wrote it (sorted keys, nil members left out; never the
    /// legacy spec), by hand: create writes it once in a fresh process.
    func quickJSON() -> [UInt8] {
        var w = QuickJSONWriter()
        w.object { w in
            w.member("annotations", annotations)
            w.member("bundle", bundle)
            w.member("cgroupsPath", cgroupsPath)
            w.member("created", created)
            w.member("hooks", hooks) { $1.write(to: &$0) }
            w.member("id", id)
            w.member("owner", owner)
            w.member("pid", pid)
            w.member("rootfs", rootfs)
            w.member("startTime", startTime)
        }
        return w.bytes
    }
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
    /// The container's spec as create read it from the bundle.
    func specPath(_ id: String) -> String { directory(id) + "/config.json" }
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
        if let state = SavedState.quickDecode(bytes) { return state } // JSONDecoder for the rest, and its errors
        return try JSONDecoder().decode(SavedState.self, from: Data(bytes))
    }

    /// The container's whole spec (for exec): the copy create kept, or the one inside an
    /// older state.json.
    func spec(of state: SavedState) throws -> Spec {
        if let spec = state.legacySpec { return spec }
        let path = specPath(state.id)
        let bytes: [UInt8]
        do {
            bytes = try FileSystem.readFile(path, limit: 64 << 20)
        } catch {
            throw RuntimeError("cannot read the spec of container \"\(state.id)\" (\(path)): \(error)")
        }
        return try decodeSpec(bytes, path: path)
    }

    /// Keeps create's copy of the spec: the bundle's bytes, unchanged.
    func saveSpec(_ id: String, bytes: [UInt8]) throws {
        try FileSystem.writeAtomically(specPath(id), bytes, mode: 0o600)
    }

    func save(_ state: SavedState) throws {
        try FileSystem.writeAtomically(statePath(state.id), state.quickJSON(), mode: 0o600)
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
                              rootfs: state.rootfs, created: state.created, owner: state.owner, annotations: state.annotations)
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

