#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import BerthCgroups
import BerthOCI
import BerthSystem
import CBerthRuntime
#if canImport(Glibc)
import Glibc
#endif

/// Options of `create` (and `run`), as runc's flags.
public struct CreateOptions: Sendable, Equatable {
    public var bundle: String
    public var pidFile: String?
    public var consoleSocket: String?
    public var preserveFDs: Int32 = 0
    public var noPivot = false

    public init(bundle: String, pidFile: String? = nil, consoleSocket: String? = nil, preserveFDs: Int32 = 0, noPivot: Bool = false) {
        self.bundle = bundle
        self.pidFile = pidFile
        self.consoleSocket = consoleSocket
        self.preserveFDs = preserveFDs
        self.noPivot = noPivot
    }
}

/// The runtime's commands. Each is one call from the CLI; the state between calls
/// lives in the `StateStore`.
public struct Runtime: Sendable {
    public let store: StateStore

    public init(root: String) {
        store = StateStore(root: root)
    }

    /// `create`: sets up the container's namespaces, cgroup and root, and leaves its init
    /// waiting on the exec fifo. Returns the init's pid.
    @discardableResult
    public func create(id: String, options: CreateOptions) throws -> Int32 {
        try createSaving(id: id, options: options).pid
    }

    /// `create`, returning the state it saved (for `run`, which starts and deletes the
    /// container without reading it back).
    func createSaving(id: String, options: CreateOptions) throws -> SavedState {
        try StateStore.validate(id: id)
        let bundle = try absolutePath(options.bundle)
        let (spec, specBytes) = try loadSpec(bundle: bundle)
        guard let process = spec.process else { throw RuntimeError("config.json: process is required to create a container") }
        guard let root = spec.root else { throw RuntimeError("config.json: root is required") }
        let rootfs = root.path.hasPrefix("/") ? root.path : bundle + "/" + root.path
        guard FileSystem.fileType(rootfs) == S_IFDIR else { throw RuntimeError("rootfs \(rootfs) is not a directory") }
        if process.terminal == true && options.consoleSocket == nil {
            throw RuntimeError("process.terminal is true: --console-socket is required")
        }

        try FileSystem.makeDirectory(store.root, mode: 0o711)
        let dir = store.directory(id)
        guard mkdir(dir, 0o711) == 0 else {
            if errno == EEXIST { throw RuntimeError("container \"\(id)\" already exists") }
            throw SystemError(errno: errno, stage: "mkdir \(dir)")
        }
        var cleanup = Cleanup()
        cleanup.add { _ = try? removeTree(dir) }
        defer { cleanup.run() }

        let fifo = store.fifoPath(id)
        guard mkfifo(fifo, 0o622) == 0 else { throw SystemError(errno: errno, stage: "mkfifo \(fifo)") }
        // The init opens it for writing after it has become the process's user: the
        // fifo must be that user's (as seen on the host), whatever the umask made it.
        let hostUID = Self.hostID(process.user.uid, spec.linux?.uidMappings)
        let hostGID = Self.hostID(process.user.gid, spec.linux?.gidMappings)
        guard chmod(fifo, 0o622) == 0, chown(fifo, hostUID, hostGID) == 0 else {
            throw SystemError(errno: errno, stage: "chown \(fifo)")
        }
        let fifoFD = open(fifo, BERTH_O_PATH) // inherited by the init, which reopens it for writing
        guard fifoFD >= 0 else { throw SystemError(errno: errno, stage: "open \(fifo)") }
        defer { close(fifoFD) }

        let cgroupsPath = spec.linux?.cgroupsPath ?? "/berth-runtime/\(id)"
        let cgroup = try Cgroup(path: cgroupsPath)
        let resources = Self.resourcesWithDefaultDevices(spec)
        // The v1 directories and the limits (~1 ms in a dozen hierarchies here) on a
        // second thread while this one clones the init, which joins them after GO. The
        // cgroup2 directory first: the clone starts the init inside it.
        var v1Setup: BackgroundWork?
        if InitLauncher.mayJoinCgroupAfterClone(spec) {
            try cgroup.createUnified()
            v1Setup = BackgroundWork { try cgroup.createV1(); try cgroup.apply(resources) }
        } else {
            try cgroup.create()
        }
        cleanup.add { _ = try? v1Setup?.wait(); _ = try? cgroup.kill(signal: SIGKILL); _ = try? cgroup.remove() }
        if v1Setup == nil { try cgroup.apply(resources) } // a refused limit: the cleanup above removes the cgroup

        let child = try InitLauncher(mode: .create, id: id, bundle: bundle, rootfs: rootfs, spec: spec, process: process,
                                     fifoFD: fifoFD, consoleSocket: options.consoleSocket, preserveFDs: options.preserveFDs,
                                     noPivot: options.noPivot, seccompCache: store.seccompCache)
        // While the init sets itself up (~3 ms), the parent writes what does not depend
        // on its success; state.json, which makes the container exist, only after READY.
        var startTime: UInt64 = 0, created = ""
        let pid = try child.spawnCreate(cgroup: cgroup, v1Setup: v1Setup, hooks: spec.hooks) { pid in
            startTime = ProcessInfoReader.startTime(pid: pid) ?? 0
            created = Timestamp.now()
            try store.saveSpec(id, bytes: specBytes)
        }
        cleanup.add { Glibc.kill(pid, SIGKILL); var status: Int32 = 0; waitpid(pid, &status, 0) }

        let state = SavedState(id: id, bundle: bundle, rootfs: rootfs, pid: pid, startTime: startTime, created: created,
                               cgroupsPath: cgroupsPath, spec: spec)
        try store.save(state)
        if let pidFile = options.pidFile { try writePidFile(pidFile, pid) }
        cleanup.cancel()
        return state
    }

    /// A container id as the host sees it, through the user namespace's mappings.
    static func hostID(_ id: UInt32, _ mappings: [Spec.IDMapping]?) -> UInt32 {
        for m in mappings ?? [] where id >= m.containerID && id - m.containerID < m.size { return m.hostID + (id - m.containerID) }
        return id
    }

    /// The spec's resources, with the device rules every container needs appended after
    /// its own, as runc does: mknod of any node, and the default devices, the pty
    /// devices and the spec's own devices may be used.
    static func resourcesWithDefaultDevices(_ spec: Spec) -> Spec.Resources {
        var resources = spec.linux?.resources ?? Spec.Resources()
        var rules = resources.devices ?? []
        rules += [
            .init(allow: true, type: "c", major: nil, minor: nil, access: "m"),
            .init(allow: true, type: "b", major: nil, minor: nil, access: "m"),
        ]
        let defaults: [(Int64, Int64?)] = [(1, 3), (1, 5), (1, 7), (1, 8), (1, 9), (5, 0), (5, 1), (5, 2), (136, nil), (10, 200)]
        rules += defaults.map { .init(allow: true, type: "c", major: $0.0, minor: $0.1, access: "rwm") }
        for device in spec.linux?.devices ?? [] where device.type == "c" || device.type == "b" {
            rules.append(.init(allow: true, type: device.type, major: device.major, minor: device.minor, access: "rwm"))
        }
        resources.devices = rules
        return resources
    }

    /// The bundle's config.json, decoded, and its bytes (kept with the state for exec).
    func loadSpec(bundle: String) throws -> (Spec, [UInt8]) {
        let path = bundle + "/config.json"
        let bytes: [UInt8]
        do {
            bytes = try FileSystem.readFile(path, limit: 64 << 20)
        } catch {
            throw RuntimeError("cannot read \(path): \(error)")
        }
        return (try decodeSpec(bytes, path: path), bytes)
    }
}

/// A config.json's spec; a malformed one is an error naming the file and the field.
func decodeSpec(_ bytes: [UInt8], path: String) throws -> Spec {
    if let spec = Spec.quickDecode(bytes) { return spec } // JSONDecoder for the rest, and its errors
    do {
        return try JSONDecoder().decode(Spec.self, from: Data(bytes))
    } catch let error as DecodingError {
        throw RuntimeError("\(path): \(describe(error))")
    }
}

/// Undo actions run in reverse unless cancelled: a failed create leaves nothing behind.
struct Cleanup {
    private var actions: [() -> Void] = []
    private var cancelled = false

    mutating func add(_ action: @escaping () -> Void) { actions.append(action) }
    mutating func cancel() { cancelled = true }

    func run() {
        guard !cancelled else { return }
        for action in actions.reversed() { action() }
    }
}

func absolutePath(_ path: String) throws -> String {
    if path.hasPrefix("/") { return path }
    var buffer = [CChar](repeating: 0, count: Int(PATH_MAX))
    guard getcwd(&buffer, buffer.count) != nil else { throw SystemError(errno: errno, stage: "getcwd") }
    let cwd = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    return path == "." ? cwd : cwd + "/" + path
}

func writePidFile(_ path: String, _ pid: Int32) throws {
    let target = try absolutePath(path)
    try FileSystem.writeAtomically(target, Array("\(pid)".utf8), mode: 0o644)
}

/// Removes a directory tree (the runtime's own state only: no symlinks followed).
func removeTree(_ path: String) throws {
    if FileSystem.fileType(path) == S_IFDIR {
        for name in try FileSystem.entries(path) { try removeTree(path + "/" + name) }
        if rmdir(path) != 0 && errno != ENOENT { throw SystemError(errno: errno, stage: "rmdir \(path)") }
    } else if unlink(path) != 0 && errno != ENOENT {
        throw SystemError(errno: errno, stage: "unlink \(path)")
    }
}

func describe(_ error: DecodingError) -> String {
    func path(_ keys: [any CodingKey]) -> String {
        keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
    }
    switch error {
    case let .typeMismatch(type, ctx): return "\(path(ctx.codingPath)): expected \(type)"
    case let .valueNotFound(type, ctx): return "\(path(ctx.codingPath)): expected \(type), found null"
    case let .keyNotFound(key, ctx): return "\(path(ctx.codingPath + [key])): required field missing"
    case let .dataCorrupted(ctx): return "\(path(ctx.codingPath)) \(ctx.debugDescription)"
    @unknown default: return "\(error)"
    }
}
