import BerthOCI
import BerthSystem
import CSeccomp
import Foundation
import Testing

@testable import BerthRuntime

#if canImport(Glibc)
import Glibc
#endif

// The compiler on its own: what the BPF does for each architecture (evaluated here) and
// what the compiler refuses. SeccompCompilerTests+Kernel.swift loads the programs in
// real processes.

@Suite("Seccomp compiler")
struct SeccompCompilerTests {
    // MARK: the default profile

    @Test func defaultProfileIsFoundAndCompiles() throws {
        let path = try #require(DefaultSeccompProfile.bundledPath)
        #expect(path.hasSuffix("seccomp/default.json"))
        let profile = try DefaultSeccompProfile.load(from: path)
        let program = try SeccompCompiler.compile(profile)
        #expect(!program.filter.isEmpty)
        #expect(program.filter.count % 8 == 0)
        #expect(program.instructionCount <= SeccompProgram.maxInstructions)
        #expect(program.flags == 0)
        #expect(!program.ignoredSyscalls.contains("mkdir"))
        // Every architecture of this kernel's family has its rules; another family's
        // architectures are left out and meet the bad-architecture action (KILL).
        let allow: UInt32 = 0x7fff_0000, eperm: UInt32 = 0x0005_0000 | UInt32(EPERM), enosys: UInt32 = 0x0005_0000 | UInt32(ENOSYS)
        for arch in SeccompBPF.nativeFamily {
            for (name, verdict) in [("getpid", allow), ("mkdir", allow), ("mount", eperm), ("keyctl", eperm), ("clone3", enosys)] {
                let nr = seccompSyscallNumber(name, arch: arch)
                #expect(nr >= 0)
                #expect(try SeccompBPF.evaluate(program, arch: arch.audit, nr: nr) == verdict, "\(name) on \(arch)")
            }
        }
        for arch in SeccompBPF.foreignFamily {
            #expect(try SeccompBPF.evaluate(program, arch: arch.audit, nr: seccompSyscallNumber("getpid", arch: arch)) == 0, "\(arch)")
        }
        // The argument-conditioned rules, on every architecture of the family.
        let newUser: UInt64 = 0x1000_0000, sigchld: UInt64 = 17
        let conditioned: [(String, [UInt64], UInt32)] = [
            ("socket", [1 /* AF_UNIX */, 1], allow), ("socket", [40 /* AF_VSOCK */, 1], eperm),
            ("clone", [sigchld], allow), ("clone", [newUser | sigchld], eperm),
            ("personality", [0xffff_ffff], allow), ("personality", [0x0008], allow), ("personality", [0x0040_0000], eperm),
        ]
        for arch in SeccompBPF.nativeFamily {
            for (name, args, verdict) in conditioned {
                let got = try SeccompBPF.evaluate(program, arch: arch.audit, nr: seccompSyscallNumber(name, arch: arch), args: args)
                #expect(got == verdict, "\(name)\(args) on \(arch)")
            }
        }
    }

    @Test func defaultProfileShape() throws {
        let profile = try DefaultSeccompProfile.loadBundled()
        #expect(profile.defaultAction == "SCMP_ACT_ERRNO")
        #expect(profile.defaultErrnoRet == 1)
        #expect(Set(profile.architectures ?? []) == ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", "SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"])
        let syscalls = profile.syscalls ?? []
        let unconditional = Set(syscalls.filter { $0.action == "SCMP_ACT_ALLOW" && ($0.args ?? []).isEmpty }.flatMap(\.names))
        for name in ["read", "write", "execve", "exit_group", "mkdir", "getpid", "futex", "openat", "rt_sigreturn"] {
            #expect(unconditional.contains(name), "\(name) should be allowed")
        }
        // What moby allows only with CAP_SYS_ADMIN (and other capabilities outside the
        // default set), or never.
        for name in ["mount", "umount2", "unshare", "setns", "bpf", "keyctl", "add_key", "request_key",
                     "kexec_load", "reboot", "init_module", "pivot_root", "open_by_handle_at", "clone3",
                     "clone", "socket", "personality", "perf_event_open", "userfaultfd", "syslog", "acct"] {
            #expect(!unconditional.contains(name), "\(name) must not be allowed unconditionally")
        }
        let clone3 = try #require(syscalls.first { $0.names.contains("clone3") })
        #expect(clone3.action == "SCMP_ACT_ERRNO" && clone3.errnoRet == UInt32(ENOSYS))
    }

    // MARK: actions

    static let actions: [(name: String, errnoRet: UInt32?, value: UInt32)] = [
        ("SCMP_ACT_KILL", nil, 0x0000_0000),
        ("SCMP_ACT_KILL_THREAD", nil, 0x0000_0000),
        ("SCMP_ACT_KILL_PROCESS", nil, 0x8000_0000),
        ("SCMP_ACT_TRAP", nil, 0x0003_0000),
        ("SCMP_ACT_ERRNO", nil, 0x0005_0000 | UInt32(EPERM)),
        ("SCMP_ACT_ERRNO", UInt32(EACCES), 0x0005_0000 | UInt32(EACCES)),
        ("SCMP_ACT_TRACE", nil, 0x7ff0_0000 | UInt32(EPERM)),
        ("SCMP_ACT_TRACE", 4242, 0x7ff0_0000 | 4242),
        ("SCMP_ACT_LOG", nil, 0x7ffc_0000),
        ("SCMP_ACT_ALLOW", nil, 0x7fff_0000),
    ]

    @Test(arguments: actions)
    func everyActionAsARule(action: (name: String, errnoRet: UInt32?, value: UInt32)) throws {
        // A default that differs from every rule action: ERRNO(ENOTSUP) when the rule allows.
        let defaultAction = action.name == "SCMP_ACT_ALLOW" ? "SCMP_ACT_ERRNO" : "SCMP_ACT_ALLOW"
        let profile = Spec.Seccomp(
            defaultAction: defaultAction, defaultErrnoRet: defaultAction == "SCMP_ACT_ERRNO" ? UInt32(ENOTSUP) : nil,
            syscalls: [.init(names: ["getppid"], action: action.name, errnoRet: action.errnoRet)])
        let program = try SeccompCompiler.compile(profile)
        #expect(SeccompBPF.returns(program).contains(action.value), "\(action.name) → \(String(action.value, radix: 16))")
    }

    @Test(arguments: actions)
    func everyActionAsTheDefault(action: (name: String, errnoRet: UInt32?, value: UInt32)) throws {
        let profile = Spec.Seccomp(defaultAction: action.name, defaultErrnoRet: action.errnoRet)
        let program = try SeccompCompiler.compile(profile)
        #expect(SeccompBPF.returns(program).contains(action.value))
    }

    @Test func notifyIsUnsupported() throws {
        let rule = Spec.Seccomp(defaultAction: "SCMP_ACT_ALLOW", syscalls: [.init(names: ["mkdir"], action: "SCMP_ACT_NOTIFY")])
        expectSeccompError(.unsupported, naming: "SCMP_ACT_NOTIFY") { try SeccompCompiler.compile(rule) }
        expectSeccompError(.unsupported, naming: "SCMP_ACT_NOTIFY") { try SeccompCompiler.compile(.init(defaultAction: "SCMP_ACT_NOTIFY")) }
        var listener = Spec.Seccomp(defaultAction: "SCMP_ACT_ALLOW")
        listener.listenerPath = "/run/agent.sock"
        expectSeccompError(.unsupported, naming: "listenerPath") { try SeccompCompiler.compile(listener) }
    }

    @Test func errnoRetOnlyWithErrnoOrTrace() throws {
        let rule = Spec.Seccomp(defaultAction: "SCMP_ACT_ERRNO", syscalls: [.init(names: ["getpid"], action: "SCMP_ACT_ALLOW", errnoRet: 1)])
        expectSeccompError(.invalidArgument, naming: "SCMP_ACT_ALLOW") { try SeccompCompiler.compile(rule) }
        expectSeccompError(.invalidArgument, naming: "SCMP_ACT_KILL") {
            try SeccompCompiler.compile(.init(defaultAction: "SCMP_ACT_KILL", defaultErrnoRet: 1))
        }
        expectSeccompError(.invalidArgument, naming: "70000") {
            try SeccompCompiler.compile(.init(defaultAction: "SCMP_ACT_ERRNO", defaultErrnoRet: 70000))
        }
    }

    @Test func ruleEqualToTheDefaultIsSkipped() throws {
        let bare = try SeccompCompiler.compile(.init(defaultAction: "SCMP_ACT_ERRNO", syscalls: [.init(names: ["getpid"], action: "SCMP_ACT_ALLOW")]))
        // ERRNO without errnoRet is ERRNO(EPERM), the default here, so libseccomp is not asked.
        let redundant = try SeccompCompiler.compile(.init(defaultAction: "SCMP_ACT_ERRNO", defaultErrnoRet: UInt32(EPERM), syscalls: [
            .init(names: ["getpid"], action: "SCMP_ACT_ALLOW"),
            .init(names: ["mkdir"], action: "SCMP_ACT_ERRNO"),
        ]))
        #expect(bare.filter == redundant.filter)
        // A different errno is a different action and gets its rule.
        let different = try SeccompCompiler.compile(.init(defaultAction: "SCMP_ACT_ERRNO", syscalls: [
            .init(names: ["getpid"], action: "SCMP_ACT_ALLOW"),
            .init(names: ["mkdir"], action: "SCMP_ACT_ERRNO", errnoRet: UInt32(EACCES)),
        ]))
        #expect(different.filter != bare.filter)
    }

    // MARK: names, architectures, operators, flags

    @Test func unknownSyscallNamesAreSkipped() throws {
        let program = try SeccompCompiler.compile(.init(defaultAction: "SCMP_ACT_ALLOW", syscalls: [
            .init(names: ["berth_no_such_call", "mkdir", "another_unknown_call"], action: "SCMP_ACT_ERRNO"),
        ]))
        #expect(program.ignoredSyscalls == ["berth_no_such_call", "another_unknown_call"])
        let known = try SeccompCompiler.compile(.init(defaultAction: "SCMP_ACT_ALLOW", syscalls: [.init(names: ["mkdir"], action: "SCMP_ACT_ERRNO")]))
        #expect(program.filter == known.filter)
    }

    @Test func badNamesAreRejectedByName() throws {
        expectSeccompError(.invalidArgument, naming: "SCMP_ACT_FROB") {
            try SeccompCompiler.compile(.init(defaultAction: "SCMP_ACT_FROB"))
        }
        expectSeccompError(.invalidArgument, naming: "SCMP_ACT_SOMETIMES") {
            try SeccompCompiler.compile(.init(defaultAction: "SCMP_ACT_ALLOW", syscalls: [.init(names: ["mkdir"], action: "SCMP_ACT_SOMETIMES")]))
        }
        expectSeccompError(.invalidArgument, naming: "SCMP_ARCH_Z80") {
            try SeccompCompiler.compile(.init(defaultAction: "SCMP_ACT_ALLOW", architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_Z80"]))
        }
        expectSeccompError(.invalidArgument, naming: "x86_64") {
            try SeccompCompiler.compile(.init(defaultAction: "SCMP_ACT_ALLOW", architectures: ["x86_64"]))
        }
        expectSeccompError(.invalidArgument, naming: "SCMP_CMP_ALMOST") {
            try SeccompCompiler.compile(.init(defaultAction: "SCMP_ACT_ALLOW", syscalls: [
                .init(names: ["umask"], action: "SCMP_ACT_ERRNO", args: [.init(index: 0, value: 1, op: "SCMP_CMP_ALMOST")]),
            ]))
        }
        expectSeccompError(.invalidArgument, naming: "index 6") {
            try SeccompCompiler.compile(.init(defaultAction: "SCMP_ACT_ALLOW", syscalls: [
                .init(names: ["umask"], action: "SCMP_ACT_ERRNO", args: [.init(index: 6, value: 1, op: "SCMP_CMP_EQ")]),
            ]))
        }
        var flagged = Spec.Seccomp(defaultAction: "SCMP_ACT_ALLOW")
        flagged.flags = ["SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_FAST"]
        expectSeccompError(.invalidArgument, naming: "SECCOMP_FILTER_FLAG_FAST") { try SeccompCompiler.compile(flagged) }
        flagged.flags = ["SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"]
        expectSeccompError(.unsupported, naming: "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV") { try SeccompCompiler.compile(flagged) }
        expectSeccompError(.invalidArgument, naming: "names is empty") {
            try SeccompCompiler.compile(.init(defaultAction: "SCMP_ACT_ALLOW", syscalls: [.init(names: [], action: "SCMP_ACT_ERRNO")]))
        }
    }

    @Test func architecturesAreAddedToTheNativeOne() throws {
        let rules: [Spec.Seccomp.Syscall] = [.init(names: ["mkdir"], action: "SCMP_ACT_ERRNO")]
        let native = try SeccompCompiler.compile(.init(defaultAction: "SCMP_ACT_ALLOW", syscalls: rules))
        let compat = try SeccompCompiler.compile(.init(defaultAction: "SCMP_ACT_ALLOW", architectures: SeccompBPF.compatArchNames, syscalls: rules))
        for arch in SeccompBPF.nativeFamily {
            let mkdir = seccompSyscallNumber("mkdir", arch: arch), getpid = seccompSyscallNumber("getpid", arch: arch)
            #expect(try SeccompBPF.evaluate(compat, arch: arch.audit, nr: mkdir) == 0x0005_0001, "\(arch)")
            #expect(try SeccompBPF.evaluate(compat, arch: arch.audit, nr: getpid) == 0x7fff_0000, "\(arch)")
            // Without them only the native architecture gets past the arch check.
            let alone = try SeccompBPF.evaluate(native, arch: arch.audit, nr: getpid)
            #expect(arch.name == SeccompBPF.nativeFamily[0].name ? alone == 0x7fff_0000 : alone == 0, "\(arch)")
        }
        // Listing the native architecture again is not an error.
        let again = try SeccompCompiler.compile(.init(defaultAction: "SCMP_ACT_ALLOW", architectures: [SeccompBPF.nativeArchName], syscalls: rules))
        #expect(again.filter == native.filter)
        // Another family's architectures cannot reach this kernel and are left out.
        let foreign = try SeccompCompiler.compile(.init(defaultAction: "SCMP_ACT_ALLOW", architectures: SeccompBPF.foreignArchNames, syscalls: rules))
        #expect(foreign.filter == native.filter)
    }

    @Test func flagsAreReturnedForSeccompSyscall() throws {
        for (names, bits) in [
            (["SECCOMP_FILTER_FLAG_TSYNC"], UInt32(1)),
            (["SECCOMP_FILTER_FLAG_LOG"], 2),
            (["SECCOMP_FILTER_FLAG_SPEC_ALLOW"], 4),
            (["SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"], 7),
        ] {
            var profile = Spec.Seccomp(defaultAction: "SCMP_ACT_ALLOW")
            profile.flags = names
            #expect(try SeccompCompiler.compile(profile).flags == bits)
        }
    }

    @Test(arguments: ["SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ"])
    func everyOperatorCompiles(op: String) throws {
        let program = try SeccompCompiler.compile(.init(defaultAction: "SCMP_ACT_ALLOW", syscalls: [
            .init(names: ["umask"], action: "SCMP_ACT_ERRNO", args: [.init(index: 0, value: 0o22, valueTwo: 0o22, op: op)]),
        ]))
        #expect(SeccompBPF.decode(program.filter).contains { $0.k == 0o22 })
    }

    @Test func sameIndexTwiceBecomesOneRulePerCondition() throws {
        let two = [Spec.Seccomp.Arg(index: 0, value: 0o22, op: "SCMP_CMP_EQ"), .init(index: 0, value: 0o77, op: "SCMP_CMP_EQ")]
        #expect(try SeccompPlan.conditionSets(two, context: "t").map(\.count) == [1, 1])
        let distinct = [Spec.Seccomp.Arg(index: 0, value: 0, op: "SCMP_CMP_EQ"), .init(index: 1, value: 7, op: "SCMP_CMP_EQ")]
        #expect(try SeccompPlan.conditionSets(distinct, context: "t").map(\.count) == [2])
        #expect(try SeccompPlan.conditionSets([], context: "t").map(\.count) == [0])
    }
}
