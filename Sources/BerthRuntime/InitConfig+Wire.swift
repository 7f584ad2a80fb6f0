import BerthOCI

/// The init's config as the runtime hands it over: a flat, length-prefixed binary form
/// written and read by hand, not JSON.
///
/// Why by hand: the init is a fresh process that decodes this once and then execs; with
/// JSONEncoder and JSONDecoder every Codable type met for the first time costs metadata
/// instantiation and protocol-conformance scans, which came to ~0.35 ms in `create` and
/// ~0.85 ms in the init for berthd's default spec, on every container. The form carries
/// what the init reads of the spec (`WireWriter.spec`); `InitConfigWireTests` checks
/// that a config comes back equal.
extension InitConfig {
    func wireBytes() -> [UInt8] {
        var w = WireWriter()
        w.bytes.append(contentsOf: Self.wireMagic)
        w.string(mode.rawValue)
        w.string(id)
        w.string(bundle)
        w.string(rootfs)
        w.optional(fifoFD) { $0.int64(Int64($1)) }
        w.optional(consoleSocketFD) { $0.int64(Int64($1)) }
        w.optional(seccompFilter) { $0.data($1) }
        w.int64(Int64(seccompFlags))
        w.int64(Int64(preserveFDs))
        w.bool(newUserNamespace)
        w.bool(newNetworkNamespace)
        w.bool(noPivot)
        w.process(process)
        w.spec(spec) // only what the init reads of it: see WireWriter.spec
        return w.bytes
    }

    init(wire bytes: [UInt8]) throws {
        var r = WireReader(bytes: bytes)
        guard Array(try r.take(Self.wireMagic.count)) == Self.wireMagic else { throw WireError.malformed("not an init config") }
        guard let mode = Mode(rawValue: try r.string()) else { throw WireError.malformed("mode") }
        self.mode = mode
        id = try r.string()
        bundle = try r.string()
        rootfs = try r.string()
        fifoFD = try r.optional { Int32(truncatingIfNeeded: try $0.int64()) }
        consoleSocketFD = try r.optional { Int32(truncatingIfNeeded: try $0.int64()) }
        seccompFilter = try r.optional { try $0.data() }
        seccompFlags = UInt32(truncatingIfNeeded: try r.int64())
        preserveFDs = Int32(truncatingIfNeeded: try r.int64())
        newUserNamespace = try r.bool()
        newNetworkNamespace = try r.bool()
        noPivot = try r.bool()
        process = try r.process()
        spec = try r.spec()
        guard r.atEnd else { throw WireError.malformed("trailing bytes") }
    }

    static let wireMagic = Array("berth-init-1\n".utf8)
}

enum WireError: Error, CustomStringConvertible {
    case malformed(String)
    var description: String { if case let .malformed(what) = self { return "malformed init config: \(what)" }; return "" }
}

struct WireWriter {
    var bytes: [UInt8] = []

    mutating func int64(_ v: Int64) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func uint64(_ v: UInt64) { int64(Int64(bitPattern: v)) }
    mutating func bool(_ v: Bool) { bytes.append(v ? 1 : 0) }
    mutating func data(_ v: [UInt8]) { int64(Int64(v.count)); bytes.append(contentsOf: v) }
    mutating func string(_ v: String) { data(Array(v.utf8)) }
    mutating func optional<T>(_ v: T?, _ body: (inout WireWriter, T) -> Void) {
        if let v { bool(true); body(&self, v) } else { bool(false) }
    }
    mutating func strings(_ v: [String]?) { optional(v) { w, list in w.int64(Int64(list.count)); list.forEach { w.string($0) } } }
    mutating func map(_ v: [String: String]) {
        int64(Int64(v.count))
        for (key, value) in v.sorted(by: { $0.key < $1.key }) { string(key); string(value) }
    }
    mutating func array<T>(_ v: [T]?, _ body: (inout WireWriter, T) -> Void) {
        optional(v) { w, list in w.int64(Int64(list.count)); for item in list { body(&w, item) } }
    }

    mutating func process(_ p: Spec.Process) {
        optional(p.terminal) { $0.bool($1) }
        optional(p.consoleSize) { $0.uint64(UInt64($1.height)); $0.uint64(UInt64($1.width)) }
        uint64(UInt64(p.user.uid))
        uint64(UInt64(p.user.gid))
        optional(p.user.umask) { $0.uint64(UInt64($1)) }
        array(p.user.additionalGids) { $0.uint64(UInt64($1)) }
        optional(p.user.username) { $0.string($1) }
        strings(p.args)
        optional(p.commandLine) { $0.string($1) }
        strings(p.env)
        string(p.cwd)
        optional(p.capabilities) { w, c in
            w.strings(c.bounding); w.strings(c.effective); w.strings(c.inheritable); w.strings(c.permitted); w.strings(c.ambient)
        }
        array(p.rlimits) { $0.string($1.type); $0.uint64($1.hard); $0.uint64($1.soft) }
        optional(p.noNewPrivileges) { $0.bool($1) }
        optional(p.apparmorProfile) { $0.string($1) }
        optional(p.oomScoreAdj) { $0.int64(Int64($1)) }
        optional(p.selinuxLabel) { $0.string($1) }
    }

    mutating func hooks(_ list: [Spec.Hook]?) {
        array(list) { w, h in
            w.string(h.path); w.strings(h.args); w.strings(h.env); w.optional(h.timeout) { $0.int64(Int64($1)) }
        }
    }

    /// The spec as far as the init reads it: no resources, cgroups path, id mappings,
    /// seccomp profile (its compiled program travels instead) or labels.
    mutating func spec(_ s: Spec) {
        string(s.ociVersion)
        optional(s.process) { $0.process($1) }
        optional(s.root) { $0.string($1.path); $0.optional($1.readonly) { $0.bool($1) } }
        optional(s.hostname) { $0.string($1) }
        optional(s.domainname) { $0.string($1) }
        array(s.mounts) { w, m in
            w.string(m.destination); w.optional(m.type) { $0.string($1) }; w.optional(m.source) { $0.string($1) }; w.strings(m.options)
        }
        optional(s.hooks) { w, h in
            w.hooks(h.prestart); w.hooks(h.createRuntime); w.hooks(h.createContainer)
            w.hooks(h.startContainer); w.hooks(h.poststart); w.hooks(h.poststop)
        }
        optional(s.annotations) { $0.map($1) }
        optional(s.linux) { w, l in
            w.array(l.namespaces) { $0.string($1.type); $0.optional($1.path) { $0.string($1) } }
            w.optional(l.sysctl) { $0.map($1) }
            w.array(l.devices) { w, d in
                w.string(d.type); w.string(d.path); w.optional(d.major) { $0.int64($1) }; w.optional(d.minor) { $0.int64($1) }
                w.optional(d.fileMode) { $0.uint64(UInt64($1)) }; w.optional(d.uid) { $0.uint64(UInt64($1)) }
                w.optional(d.gid) { $0.uint64(UInt64($1)) }
            }
            w.optional(l.rootfsPropagation) { $0.string($1) }
            w.strings(l.maskedPaths)
            w.strings(l.readonlyPaths)
            w.optional(l.personality) { $0.string($1.domain); $0.strings($1.flags) }
        }
    }
}

struct WireReader {
    let bytes: [UInt8]
    var offset = 0

    var atEnd: Bool { offset == bytes.count }

    mutating func take(_ count: Int) throws -> ArraySlice<UInt8> {
        guard count >= 0, count <= bytes.count - offset else { throw WireError.malformed("truncated at byte \(offset)") }
        defer { offset += count }
        return bytes[offset..<(offset + count)]
    }

    mutating func int64() throws -> Int64 {
        var value: Int64 = 0
        for (i, byte) in try take(8).enumerated() { value |= Int64(byte) << (8 * Int64(i)) }
        return value
    }
    mutating func uint64() throws -> UInt64 { UInt64(bitPattern: try int64()) }
    mutating func uint32() throws -> UInt32 {
        let v = try uint64()
        guard v <= UInt64(UInt32.max) else { throw WireError.malformed("value out of range at byte \(offset)") }
        return UInt32(v)
    }
    mutating func bool() throws -> Bool {
        switch try take(1).first! {
        case 0: return false
        case 1: return true
        default: throw WireError.malformed("flag at byte \(offset - 1)")
        }
    }
    mutating func count() throws -> Int {
        let n = try int64()
        guard n >= 0, n <= Int64(bytes.count - offset) else { throw WireError.malformed("count \(n) at byte \(offset)") }
        return Int(n)
    }
    mutating func data() throws -> [UInt8] { Array(try take(try count())) }
    mutating func string() throws -> String { String(decoding: try take(try count()), as: UTF8.self) }
    mutating func optional<T>(_ body: (inout WireReader) throws -> T) throws -> T? { try bool() ? try body(&self) : nil }
    mutating func strings() throws -> [String]? { try array { try $0.string() } }
    mutating func array<T>(_ body: (inout WireReader) throws -> T) throws -> [T]? {
        try optional { r in
            let n = try r.count()
            var out: [T] = []
            out.reserveCapacity(n)
            for _ in 0..<n { out.append(try body(&r)) }
            return out
        }
    }
    mutating func map() throws -> [String: String] {
        let n = try count()
        var out: [String: String] = [:]
        for _ in 0..<n { let key = try string(); out[key] = try string() }
        return out
    }

    mutating func process() throws -> Spec.Process {
        var p = Spec.Process()
        p.terminal = try optional { try $0.bool() }
        p.consoleSize = try optional { Spec.ConsoleSize(height: try $0.uint32(), width: try $0.uint32()) }
        p.user = Spec.User(uid: try uint32(), gid: try uint32())
        p.user.umask = try optional { try $0.uint32() }
        p.user.additionalGids = try array { try $0.uint32() }
        p.user.username = try optional { try $0.string() }
        p.args = try strings()
        p.commandLine = try optional { try $0.string() }
        p.env = try strings()
        p.cwd = try string()
        p.capabilities = try optional { r in
            Spec.Capabilities(bounding: try r.strings(), effective: try r.strings(), inheritable: try r.strings(),
                              permitted: try r.strings(), ambient: try r.strings())
        }
        p.rlimits = try array { Spec.Rlimit(type: try $0.string(), hard: try $0.uint64(), soft: try $0.uint64()) }
        p.noNewPrivileges = try optional { try $0.bool() }
        p.apparmorProfile = try optional { try $0.string() }
        p.oomScoreAdj = try optional { Int(try $0.int64()) }
        p.selinuxLabel = try optional { try $0.string() }
        return p
    }

    mutating func hooks() throws -> [Spec.Hook]? {
        try array { r in
            Spec.Hook(path: try r.string(), args: try r.strings(), env: try r.strings(), timeout: try r.optional { Int(try $0.int64()) })
        }
    }

    mutating func spec() throws -> Spec {
        var s = Spec(ociVersion: try string())
        s.process = try optional { try $0.process() }
        s.root = try optional { Spec.Root(path: try $0.string(), readonly: try $0.optional { try $0.bool() }) }
        s.hostname = try optional { try $0.string() }
        s.domainname = try optional { try $0.string() }
        s.mounts = try array { r in
            Spec.Mount(destination: try r.string(), type: try r.optional { try $0.string() },
                       source: try r.optional { try $0.string() }, options: try r.strings())
        }
        s.hooks = try optional { r in
            var h = Spec.Hooks()
            h.prestart = try r.hooks(); h.createRuntime = try r.hooks(); h.createContainer = try r.hooks()
            h.startContainer = try r.hooks(); h.poststart = try r.hooks(); h.poststop = try r.hooks()
            return h
        }
        s.annotations = try optional { try $0.map() }
        s.linux = try optional { r in
            var l = Spec.Linux(namespaces: try r.array { Spec.Namespace(type: try $0.string(), path: try $0.optional { try $0.string() }) })
            l.sysctl = try r.optional { try $0.map() }
            l.devices = try r.array { r in
                Spec.Device(type: try r.string(), path: try r.string(), major: try r.optional { try $0.int64() },
                            minor: try r.optional { try $0.int64() }, fileMode: try r.optional { try $0.uint32() },
                            uid: try r.optional { try $0.uint32() }, gid: try r.optional { try $0.uint32() })
            }
            l.rootfsPropagation = try r.optional { try $0.string() }
            l.maskedPaths = try r.strings()
            l.readonlyPaths = try r.strings()
            l.personality = try r.optional { Spec.Personality(domain: try $0.string(), flags: try $0.strings()) }
            return l
        }
        return s
    }
}
