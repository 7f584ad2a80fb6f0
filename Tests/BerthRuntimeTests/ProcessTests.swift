import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite("Descriptors, seccomp actions, exec terminal")
struct MoreProcessTests {
    /// `--preserve-fds 1`: fd 3 of the runtime reaches the process, nothing above it.
    @Test(arguments: RuntimeKind.allCases)
    func preserveFds(_ kind: RuntimeKind) async throws {
        try await withTestBed { bed in
            let file = try bed.scratch.write("passed.txt", "through-fd-3\n")
            let fd = open(file, O_RDONLY | O_CLOEXEC)
            try #require(fd >= 0)
            defer { close(fd) }
            let bundle = try await bed.bundle { $0.shell("ls /proc/$$/fd; cat <&3") }
            let result = try await bed.cli(kind).run(["run", "--preserve-fds", "1", "--bundle", bundle.path, bed.id("pfd")],
                                                     dups: [(fd, 3)])
            #expect(result.status == 0, "\(result)")
            #expect(result.stdout == "0\n1\n2\n3\nthrough-fd-3\n", "\(result)")
        }
    }

    /// SCMP_ACT_KILL on a syscall: the process dies of SIGSYS (status 159).
    @Test func seccompKillAction() async throws {
        try await withTestBed { bed in
            let d = try await differential(bed) { c in
                c["linux", "seccomp"] = [
                    "defaultAction": "SCMP_ACT_ALLOW",
                    "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
                    "syscalls": [["names": ["getcwd"], "action": "SCMP_ACT_KILL"]],
                ]
                // busybox sh calls getcwd as it starts: the init itself dies.
                c.shell("echo never")
            }
            expectSame(d)
            #expect(d.berth.status == 159, "\(d.berth)")
            #expect(d.berth.stdout == "", "\(d.berth)")
        }
    }

    /// An exec'd process killed by a signal: the runtime exits 128+n.
    @Test(arguments: RuntimeKind.allCases)
    func execKilledBySignal(_ kind: RuntimeKind) async throws {
        try await withTestBed { bed in
            let rt = bed.cli(kind)
            let bundle = try await bed.bundle { $0.args = sleepForever }
            let id = bed.id("esig")
            try #require(try await rt("run", "--detach", "--bundle", bundle.path, id).status == 0)
            let result = try await rt("exec", id, "sh", "-c", "kill -9 $$")
            #expect(result.status == 137, "\(result)")
        }
    }

    /// exec --tty with a console socket: the pty master arrives, output comes through it.
    @Test func execWithATerminal() async throws {
        try await withTestBed { bed in
            let server = try await compileConsoleServer(bed)
            var outputs: [RuntimeKind: String] = [:]
            for kind in RuntimeKind.allCases {
                let rt = bed.cli(kind)
                let bundle = try await bed.bundle("et-\(kind.rawValue)") { $0.args = sleepForever }
                let id = bed.id("et-\(kind.rawValue)")
                try #require(try await rt("run", "--detach", "--bundle", bundle.path, id).status == 0)
                let socket = bed.scratch("et-\(kind.rawValue).sock"), out = bed.scratch("et-\(kind.rawValue).out")
                let so = try CapturedOutput(), se = try CapturedOutput()
                let child = try spawn(server, [socket, out], stdout: so, stderr: se)
                defer { child.killAndReap() }
                #expect(try await eventually { FileManager.default.fileExists(atPath: socket) })
                let exec = try await rt("exec", "--tty", "--console-socket", socket, "--detach", id,
                                        "sh", "-c", "tty; [ -t 1 ] && echo out-is-tty; echo done")
                #expect(exec.status == 0, "\(exec)")
                _ = await child.wait(timeout: .seconds(15))
                outputs[kind] = readText(out) ?? ""
            }
            #expect(outputs[.berth]?.contains("out-is-tty") == true, "\(outputs)")
            #expect(outputs[.berth] == outputs[.runc], "\(unifiedDiff(outputs[.berth] ?? "", outputs[.runc] ?? ""))")
        }
    }
}
