/// config.json read without Codable, for the runtime's `create`, `run` and `exec`.
///
/// Why by hand: JSONDecoder's first decode of a `Spec` in a fresh process builds the
/// metadata of every generic type the synthesized `init(from:)`s use (demangling, and a
/// scan of the binary's ~4,000 protocol conformances per requirement): ~0.6 ms of each
/// `berth-runtime create` here, for a document the runtime reads once. This reader walks
/// the bytes straight into the same structs.
///
/// It takes only what it is sure of and returns nil for anything else, which then goes
/// to JSONDecoder, the one source of error messages: malformed JSON, a missing required
/// field, a value of another type, a number with a fraction or an exponent, an integer out
/// of range, a duplicate key, invalid UTF-8 or a lone surrogate. Unknown keys are skipped,
/// as JSONDecoder skips them; `null` is an absent optional, as with `decodeIfPresent`.
/// SpecQuickDecodeTests checks it against JSONDecoder on real and generated specs.
extension Spec {
    public static func quickDecode(_ bytes: [UInt8]) -> Spec? {
        let reader = QuickJSONReader(bytes)
        do {
            let spec = try reader.spec()
            guard reader.atEnd() else { return nil }
            return spec
        } catch {
            return nil
        }
    }
}

extension Spec.Process {
    /// An exec's `--process` file (runc's format), as `Spec.quickDecode` reads config.json.
    public static func quickDecode(_ bytes: [UInt8]) -> Spec.Process? {
        let reader = QuickJSONReader(bytes)
        guard let process = try? reader.process(), reader.atEnd() else { return nil }
        return process
    }
}

extension QuickJSONReader {
    func spec() throws -> Spec {
        var spec = Spec()
        var version: String?
        try object { key in
            switch key {
            case "ociVersion": version = try string()
            case "process": spec.process = try optional { try process() }
            case "root": spec.root = try optional { try root() }
            case "hostname": spec.hostname = try optional { try string() }
            case "domainname": spec.domainname = try optional { try string() }
            case "mounts": spec.mounts = try optional { try array { try mount() } }
            case "hooks": spec.hooks = try optional { try hooks() }
            case "annotations": spec.annotations = try optional { try stringMap() }
            case "linux": spec.linux = try optional { try linux() }
            default: try skip()
            }
        }
        spec.ociVersion = try required(version)
        return spec
    }

    func root() throws -> Spec.Root {
        var path: String?, readonly: Bool?
        try object { key in
            switch key {
            case "path": path = try string()
            case "readonly": readonly = try optional { try bool() }
            default: try skip()
            }
        }
        return Spec.Root(path: try required(path), readonly: readonly)
    }

    func mount() throws -> Spec.Mount {
        var destination: String?, type: String?, source: String?, options: [String]?
        try object { key in
            switch key {
            case "destination": destination = try string()
            case "type": type = try optional { try string() }
            case "source": source = try optional { try string() }
            case "options": options = try optional { try strings() }
            default: try skip()
            }
        }
        return Spec.Mount(destination: try required(destination), type: type, source: source, options: options)
    }

    package func hooks() throws -> Spec.Hooks {
        var hooks = Spec.Hooks()
        try object { key in
            switch key {
            case "prestart": hooks.prestart = try optional { try array { try hook() } }
            case "createRuntime": hooks.createRuntime = try optional { try array { try hook() } }
            case "createContainer": hooks.createContainer = try optional { try array { try hook() } }
            case "startContainer": hooks.startContainer = try optional { try array { try hook() } }
            case "poststart": hooks.poststart = try optional { try array { try hook() } }
            case "poststop": hooks.poststop = try optional { try array { try hook() } }
            default: try skip()
            }
        }
        return hooks
    }

    func hook() throws -> Spec.Hook {
        var path: String?, args: [String]?, env: [String]?, timeout: Int?
        try object { key in
            switch key {
            case "path": path = try string()
            case "args": args = try optional { try strings() }
            case "env": env = try optional { try strings() }
            case "timeout": timeout = try optional { try integer(Int.self) }
            default: try skip()
            }
        }
        return Spec.Hook(path: try required(path), args: args, env: env, timeout: timeout)
    }

    func process() throws -> Spec.Process {
        var p = Spec.Process()
        var user: Spec.User?, cwd: String?
        try object { key in
            switch key {
            case "terminal": p.terminal = try optional { try bool() }
            case "consoleSize": p.consoleSize = try optional { try consoleSize() }
            case "user": user = try self.user()
            case "args": p.args = try optional { try strings() }
            case "commandLine": p.commandLine = try optional { try string() }
            case "env": p.env = try optional { try strings() }
            case "cwd": cwd = try string()
            case "capabilities": p.capabilities = try optional { try capabilities() }
            case "rlimits": p.rlimits = try optional { try array { try rlimit() } }
            case "noNewPrivileges": p.noNewPrivileges = try optional { try bool() }
            case "apparmorProfile": p.apparmorProfile = try optional { try string() }
            case "oomScoreAdj": p.oomScoreAdj = try optional { try integer(Int.self) }
            case "selinuxLabel": p.selinuxLabel = try optional { try string() }
            default: try skip()
            }
        }
        p.user = try required(user)
        p.cwd = try required(cwd)
        return p
    }

    func consoleSize() throws -> Spec.ConsoleSize {
        var height: UInt32?, width: UInt32?
        try object { key in
            switch key {
            case "height": height = try integer(UInt32.self)
            case "width": width = try integer(UInt32.self)
            default: try skip()
            }
        }
        return Spec.ConsoleSize(height: try required(height), width: try required(width))
    }

    func user() throws -> Spec.User {
        var uid: UInt32?, gid: UInt32?, umask: UInt32?, additionalGids: [UInt32]?, username: String?
        try object { key in
            switch key {
            case "uid": uid = try integer(UInt32.self)
            case "gid": gid = try integer(UInt32.self)
            case "umask": umask = try optional { try integer(UInt32.self) }
            case "additionalGids": additionalGids = try optional { try array { try integer(UInt32.self) } }
            case "username": username = try optional { try string() }
            default: try skip()
            }
        }
        var user = Spec.User(uid: try required(uid), gid: try required(gid), umask: umask, additionalGids: additionalGids)
        user.username = username
        return user
    }

    func capabilities() throws -> Spec.Capabilities {
        var c = Spec.Capabilities()
        try object { key in
            switch key {
            case "bounding": c.bounding = try optional { try strings() }
            case "effective": c.effective = try optional { try strings() }
            case "inheritable": c.inheritable = try optional { try strings() }
            case "permitted": c.permitted = try optional { try strings() }
            case "ambient": c.ambient = try optional { try strings() }
            default: try skip()
            }
        }
        return c
    }

    func rlimit() throws -> Spec.Rlimit {
        var type: String?, hard: UInt64?, soft: UInt64?
        try object { key in
            switch key {
            case "type": type = try string()
            case "hard": hard = try integer(UInt64.self)
            case "soft": soft = try integer(UInt64.self)
            default: try skip()
            }
        }
        return Spec.Rlimit(type: try required(type), hard: try required(hard), soft: try required(soft))
    }
}

extension QuickJSONReader {
    func linux() throws -> Spec.Linux {
        var l = Spec.Linux()
        try object { key in
            switch key {
            case "uidMappings": l.uidMappings = try optional { try array { try idMapping() } }
            case "gidMappings": l.gidMappings = try optional { try array { try idMapping() } }
            case "sysctl": l.sysctl = try optional { try stringMap() }
            case "resources": l.resources = try optional { try resources() }
            case "cgroupsPath": l.cgroupsPath = try optional { try string() }
            case "namespaces": l.namespaces = try optional { try array { try namespace() } }
            case "devices": l.devices = try optional { try array { try device() } }
            case "seccomp": l.seccomp = try optional { try seccomp() }
            case "rootfsPropagation": l.rootfsPropagation = try optional { try string() }
            case "maskedPaths": l.maskedPaths = try optional { try strings() }
            case "readonlyPaths": l.readonlyPaths = try optional { try strings() }
            case "mountLabel": l.mountLabel = try optional { try string() }
            case "personality": l.personality = try optional { try personality() }
            default: try skip()
            }
        }
        return l
    }

    func idMapping() throws -> Spec.IDMapping {
        var containerID: UInt32?, hostID: UInt32?, size: UInt32?
        try object { key in
            switch key {
            case "containerID": containerID = try integer(UInt32.self)
            case "hostID": hostID = try integer(UInt32.self)
            case "size": size = try integer(UInt32.self)
            default: try skip()
            }
        }
        return Spec.IDMapping(containerID: try required(containerID), hostID: try required(hostID), size: try required(size))
    }

    func namespace() throws -> Spec.Namespace {
        var type: String?, path: String?
        try object { key in
            switch key {
            case "type": type = try string()
            case "path": path = try optional { try string() }
            default: try skip()
            }
        }
        return Spec.Namespace(type: try required(type), path: path)
    }

    func device() throws -> Spec.Device {
        var type: String?, path: String?, major: Int64?, minor: Int64?, fileMode: UInt32?, uid: UInt32?, gid: UInt32?
        try object { key in
            switch key {
            case "type": type = try string()
            case "path": path = try string()
            case "major": major = try optional { try integer(Int64.self) }
            case "minor": minor = try optional { try integer(Int64.self) }
            case "fileMode": fileMode = try optional { try integer(UInt32.self) }
            case "uid": uid = try optional { try integer(UInt32.self) }
            case "gid": gid = try optional { try integer(UInt32.self) }
            default: try skip()
            }
        }
        return Spec.Device(type: try required(type), path: try required(path), major: major, minor: minor, fileMode: fileMode, uid: uid, gid: gid)
    }

    func personality() throws -> Spec.Personality {
        var domain: String?, flags: [String]?
        try object { key in
            switch key {
            case "domain": domain = try string()
            case "flags": flags = try optional { try strings() }
            default: try skip()
            }
        }
        return Spec.Personality(domain: try required(domain), flags: flags)
    }

    func seccomp() throws -> Spec.Seccomp {
        var defaultAction: String?, errnoRet: UInt32?, architectures: [String]?, flags: [String]?, listenerPath: String?
        var syscalls: [Spec.Seccomp.Syscall]?
        try object { key in
            switch key {
            case "defaultAction": defaultAction = try string()
            case "defaultErrnoRet": errnoRet = try optional { try integer(UInt32.self) }
            case "architectures": architectures = try optional { try strings() }
            case "flags": flags = try optional { try strings() }
            case "listenerPath": listenerPath = try optional { try string() }
            case "syscalls": syscalls = try optional { try array { try syscall() } }
            default: try skip()
            }
        }
        var s = Spec.Seccomp(defaultAction: try required(defaultAction), defaultErrnoRet: errnoRet, architectures: architectures, syscalls: syscalls)
        s.flags = flags
        s.listenerPath = listenerPath
        return s
    }

    func syscall() throws -> Spec.Seccomp.Syscall {
        var names: [String]?, action: String?, errnoRet: UInt32?, args: [Spec.Seccomp.Arg]?
        try object { key in
            switch key {
            case "names": names = try strings()
            case "action": action = try string()
            case "errnoRet": errnoRet = try optional { try integer(UInt32.self) }
            case "args": args = try optional { try array { try seccompArg() } }
            default: try skip()
            }
        }
        return Spec.Seccomp.Syscall(names: try required(names), action: try required(action), errnoRet: errnoRet, args: args)
    }

    func seccompArg() throws -> Spec.Seccomp.Arg {
        var index: UInt32?, value: UInt64?, valueTwo: UInt64?, op: String?
        try object { key in
            switch key {
            case "index": index = try integer(UInt32.self)
            case "value": value = try integer(UInt64.self)
            case "valueTwo": valueTwo = try optional { try integer(UInt64.self) }
            case "op": op = try string()
            default: try skip()
            }
        }
        return Spec.Seccomp.Arg(index: try required(index), value: try required(value), valueTwo: valueTwo, op: try required(op))
    }

    func resources() throws -> Spec.Resources {
        var r = Spec.Resources()
        try object { key in
            switch key {
            case "devices": r.devices = try optional { try array { try deviceRule() } }
            case "memory": r.memory = try optional { try memory() }
            case "cpu": r.cpu = try optional { try cpu() }
            case "pids": r.pids = try optional { try pids() }
            case "blockIO": r.blockIO = try optional { try blockIO() }
            case "hugepageLimits": r.hugepageLimits = try optional { try array { try hugepageLimit() } }
            case "unified": r.unified = try optional { try stringMap() }
            default: try skip()
            }
        }
        return r
    }

    func deviceRule() throws -> Spec.DeviceRule {
        var allow: Bool?, type: String?, major: Int64?, minor: Int64?, access: String?
        try object { key in
            switch key {
            case "allow": allow = try bool()
            case "type": type = try optional { try string() }
            case "major": major = try optional { try integer(Int64.self) }
            case "minor": minor = try optional { try integer(Int64.self) }
            case "access": access = try optional { try string() }
            default: try skip()
            }
        }
        return Spec.DeviceRule(allow: try required(allow), type: type, major: major, minor: minor, access: access)
    }

    func memory() throws -> Spec.Memory {
        var m = Spec.Memory()
        try object { key in
            switch key {
            case "limit": m.limit = try optional { try integer(Int64.self) }
            case "reservation": m.reservation = try optional { try integer(Int64.self) }
            case "swap": m.swap = try optional { try integer(Int64.self) }
            case "swappiness": m.swappiness = try optional { try integer(UInt64.self) }
            case "disableOOMKiller": m.disableOOMKiller = try optional { try bool() }
            default: try skip()
            }
        }
        return m
    }

    func cpu() throws -> Spec.CPU {
        var c = Spec.CPU()
        try object { key in
            switch key {
            case "shares": c.shares = try optional { try integer(UInt64.self) }
            case "quota": c.quota = try optional { try integer(Int64.self) }
            case "burst": c.burst = try optional { try integer(UInt64.self) }
            case "period": c.period = try optional { try integer(UInt64.self) }
            case "realtimeRuntime": c.realtimeRuntime = try optional { try integer(Int64.self) }
            case "realtimePeriod": c.realtimePeriod = try optional { try integer(UInt64.self) }
            case "cpus": c.cpus = try optional { try string() }
            case "mems": c.mems = try optional { try string() }
            case "idle": c.idle = try optional { try integer(Int64.self) }
            default: try skip()
            }
        }
        return c
    }

    func pids() throws -> Spec.Pids {
        var limit: Int64?
        try object { key in
            switch key {
            case "limit": limit = try integer(Int64.self)
            default: try skip()
            }
        }
        return Spec.Pids(limit: try required(limit))
    }

    func blockIO() throws -> Spec.BlockIO {
        var b = Spec.BlockIO()
        try object { key in
            switch key {
            case "weight": b.weight = try optional { try integer(UInt16.self) }
            case "leafWeight": b.leafWeight = try optional { try integer(UInt16.self) }
            case "weightDevice": b.weightDevice = try optional { try array { try weightDevice() } }
            case "throttleReadBpsDevice": b.throttleReadBpsDevice = try optional { try array { try throttleDevice() } }
            case "throttleWriteBpsDevice": b.throttleWriteBpsDevice = try optional { try array { try throttleDevice() } }
            case "throttleReadIOPSDevice": b.throttleReadIOPSDevice = try optional { try array { try throttleDevice() } }
            case "throttleWriteIOPSDevice": b.throttleWriteIOPSDevice = try optional { try array { try throttleDevice() } }
            default: try skip()
            }
        }
        return b
    }

    func weightDevice() throws -> Spec.WeightDevice {
        var major: Int64?, minor: Int64?, weight: UInt16?, leafWeight: UInt16?
        try object { key in
            switch key {
            case "major": major = try integer(Int64.self)
            case "minor": minor = try integer(Int64.self)
            case "weight": weight = try optional { try integer(UInt16.self) }
            case "leafWeight": leafWeight = try optional { try integer(UInt16.self) }
            default: try skip()
            }
        }
        return Spec.WeightDevice(major: try required(major), minor: try required(minor), weight: weight, leafWeight: leafWeight)
    }

    func throttleDevice() throws -> Spec.ThrottleDevice {
        var major: Int64?, minor: Int64?, rate: UInt64?
        try object { key in
            switch key {
            case "major": major = try integer(Int64.self)
            case "minor": minor = try integer(Int64.self)
            case "rate": rate = try integer(UInt64.self)
            default: try skip()
            }
        }
        return Spec.ThrottleDevice(major: try required(major), minor: try required(minor), rate: try required(rate))
    }

    func hugepageLimit() throws -> Spec.HugepageLimit {
        var pageSize: String?, limit: UInt64?
        try object { key in
            switch key {
            case "pageSize": pageSize = try string()
            case "limit": limit = try integer(UInt64.self)
            default: try skip()
            }
        }
        return Spec.HugepageLimit(pageSize: try required(pageSize), limit: try required(limit))
    }
}
