import BerthOCI
import BerthSystem
import Foundation
import Testing

@testable import BerthRuntime

#if canImport(Glibc)
import Glibc
#endif

// The kernel's verdict: each filter is loaded by the C probe (SeccompTestSupport.swift)
// in a process of its own, since this test process is threaded and must not fork, and
// the result of each probe syscall is read back from its output.

extension SeccompCompilerTests {
    @Test func deniedMkdirFailsWithEPERMInARealProcess() throws {
        let scratch = try ProbeScratch()
        defer { scratch.remove() }
        let program = try SeccompCompiler.compile(.init(defaultAction: "SCMP_ACT_ALLOW", syscalls: [
            .init(names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO", errnoRet: UInt32(EPERM)),
        ]))
        let run = try SeccompProbe.run(program, scratch: scratch, probes: ["mkdir:\(scratch.path)/made", "getpid"])
        #expect(run.termination == .exited(0), "\(run.output)")
        #expect(run["load"] == "OK")
        #expect(run["mkdir:\(scratch.path)/made"] == "EPERM")
        #expect(run["getpid"] == "OK")
        #expect(access("\(scratch.path)/made", F_OK) != 0)

        // The same probe without a filter creates the directory: the EPERM was the filter's.
        let free = try SeccompProbe.run(nil, scratch: scratch, probes: ["mkdir:\(scratch.path)/made"])
        #expect(free["mkdir:\(scratch.path)/made"] == "OK")
    }

    @Test func defaultProfileIsEnforcedByTheKernel() throws {
        let scratch = try ProbeScratch()
        defer { scratch.remove() }
        let program = try SeccompCompiler.compile(try DefaultSeccompProfile.loadBundled())
        let probes = [
            "getpid", "mkdir:\(scratch.path)/d", "fork", "unix_socket", "personality:0xffffffff",
            "unshare_newns", "keyctl", "clone_newuser", "clone3", "vsock_socket", "personality:0x0400000",
            "mount", "umask:022",
        ]
        let run = try SeccompProbe.run(program, scratch: scratch, probes: probes)
        #expect(run.termination == .exited(0), "\(run.output)")
        #expect(run["load"] == "OK")
        for allowed in ["getpid", "mkdir:\(scratch.path)/d", "fork", "unix_socket", "personality:0xffffffff", "umask:022"] {
            #expect(run[allowed] == "OK", "\(allowed): \(run.output)")
        }
        for denied in ["unshare_newns", "keyctl", "clone_newuser", "vsock_socket", "personality:0x0400000", "mount"] {
            #expect(run[denied] == "EPERM", "\(denied): \(run.output)")
        }
        #expect(run["clone3"] == "ENOSYS", "libc falls back to clone on ENOSYS: \(run.output)")

        // Unfiltered, the same calls are not refused with EPERM (we are root), so the
        // verdicts above are the filter's.
        let free = try SeccompProbe.run(nil, scratch: scratch, probes: ["unshare_newns", "keyctl", "clone3", "personality:0xffffffff"])
        #expect(free["unshare_newns"] == "OK" && free["keyctl"] != "EPERM" && free["clone3"] != "ENOSYS", "\(free.output)")
    }

    @Test func shellAndCoreutilsRunUnderTheDefaultProfile() throws {
        let scratch = try ProbeScratch()
        defer { scratch.remove() }
        let program = try SeccompCompiler.compile(try DefaultSeccompProfile.loadBundled())
        let script = "mkdir d && echo x > d/f && ls d >/dev/null && cat d/f >/dev/null && rm -r d && (sleep 0 &) && wait && echo shell=OK"
        let run = try SeccompProbe.run(program, scratch: scratch, probes: ["--", "/bin/sh", "-c", script])
        #expect(run.termination == .exited(0), "\(run.output)")
        #expect(run["load"] == "OK" && run["shell"] == "OK", "\(run.output)")
    }

    @Test func argumentConditionsAreEnforced() throws {
        let scratch = try ProbeScratch()
        defer { scratch.remove() }
        // umask never fails by itself, so any error is the filter's.
        func verdicts(_ args: [Spec.Seccomp.Arg], _ inputs: [String]) throws -> [String: String] {
            let program = try SeccompCompiler.compile(.init(defaultAction: "SCMP_ACT_ALLOW", syscalls: [
                .init(names: ["umask"], action: "SCMP_ACT_ERRNO", errnoRet: UInt32(EACCES), args: args),
            ]))
            let run = try SeccompProbe.run(program, scratch: scratch, probes: inputs.map { "umask:" + $0 })
            #expect(run.termination == .exited(0), "\(run.output)")
            return Dictionary(uniqueKeysWithValues: inputs.map { ($0, run["umask:" + $0] ?? "missing") })
        }
        let cases: [(String, UInt64, UInt64?, [String: String])] = [
            ("SCMP_CMP_EQ", 0o22, nil, ["022": "EACCES", "023": "OK"]),
            ("SCMP_CMP_NE", 0o22, nil, ["022": "OK", "023": "EACCES"]),
            ("SCMP_CMP_LT", 0o22, nil, ["021": "EACCES", "022": "OK"]),
            ("SCMP_CMP_LE", 0o22, nil, ["022": "EACCES", "023": "OK"]),
            ("SCMP_CMP_GT", 0o22, nil, ["022": "OK", "023": "EACCES"]),
            ("SCMP_CMP_GE", 0o22, nil, ["021": "OK", "022": "EACCES"]),
            // (arg & 0o700) == 0o700
            ("SCMP_CMP_MASKED_EQ", 0o700, 0o700, ["777": "EACCES", "700": "EACCES", "077": "OK", "600": "OK"]),
        ]
        for (op, value, valueTwo, expected) in cases {
            let got = try verdicts([.init(index: 0, value: value, valueTwo: valueTwo, op: op)], Array(expected.keys))
            #expect(got == expected, "\(op)")
        }
        // Two conditions on the same index: either matches (runc's one rule per condition).
        let either = try verdicts([.init(index: 0, value: 0o22, op: "SCMP_CMP_EQ"), .init(index: 0, value: 0o77, op: "SCMP_CMP_EQ")],
                                  ["022", "077", "011"])
        #expect(either == ["022": "EACCES", "077": "EACCES", "011": "OK"])
    }

    @Test func conditionsOnDifferentArgumentsMustAllMatch() throws {
        let scratch = try ProbeScratch()
        defer { scratch.remove() }
        // getpriority(which, who): denied only for which == PRIO_PROCESS and who == 424242.
        let program = try SeccompCompiler.compile(.init(defaultAction: "SCMP_ACT_ALLOW", syscalls: [
            .init(names: ["getpriority"], action: "SCMP_ACT_ERRNO", errnoRet: UInt32(EACCES), args: [
                .init(index: 0, value: 0, op: "SCMP_CMP_EQ"), .init(index: 1, value: 424242, op: "SCMP_CMP_EQ"),
            ]),
        ]))
        let run = try SeccompProbe.run(program, scratch: scratch, probes: ["getpriority:0:424242", "getpriority:0:0", "getpriority:1:424242"])
        #expect(run["getpriority:0:424242"] == "EACCES")
        #expect(run["getpriority:0:0"] == "OK")
        #expect(run["getpriority:1:424242"] == "ESRCH", "the kernel's own answer: \(run.output)")
    }

    @Test func killTrapTraceAndLogActionsInARealProcess() throws {
        let scratch = try ProbeScratch()
        defer { scratch.remove() }
        func run(_ action: String, errnoRet: UInt32? = nil) throws -> ProbeRun {
            let program = try SeccompCompiler.compile(.init(defaultAction: "SCMP_ACT_ALLOW", syscalls: [
                .init(names: ["getppid"], action: action, errnoRet: errnoRet),
            ]))
            return try SeccompProbe.run(program, scratch: scratch, probes: ["getpid", "getppid", "getpid"])
        }
        for action in ["SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_TRAP"] {
            let killed = try run(action)
            #expect(killed.termination == .signaled(SIGSYS), "\(action): \(killed.termination) \(killed.output)")
            #expect(killed["getpid"] == "OK" && killed["getppid"] == nil, "\(action): \(killed.output)")
        }
        let errno = try run("SCMP_ACT_ERRNO", errnoRet: UInt32(EROFS))
        #expect(errno["getppid"] == "EROFS" && errno.termination == .exited(0))
        // Without a tracer attached, a TRACE rule fails the call with ENOSYS.
        let trace = try run("SCMP_ACT_TRACE")
        #expect(trace["getppid"] == "ENOSYS" && trace.termination == .exited(0), "\(trace.output)")
        let log = try run("SCMP_ACT_LOG")
        #expect(log["getppid"] == "OK" && log.termination == .exited(0))
    }

    @Test func flagsAreAcceptedByTheKernel() throws {
        let scratch = try ProbeScratch()
        defer { scratch.remove() }
        var profile = Spec.Seccomp(defaultAction: "SCMP_ACT_ALLOW", syscalls: [.init(names: ["getppid"], action: "SCMP_ACT_ERRNO")])
        profile.flags = ["SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"]
        let run = try SeccompProbe.run(try SeccompCompiler.compile(profile), scratch: scratch, probes: ["getppid"])
        #expect(run["load"] == "OK" && run["getppid"] == "EPERM", "\(run.output)")
    }
}
