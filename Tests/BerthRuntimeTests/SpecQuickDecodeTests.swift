import BerthAPI
@testable import BerthOCI
@testable import BerthRuntime
import Foundation
import Testing

/// berth-runtime reads config.json without Codable when it can (`Spec.quickDecode`).
/// Whatever it reads must be exactly what JSONDecoder reads, and whatever it is not
/// sure of must be left to JSONDecoder (nil), never read differently.
@Suite struct SpecQuickDecodeTests {
    /// contrib/seccomp/default.json, Berth's default profile (~400 names).
    static let contribProfile = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("contrib/seccomp/default.json").path

    static func viaJSONDecoder(_ bytes: [UInt8]) -> Spec? {
        try? JSONDecoder().decode(Spec.self, from: Data(bytes))
    }

    static func encoded(_ spec: Spec) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return Array(try encoder.encode(spec))
    }

    @Test("the specs Berth writes and runc's own are read as JSONDecoder reads them")
    func realSpecs() throws {
        var specs = [Spec.runtimeDefault(), Spec.runtimeDefault(rootless: true),
                     Spec.containerDefault(namespace: "default", id: "c1", args: ["sh", "-c", "echo hi"])]
        var withProfile = specs[2]
        withProfile.linux?.seccomp = try DefaultSeccompProfile.load(from: Self.contribProfile)
        specs.append(withProfile)
        var documents = try specs.map(Self.encoded)
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("quickdecode-\(getpid())")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let runc = Process()
        runc.executableURL = URL(fileURLWithPath: "/usr/sbin/runc")
        runc.arguments = ["spec", "--bundle", scratch.path]
        if (try? runc.run()) != nil {
            runc.waitUntilExit()
            documents.append(Array(try Data(contentsOf: scratch.appendingPathComponent("config.json"))))
        }
        for document in documents {
            let expected = try #require(Self.viaJSONDecoder(document))
            #expect(Spec.quickDecode(document) == expected)
        }
        #expect(documents.count == 5, "runc spec did not run")
    }

    @Test("2,000 generated specs, every field set or not at random, read alike")
    func generatedSpecs() throws {
        var random = SplitMix(seed: 0x5EED)
        for _ in 0..<2000 {
            let document = try Self.encoded(SpecGenerator.spec(&random))
            let expected = try #require(Self.viaJSONDecoder(document))
            let quick = Spec.quickDecode(document)
            #expect(quick == expected)
            if quick != expected { return }
        }
    }

    @Test("an exec's process file (500 generated) is read as JSONDecoder reads it")
    func generatedProcesses() throws {
        var random = SplitMix(seed: 0xE7EC)
        for _ in 0..<500 {
            let document = Array(try JSONEncoder().encode(SpecGenerator.process(&random)))
            let expected = try JSONDecoder().decode(Spec.Process.self, from: Data(document))
            let quick = Spec.Process.quickDecode(document)
            #expect(quick == expected)
            if quick != expected { return }
        }
        #expect(Spec.Process.quickDecode(Array(#"{"user":{"uid":0,"gid":0}}"#.utf8)) == nil) // no cwd: JSONDecoder's error
    }

    @Test("state.json (300 generated, hooks and annotations or not) is read as JSONDecoder reads it; an older one with the spec inside is left to it")
    func savedStates() throws {
        var random = SplitMix(seed: 0x57A7E)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        for _ in 0..<300 {
            var spec = Spec()
            spec.hooks = SpecGenerator.maybe(&random, SpecGenerator.hooks)
            spec.annotations = SpecGenerator.maybe(&random) { ["k" + SpecGenerator.text(&$0): SpecGenerator.text(&$0)] }
            var state = SavedState(id: SpecGenerator.text(&random), bundle: SpecGenerator.text(&random), rootfs: SpecGenerator.text(&random),
                                   pid: SpecGenerator.int(&random), startTime: SpecGenerator.int(&random), created: SpecGenerator.text(&random),
                                   cgroupsPath: SpecGenerator.text(&random), spec: spec)
            state.owner = SpecGenerator.text(&random)
            let document = Array(try encoder.encode(state))
            let expected = try JSONDecoder().decode(SavedState.self, from: Data(document))
            let quick = try #require(SavedState.quickDecode(document))
            #expect(try encoder.encode(quick) == encoder.encode(expected))
            // What create writes by hand: the same state for JSONDecoder and for the quick reader.
            let written = state.quickJSON()
            #expect(try encoder.encode(JSONDecoder().decode(SavedState.self, from: Data(written))) == Data(document))
            #expect(try encoder.encode(#require(SavedState.quickDecode(written))) == Data(document))
        }
        let legacy = #"{"id":"a","bundle":"/b","rootfs":"/b/r","pid":1,"startTime":2,"created":"t","cgroupsPath":"/c","spec":{"ociVersion":"1.2.0"}}"#
        #expect(SavedState.quickDecode(Array(legacy.utf8)) == nil)
    }

    @Test("a spec written by hand (2,000 generated, and Berth's defaults) is read back by JSONDecoder as it was")
    func quickJSONRoundTrips() throws {
        var random = SplitMix(seed: 0x3717E)
        var specs = [Spec.runtimeDefault(), Spec.containerDefault(namespace: "n", id: "c", args: ["true"])]
        specs[1].linux?.seccomp = try DefaultSeccompProfile.load(from: Self.contribProfile)
        for _ in 0..<2000 { specs.append(SpecGenerator.spec(&random)) }
        for spec in specs {
            let back = try JSONDecoder().decode(Spec.self, from: Data(spec.quickJSON()))
            #expect(back == spec)
            if back != spec { return }
        }
    }

    @Test("the containers.create request berthctl writes by hand is read by JSONDecoder as the request it was")
    func createContainerRequestRoundTrips() throws {
        var random = SplitMix(seed: 0xC0DE)
        for index in 0..<200 {
            var container = Container(id: SpecGenerator.text(&random), spec: SpecGenerator.spec(&random))
            if index % 2 == 0 {
                container.image = SpecGenerator.text(&random)
                container.runtime = .init(name: "runc", options: ["k": SpecGenerator.text(&random)])
                container.snapshotter = "overlayfs"
                container.snapshotKey = SpecGenerator.text(&random)
                container.labels = ["a": SpecGenerator.text(&random), "io.berth/x": "y\\"]
                container.createdAt = "2026-11-26T00:00:00Z"
                container.updatedAt = "2026-11-26T00:00:01Z"
            }
            let request = CreateContainerRequest(namespace: index % 3 == 0 ? nil : "ns\(index)", container: container)
            let back = try JSONDecoder().decode(CreateContainerRequest.self, from: Data(request.quickJSON()))
            #expect(back == request)
            // And as a whole JSON-RPC request: berthd reads its params as these.
            let message = RPCMessage.request(id: Int64(index), method: "containers.create", paramsJSON: request.quickJSON())
            #expect(try RPCMessage.decodeParams(CreateContainerRequest.self, from: message) == request)
        }
    }

    /// Documents the quick reader must leave to JSONDecoder, whether that then reads them
    /// (the number forms) or fails with its own message (the rest).
    static let leftToJSONDecoder: [String] = [
        #"{"ociVersion":"1.2.0","process":{"user":{"uid":1.0,"gid":0},"cwd":"/"}}"#,
        #"{"ociVersion":"1.2.0","process":{"user":{"uid":1e2,"gid":0},"cwd":"/"}}"#,
        #"{"ociVersion":"1.2.0","process":{"user":{"uid":-1,"gid":0},"cwd":"/"}}"#,
        #"{"ociVersion":"1.2.0","process":{"user":{"uid":4294967296,"gid":0},"cwd":"/"}}"#,
        #"{"ociVersion":"1.2.0","process":{"user":{"uid":01,"gid":0},"cwd":"/"}}"#,
        #"{"ociVersion":"1.2.0","ociVersion":"1.0.0"}"#,
        #"{"process":{"user":{"uid":0,"gid":0},"cwd":"/"}}"#,
        #"{"ociVersion":"1.2.0","process":{"user":{"uid":0,"gid":0}}}"#,
        #"{"ociVersion":null}"#,
        #"{"ociVersion":1}"#,
        #"{"ociVersion":"1.2.0","hostname":["h"]}"#,
        #"{"ociVersion":"1.2.0","root":{"path":"r","readonly":1}}"#,
        #"{"ociVersion":"1.2.0","hostname":"\ud800"}"#,
        #"{"ociVersion":"1.2.0","hostname":"\x"}"#,
        #"{"ociVersion":"1.2.0"} x"#,
        #"{"ociVersion":"1.2.0","#,
        #"["ociVersion"]"#,
        "\u{FEFF}{\"ociVersion\":\"1.2.0\"}",
        "{\"ociVersion\":\"1.2.0\",\"hostname\":\"a\u{1}b\"}",
    ]

    @Test("what the quick reader is not sure of is left to JSONDecoder", arguments: leftToJSONDecoder)
    func leftAlone(_ text: String) {
        #expect(Spec.quickDecode(Array(text.utf8)) == nil)
    }

    @Test("invalid UTF-8 is left to JSONDecoder")
    func invalidUTF8() {
        let document = Array(#"{"ociVersion":"1.2.0","hostname":""#.utf8) + [0xC3, 0x28] + Array(#""}"#.utf8)
        #expect(Spec.quickDecode(document) == nil)
    }

    @Test("escapes, surrogate pairs, unknown keys, nulls and the integer limits read as JSONDecoder reads them")
    func edges() throws {
        let documents = [
            #"{"ociVersion":"1.2.0","hostname":"a\"b\\c\/d\b\f\n\r\t\u00e9\ud83d\ude00 é","unknown":{"x":[1,true,null,"s"]}}"#,
            #"{"ociVersion":"1.2.0","root":null,"mounts":[],"annotations":{},"linux":{"resources":{"memory":{"limit":-9223372036854775808,"swap":9223372036854775807,"swappiness":18446744073709551615}}}}"#,
            #" { "ociVersion" : "1.2.0" , "process" : { "user" : { "uid" : 0 , "gid" : 0 } , "cwd" : "/" , "args" : null } } "#,
        ]
        for text in documents {
            let expected = try #require(Self.viaJSONDecoder(Array(text.utf8)), "\(text)")
            #expect(Spec.quickDecode(Array(text.utf8)) == expected, "\(text)")
        }
    }
}

/// A small deterministic generator (SplitMix64).
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Specs with each optional field present or absent at random, and values that test a
/// reader: escapes and non-ASCII text, extreme and negative integers, empty lists.
enum SpecGenerator {
    static func maybe<T>(_ r: inout SplitMix, _ make: (inout SplitMix) -> T) -> T? {
        Bool.random(using: &r) ? make(&r) : nil
    }

    static func text(_ r: inout SplitMix) -> String {
        let pieces = ["a", "Z", "0", " ", "/", "\"", "\\", "\n", "\t", "é", "日本", "😀", "\u{7f}", "\u{1}", "CAP_CHOWN", ""]
        return (0..<Int.random(in: 0...6, using: &r)).map { _ in pieces.randomElement(using: &r)! }.joined()
    }

    static func texts(_ r: inout SplitMix) -> [String] { (0..<Int.random(in: 0...4, using: &r)).map { _ in text(&r) } }

    static func int<T: FixedWidthInteger>(_ r: inout SplitMix, _: T.Type = T.self) -> T {
        [T.min, T.max, 0, 1, T(truncatingIfNeeded: 4096), T.random(in: T.min...T.max, using: &r)].randomElement(using: &r)!
    }

    static func list<T>(_ r: inout SplitMix, _ make: (inout SplitMix) -> T) -> [T] {
        (0..<Int.random(in: 0...3, using: &r)).map { _ in make(&r) }
    }

    static func spec(_ r: inout SplitMix) -> Spec {
        var s = Spec(ociVersion: text(&r))
        s.process = maybe(&r, process)
        s.root = maybe(&r) { Spec.Root(path: text(&$0), readonly: maybe(&$0) { Bool.random(using: &$0) }) }
        s.hostname = maybe(&r, text)
        s.domainname = maybe(&r, text)
        s.mounts = maybe(&r) { list(&$0) { Spec.Mount(destination: text(&$0), type: maybe(&$0, text), source: maybe(&$0, text), options: maybe(&$0, texts)) } }
        s.hooks = maybe(&r, hooks)
        s.annotations = maybe(&r) { r in Dictionary(uniqueKeysWithValues: list(&r) { r in (text(&r), text(&r)) }.map { ($0.0 + UUID().uuidString, $0.1) }) }
        s.linux = maybe(&r, linux)
        return s
    }

    static func process(_ r: inout SplitMix) -> Spec.Process {
        var p = Spec.Process(terminal: maybe(&r) { Bool.random(using: &$0) },
                             user: .init(uid: int(&r), gid: int(&r), umask: maybe(&r) { int(&$0) }, additionalGids: maybe(&r) { list(&$0) { int(&$0) } }),
                             args: maybe(&r, texts), env: maybe(&r, texts), cwd: text(&r),
                             capabilities: maybe(&r) { .init(bounding: maybe(&$0, texts), effective: maybe(&$0, texts), inheritable: maybe(&$0, texts),
                                                             permitted: maybe(&$0, texts), ambient: maybe(&$0, texts)) },
                             rlimits: maybe(&r) { list(&$0) { .init(type: text(&$0), hard: int(&$0), soft: int(&$0)) } },
                             noNewPrivileges: maybe(&r) { Bool.random(using: &$0) }, oomScoreAdj: maybe(&r) { int(&$0) })
        p.consoleSize = maybe(&r) { .init(height: int(&$0), width: int(&$0)) }
        p.commandLine = maybe(&r, text)
        p.apparmorProfile = maybe(&r, text)
        p.selinuxLabel = maybe(&r, text)
        p.user.username = maybe(&r, text)
        return p
    }

    static func hooks(_ r: inout SplitMix) -> Spec.Hooks {
        func some(_ r: inout SplitMix) -> [Spec.Hook]? {
            maybe(&r) { list(&$0) { .init(path: text(&$0), args: maybe(&$0, texts), env: maybe(&$0, texts), timeout: maybe(&$0) { int(&$0) }) } }
        }
        var h = Spec.Hooks()
        h.prestart = some(&r)
        h.createRuntime = some(&r)
        h.createContainer = some(&r)
        h.startContainer = some(&r)
        h.poststart = some(&r)
        h.poststop = some(&r)
        return h
    }

    static func linux(_ r: inout SplitMix) -> Spec.Linux {
        var l = Spec.Linux(namespaces: maybe(&r) { list(&$0) { .init(type: text(&$0), path: maybe(&$0, text)) } })
        l.uidMappings = maybe(&r) { list(&$0) { .init(containerID: int(&$0), hostID: int(&$0), size: int(&$0)) } }
        l.gidMappings = maybe(&r) { list(&$0) { .init(containerID: int(&$0), hostID: int(&$0), size: int(&$0)) } }
        l.sysctl = maybe(&r) { ["k" + text(&$0): text(&$0)] }
        l.resources = maybe(&r, resources)
        l.cgroupsPath = maybe(&r, text)
        l.devices = maybe(&r) { list(&$0) { .init(type: text(&$0), path: text(&$0), major: maybe(&$0) { int(&$0) }, minor: maybe(&$0) { int(&$0) },
                                                  fileMode: maybe(&$0) { int(&$0) }, uid: maybe(&$0) { int(&$0) }, gid: maybe(&$0) { int(&$0) }) } }
        l.seccomp = maybe(&r) { r in
            var s = Spec.Seccomp(defaultAction: text(&r), defaultErrnoRet: maybe(&r) { int(&$0) }, architectures: maybe(&r, texts),
                                 syscalls: maybe(&r) { list(&$0) { .init(names: texts(&$0), action: text(&$0), errnoRet: maybe(&$0) { int(&$0) },
                                                                         args: maybe(&$0) { list(&$0) { .init(index: int(&$0), value: int(&$0), valueTwo: maybe(&$0) { int(&$0) }, op: text(&$0)) } }) } })
            s.flags = maybe(&r, texts)
            s.listenerPath = maybe(&r, text)
            return s
        }
        l.rootfsPropagation = maybe(&r, text)
        l.maskedPaths = maybe(&r, texts)
        l.readonlyPaths = maybe(&r, texts)
        l.mountLabel = maybe(&r, text)
        l.personality = maybe(&r) { .init(domain: text(&$0), flags: maybe(&$0, texts)) }
        return l
    }

    static func resources(_ r: inout SplitMix) -> Spec.Resources {
        var res = Spec.Resources(devices: maybe(&r) { list(&$0) { .init(allow: Bool.random(using: &$0), type: maybe(&$0, text), major: maybe(&$0) { int(&$0) },
                                                                          minor: maybe(&$0) { int(&$0) }, access: maybe(&$0, text)) } },
                                 memory: maybe(&r) { r in
                                     var m = Spec.Memory(limit: maybe(&r) { int(&$0) }, reservation: maybe(&r) { int(&$0) }, swap: maybe(&r) { int(&$0) })
                                     m.swappiness = maybe(&r) { int(&$0) }
                                     m.disableOOMKiller = maybe(&r) { Bool.random(using: &$0) }
                                     return m
                                 },
                                 cpu: maybe(&r) { r in
                                     var c = Spec.CPU(shares: maybe(&r) { int(&$0) }, quota: maybe(&r) { int(&$0) }, period: maybe(&r) { int(&$0) },
                                                      cpus: maybe(&r, text), mems: maybe(&r, text))
                                     c.burst = maybe(&r) { int(&$0) }
                                     c.realtimeRuntime = maybe(&r) { int(&$0) }
                                     c.realtimePeriod = maybe(&r) { int(&$0) }
                                     c.idle = maybe(&r) { int(&$0) }
                                     return c
                                 },
                                 pids: maybe(&r) { .init(limit: int(&$0)) })
        res.blockIO = maybe(&r) { r in
            var b = Spec.BlockIO()
            b.weight = maybe(&r) { int(&$0) }
            b.leafWeight = maybe(&r) { int(&$0) }
            b.weightDevice = maybe(&r) { list(&$0) { .init(major: int(&$0), minor: int(&$0), weight: maybe(&$0) { int(&$0) }, leafWeight: maybe(&$0) { int(&$0) }) } }
            b.throttleReadBpsDevice = maybe(&r) { list(&$0) { .init(major: int(&$0), minor: int(&$0), rate: int(&$0)) } }
            b.throttleWriteBpsDevice = maybe(&r) { list(&$0) { .init(major: int(&$0), minor: int(&$0), rate: int(&$0)) } }
            b.throttleReadIOPSDevice = maybe(&r) { list(&$0) { .init(major: int(&$0), minor: int(&$0), rate: int(&$0)) } }
            b.throttleWriteIOPSDevice = maybe(&r) { list(&$0) { .init(major: int(&$0), minor: int(&$0), rate: int(&$0)) } }
            return b
        }
        res.hugepageLimits = maybe(&r) { list(&$0) { .init(pageSize: text(&$0), limit: int(&$0)) } }
        res.unified = maybe(&r) { ["u" + text(&$0): text(&$0)] }
        return res
    }
}
