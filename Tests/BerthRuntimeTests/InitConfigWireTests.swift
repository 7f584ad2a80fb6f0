@testable import BerthRuntime
import BerthOCI
import Foundation
import Testing

/// The init's config crosses to the init in a hand-written binary form: everything the
/// init reads must come back as it was, and a damaged config must fail clearly.
@Suite struct InitConfigWireTests {
    /// A config that sets every field the form carries, most of them unusually.
    static func fullConfig() -> InitConfig {
        var process = Spec.Process(terminal: true, user: .init(uid: 1000, gid: 100, umask: 0o027, additionalGids: [5, 6]),
                                   args: ["sh", "-c", "echo \"é\" \\ ok"], env: ["A=1", "EMPTY="], cwd: "/work dir",
                                   capabilities: .init(bounding: ["CAP_CHOWN"], effective: [], inheritable: nil,
                                                       permitted: ["CAP_CHOWN", "CAP_KILL"], ambient: ["CAP_KILL"]),
                                   rlimits: [.init(type: "RLIMIT_NOFILE", hard: UInt64.max, soft: 1024)],
                                   noNewPrivileges: true, oomScoreAdj: -500)
        process.consoleSize = .init(height: 30, width: 100)
        process.user.username = "nobody"
        process.commandLine = "cmd /c"
        process.apparmorProfile = "profile"
        process.selinuxLabel = "label"
        var hooks = Spec.Hooks()
        hooks.createContainer = [.init(path: "/bin/hook", args: ["hook", "x"], env: ["H=1"], timeout: 5)]
        hooks.startContainer = [.init(path: "/bin/start")]
        hooks.prestart = []
        var linux = Spec.Linux(namespaces: [.init(type: "pid"), .init(type: "network", path: "/proc/1/ns/net")])
        linux.sysctl = ["net.ipv4.ip_forward": "1", "kernel.shmmax": "65536"]
        linux.devices = [.init(type: "c", path: "/dev/fuse", major: 10, minor: 229, fileMode: 0o666, uid: 0, gid: 0),
                         .init(type: "b", path: "/dev/loop9", major: 7, minor: -1)]
        linux.rootfsPropagation = "rslave"
        linux.maskedPaths = ["/proc/kcore"]
        linux.readonlyPaths = []
        linux.personality = .init(domain: "LINUX32", flags: ["x"])
        let spec = Spec(ociVersion: "1.0.2", process: process, root: .init(path: "rootfs", readonly: true), hostname: "h",
                        domainname: "d", mounts: [.init(destination: "/proc", type: "proc", source: "proc"),
                                                  .init(destination: "/data", type: "bind", source: "/srv", options: ["rbind", "ro"])],
                        hooks: hooks, annotations: ["b": "2", "a": "1"], linux: linux)
        return InitConfig(mode: .create, id: "c1", bundle: "/b", rootfs: "/b/rootfs", spec: spec, process: process,
                          fifoFD: 5, consoleSocketFD: nil, seccompFilter: [1, 2, 3, 0, 255], seccompFlags: 4,
                          preserveFDs: 2, newUserNamespace: true, newNetworkNamespace: false, noPivot: true)
    }

    @Test func everythingTheInitReadsComesBack() throws {
        let config = Self.fullConfig()
        let back = try InitConfig(wire: config.wireBytes())
        #expect(back.mode == config.mode && back.id == config.id && back.bundle == config.bundle && back.rootfs == config.rootfs)
        #expect(back.fifoFD == 5 && back.consoleSocketFD == nil && back.seccompFilter == config.seccompFilter)
        #expect(back.seccompFlags == 4 && back.preserveFDs == 2)
        #expect(back.newUserNamespace && !back.newNetworkNamespace && back.noPivot)
        #expect(back.process == config.process)
        #expect(back.spec == config.initView)
        #expect(back.spec == config.spec) // nothing of this spec is left out of the init's view
    }

    @Test func theInitsViewLeavesOutWhatOnlyTheParentUses() throws {
        var config = Self.fullConfig()
        config.spec.linux?.resources = Spec.Resources()
        config.spec.linux?.cgroupsPath = "/x"
        config.spec.linux?.uidMappings = [.init(containerID: 0, hostID: 1000, size: 1)]
        config.spec.linux?.seccomp = .init(defaultAction: "SCMP_ACT_ERRNO", syscalls: [.init(names: ["mkdir"], action: "SCMP_ACT_ERRNO")])
        let back = try InitConfig(wire: config.wireBytes())
        #expect(back.spec.linux?.resources == nil && back.spec.linux?.cgroupsPath == nil)
        #expect(back.spec.linux?.uidMappings == nil && back.spec.linux?.seccomp == nil)
        #expect(back.spec.linux?.devices == config.spec.linux?.devices)
    }

    @Test func aDamagedConfigFailsClearly() throws {
        let bytes = Self.fullConfig().wireBytes()
        for damaged in [Array(bytes.prefix(bytes.count / 2)), Array("{\"mode\":\"create\"}".utf8), bytes + [0], []] {
            #expect(throws: WireError.self) { try InitConfig(wire: damaged) }
        }
        var flipped = bytes
        flipped[InitConfig.wireMagic.count + 8] = 0xff // inside the mode string: now an unknown mode or a bad length
        #expect(throws: WireError.self) { try InitConfig(wire: flipped) }
    }
}

extension InitConfig {
    /// What the binary form is meant to carry of the spec (WireWriter.spec).
    var initView: Spec {
        var view = Spec(ociVersion: spec.ociVersion, process: spec.process, root: spec.root, hostname: spec.hostname,
                        domainname: spec.domainname, mounts: spec.mounts, hooks: spec.hooks, annotations: spec.annotations)
        if let linux = spec.linux {
            var l = Spec.Linux(namespaces: linux.namespaces)
            l.sysctl = linux.sysctl
            l.devices = linux.devices
            l.rootfsPropagation = linux.rootfsPropagation
            l.maskedPaths = linux.maskedPaths
            l.readonlyPaths = linux.readonlyPaths
            l.personality = linux.personality
            view.linux = l
        }
        return view
    }
}
