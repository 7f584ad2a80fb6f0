import CBerthShim

/// What berthd tells a shim (`berth-shim start` on stdin, `shim.adopt`'s params), and what
/// a restarted berthd reads back from `<bundle>/bootstrap.json` (BerthAPI's
/// `ShimBootstrap`; proto-docs/shim.md).
struct Bootstrap {
    static let fileName = "bootstrap.json"

    var id: String
    var namespace: String
    var bundle: String
    var runtime: String
    var runtimeRoot: String
    var address: String
    var oomScoreAdj: Int?
    var shimPid: Int32?

    init(_ json: JSON) throws(ShimError) {
        guard json.isObject else { throw ShimError.invalidParams("the bootstrap must be an object") }
        id = try json.requiredString("id")
        namespace = try json.requiredString("namespace")
        bundle = try json.requiredString("bundle")
        runtime = try json.requiredString("runtime")
        runtimeRoot = try json.requiredString("runtimeRoot")
        address = try json.requiredString("address")
        oomScoreAdj = try json.optionalInt("oomScoreAdj")
        if let pid = json["shimPid"]?.int { shimPid = Int32(truncatingIfNeeded: pid) }
    }

    static func read(from bundle: String) throws(ShimError) -> Bootstrap {
        try Bootstrap(try JSON.parse(try Sys.readFile(bundle + "/" + fileName)))
    }

    var json: JSON {
        var members: [(String, JSON)] = [("address", .string(address)), ("bundle", .string(bundle)), ("id", .string(id)),
                                          ("namespace", .string(namespace))]
        if let oomScoreAdj { members.append(("oomScoreAdj", .int(oomScoreAdj))) }
        members += [("runtime", .string(runtime)), ("runtimeRoot", .string(runtimeRoot))]
        if let shimPid { members.append(("shimPid", .int(shimPid))) }
        return .object(members)
    }

    func write(to bundle: String) throws(ShimError) {
        try Sys.writeAtomically(bundle + "/" + Bootstrap.fileName, json.bytes)
    }
}

/// The exit status the shim records the moment it reaps the init (`<bundle>/exit.json`).
struct ExitRecord {
    static let fileName = "exit.json"

    var pid: Int32
    var exitStatus: Int32
    var exitedAt: String

    /// exit.json's content, and the result of `task.wait` and `task.delete`.
    var json: JSON {
        .object([("exitStatus", .int(exitStatus)), ("exitedAt", .string(exitedAt)), ("pid", .int(pid))])
    }

    static func read(from bundle: String) -> ExitRecord? {
        guard let bytes = try? Sys.readFile(bundle + "/" + fileName, limit: 1 << 16), let json = try? JSON.parse(bytes),
              let pid = json["pid"]?.int, let status = json["exitStatus"]?.int, let at = json["exitedAt"]?.string else { return nil }
        return ExitRecord(pid: Int32(truncatingIfNeeded: pid), exitStatus: Int32(truncatingIfNeeded: status), exitedAt: at)
    }

    func write(to bundle: String) throws(ShimError) {
        try Sys.writeAtomically(bundle + "/" + ExitRecord.fileName, json.bytes)
    }
}

/// exit.json's temporary file, made with the task so that recording the exit is a write
/// and a rename (creating the file cost ~0.15 ms of the exit path here). A shim that dies
/// first leaves an empty `exit.json.tmp-<pid>`, which readers ignore.
final class PreparedExitFile {
    private let path: String
    private let temporary: String
    private var fd: Int32

    init(bundle: String) throws(ShimError) {
        path = bundle + "/" + ExitRecord.fileName
        temporary = path + ".tmp-\(getpid())"
        fd = berth_shim_open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw ShimError.system("open " + temporary, errno: -fd) }
    }

    /// Writes `record` and renames it into place. Use once.
    func commit(_ record: ExitRecord) throws(ShimError) {
        defer { _ = close(fd); fd = -1 }
        guard Sys.writeAll(fd, record.json.bytes) else { throw ShimError.system("write " + temporary, errno: lastErrno) }
        guard rename(temporary, path) == 0 else { throw ShimError.system("rename " + temporary, errno: lastErrno) }
    }
}
