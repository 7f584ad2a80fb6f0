import Foundation
import Testing

// The same bundle under `berth-runtime run` and `runc run`: stdout, stderr and the exit
// status must be the same. Nothing is normalised in these cases: with the same config
// on the same host, nothing the container prints has a reason to differ. (The one
// visible difference between the runtimes, where the process's stdio comes from —
// runc's foreground `run` hands the container pipes, berth-runtime the caller's own
// descriptors — is kept out of the commands: nothing here prints the fd link targets.)

/// Both runs produced the same stdout, stderr and exit status.
func expectSame(_ d: Differential, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(d.berth.termination == d.runc.termination, "exit: berth-runtime \(d.berth.termination), runc \(d.runc.termination)\n\(d.berth)\n\(d.runc)",
            sourceLocation: sourceLocation)
    #expect(d.berth.stdout == d.runc.stdout, "stdout differs\n\(unifiedDiff(d.berth.stdout, d.runc.stdout))",
            sourceLocation: sourceLocation)
    #expect(d.berth.stderr == d.runc.stderr, "stderr differs\n\(unifiedDiff(d.berth.stderr, d.runc.stderr))",
            sourceLocation: sourceLocation)
}

/// Lines only in berth-runtime's output (`-`) and only in runc's (`+`), in order.
func unifiedDiff(_ berth: String, _ runc: String) -> String {
    let a = berth.split(separator: "\n", omittingEmptySubsequences: false)
    let b = runc.split(separator: "\n", omittingEmptySubsequences: false)
    var lines: [String] = ["--- berth-runtime", "+++ runc"]
    for change in b.difference(from: a) {
        switch change {
        case let .remove(offset, line, _): lines.append("-[\(offset + 1)] \(line)")
        case let .insert(offset, line, _): lines.append("+[\(offset + 1)] \(line)")
        }
    }
    return lines.joined(separator: "\n")
}

/// The package root, for files under contrib/.
let packageRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
}()

/// A seccomp profile that allows everything but mkdir and mkdirat (EPERM).
nonisolated(unsafe) let denyMkdirProfile: [String: Any] = [
    "defaultAction": "SCMP_ACT_ALLOW",
    "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
    "syscalls": [["names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1]],
]

@Suite("Differential: berth-runtime run vs runc run")
struct DifferentialTests {
    @Test func capabilitiesNoNewPrivsAndSeccompStatus() async throws {
        try await withTestBed { bed in
            expectSame(try await differential(bed) { $0.shell("grep -E '^(Cap|NoNewPrivs|Seccomp)' /proc/self/status") })
        }
    }

    @Test func capabilitiesFromTheSpecInAllFiveSets() async throws {
        try await withTestBed { bed in
            expectSame(try await differential(bed) { c in
                c["process", "capabilities"] = [
                    "bounding": ["CAP_CHOWN", "CAP_NET_RAW", "CAP_SYS_ADMIN", "CAP_KILL"],
                    "effective": ["CAP_CHOWN", "CAP_NET_RAW"],
                    "permitted": ["CAP_CHOWN", "CAP_NET_RAW", "CAP_KILL"],
                    "inheritable": ["CAP_CHOWN", "CAP_KILL"],
                    "ambient": ["CAP_KILL"],
                ]
                c["process", "noNewPrivileges"] = false
                c.shell("grep -E '^(Cap|NoNewPrivs|Seccomp)' /proc/self/status")
            })
        }
    }

    @Test func idOfTheDefaultUser() async throws {
        try await withTestBed { bed in
            expectSame(try await differential(bed) { $0.args = ["id"] })
        }
    }

    @Test func hostname() async throws {
        try await withTestBed { bed in
            expectSame(try await differential(bed) { c in
                c["hostname"] = "diff-host"
                c.args = ["hostname"]
            })
        }
    }

    @Test func rlimitNofile() async throws {
        try await withTestBed { bed in
            expectSame(try await differential(bed) { c in
                c["process", "rlimits"] = [["type": "RLIMIT_NOFILE", "soft": 777, "hard": 888]]
                c.shell("ulimit -n; ulimit -Hn")
            })
        }
    }

    @Test func devListing() async throws {
        try await withTestBed { bed in
            expectSame(try await differential(bed) { c in
                c.shell("ls /dev; stat -c '%n %F %t:%T %a %u:%g' /dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty /dev/ptmx /dev/fd /dev/stdin /dev/stdout /dev/stderr; readlink /dev/ptmx /dev/fd /dev/stdin")
            })
        }
    }

    @Test func mountTable() async throws {
        try await withTestBed { bed in
            expectSame(try await differential(bed) { $0.args = ["cat", "/proc/self/mounts"] })
        }
    }

    /// The same mounts, whatever their order (tells a wrong set from a wrong order).
    @Test func mountTableAsASet() async throws {
        try await withTestBed { bed in
            expectSame(try await differential(bed) { $0.shell("sort /proc/self/mounts") })
        }
    }

    @Test func userWithAdditionalGroups() async throws {
        try await withTestBed { bed in
            expectSame(try await differential(bed) { c in
                c["process", "user"] = ["uid": 1000, "gid": 1000, "additionalGids": [10, 20]]
                c.shell("id; grep -E '^(Uid|Gid|Groups|Cap)' /proc/self/status")
            })
        }
    }

    @Test func umask() async throws {
        try await withTestBed { bed in
            expectSame(try await differential(bed) { c in
                c["process", "user"] = ["uid": 0, "gid": 0, "umask": 0o077]
                c.shell("umask")
            })
        }
    }

    @Test func environmentAndWorkingDirectory() async throws {
        try await withTestBed { bed in
            expectSame(try await differential(bed) { c in
                c["process", "cwd"] = "/etc"
                c["process", "env"] = ["PATH=/bin", "FOO=bar baz", "EMPTY=", "EQUALS=a=b=c", "HOME=/root"]
                c.shell("pwd; env | sort")
            })
        }
    }

    /// HOME missing from process.env: runc sets it from the user's /etc/passwd entry.
    @Test func homeFromPasswdWhenNotInEnv() async throws {
        try await withTestBed { bed in
            expectSame(try await differential(bed) { c in
                c["process", "env"] = ["PATH=/bin"]
                c.shell("env | sort")
            })
        }
    }

    /// The default devices exist even when the spec mounts no tmpfs on /dev.
    @Test func defaultDevicesWithoutADevMount() async throws {
        try await withTestBed { bed in
            expectSame(try await differential(bed) { c in
                c["root", "readonly"] = false
                c["mounts"] = (c["mounts"] as? [[String: Any]] ?? []).filter { ($0["destination"] as? String)?.hasPrefix("/dev") != true }
                c.shell("ls /dev; stat -c '%n %F %t:%T %a' /dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty")
            })
        }
    }

    /// runc creates a missing cwd.
    @Test func missingWorkingDirectoryIsCreated() async throws {
        try await withTestBed { bed in
            expectSame(try await differential(bed) { c in
                c["root", "readonly"] = false
                c["process", "cwd"] = "/srv/app/work"
                c.args = ["pwd"]
            })
        }
    }

    @Test func seccompProfileDenyingMkdir() async throws {
        try await withTestBed { bed in
            let d = try await differential(bed) { c in
                c["root", "readonly"] = false
                c["linux", "seccomp"] = denyMkdirProfile
                c.shell("touch /tmp/file; echo touch=$?; mkdir /tmp/x; echo mkdir=$?; grep -E '^Seccomp' /proc/self/status")
            }
            expectSame(d)
            #expect(d.berth.stdout.contains("mkdir=1"), "\(d.berth)")
            #expect(d.berth.stderr.contains("Operation not permitted"), "\(d.berth)")
        }
    }

    /// seccomp loaded without no_new_privs (needs CAP_SYS_ADMIN while loading).
    @Test func seccompProfileWithoutNoNewPrivileges() async throws {
        try await withTestBed { bed in
            expectSame(try await differential(bed) { c in
                c["root", "readonly"] = false
                c["process", "noNewPrivileges"] = false
                c["linux", "seccomp"] = denyMkdirProfile
                c.shell("mkdir /tmp/x; echo mkdir=$?; grep -E '^(Seccomp|NoNewPrivs)' /proc/self/status")
            })
        }
    }

    @Test(.timeLimit(.minutes(1))) func memoryLimitOOMKills() async throws {
        try await withTestBed { bed in
            let d = try await differential(bed) { c in
                c["linux", "resources", "memory"] = ["limit": 20 << 20, "swap": 20 << 20]
                // busybox tail keeps the current line: /dev/zero has no newline, so the
                // buffer grows until the OOM killer ends it (exec: it is the init).
                c.shell("exec tail /dev/zero")
            }
            expectSame(d)
            #expect(d.berth.status == 137, "\(d.berth)")
            #expect(d.runc.status == 137, "\(d.runc)")
        }
    }

    @Test func readOnlyRootMaskedAndReadOnlyPaths() async throws {
        try await withTestBed { bed in
            let d = try await differential(bed) { c in
                c["root", "readonly"] = true
                c.shell("""
                    touch /x; echo touch=$?
                    echo kcore=$(cat /proc/kcore | wc -c)
                    ls /proc/acpi | wc -l; echo acpi=$?
                    echo 1 > /proc/sys/kernel/ping_group_range; echo sysctl=$?
                    echo x > /proc/sysrq-trigger; echo sysrq=$?
                    """)
            }
            expectSame(d)
            #expect(d.berth.stdout.contains("touch=1"), "\(d.berth)")
            #expect(d.berth.stdout.contains("kcore=0"), "\(d.berth)")
            #expect(d.berth.stdout.contains("sysctl=1"), "\(d.berth)")
        }
    }

    @Test func defaultSeccompProfileFromContrib() async throws {
        let path = packageRoot + "/contrib/seccomp/default.json"
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let profile = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        try await withTestBed { bed in
            expectSame(try await differential(bed) { c in
                c["root", "readonly"] = false
                c["linux", "seccomp"] = profile
                c.shell("""
                    grep -E '^Seccomp' /proc/self/status
                    mkdir /tmp/d; echo mkdir=$?
                    echo hi > /tmp/d/f; cat /tmp/d/f
                    ls /tmp/d; id; hostname; sleep 0
                    mount -t tmpfs none /tmp/d; echo mount=$?
                    """)
            })
        }
    }

    @Test func namespacesAreNew() async throws {
        try await withTestBed { bed in
            // The pid namespace makes the process 1; the others show as fresh: only the
            // loopback interface, an empty hostname from the spec, no IPC objects.
            expectSame(try await differential(bed) { c in
                c.shell("echo $$; cat /proc/net/dev | tail -n +3 | cut -d: -f1; cat /proc/sysvipc/shm | wc -l; ps -o pid,comm")
            })
        }
    }

    @Test func sysctlsNamespaced() async throws {
        try await withTestBed { bed in
            expectSame(try await differential(bed) { c in
                c["linux", "sysctl"] = ["net.ipv4.ip_forward": "1", "kernel.shmmax": "123456789"]
                c.shell("cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmax")
            })
        }
    }

    @Test func oomScoreAdj() async throws {
        try await withTestBed { bed in
            expectSame(try await differential(bed) { c in
                c["process", "oomScoreAdj"] = 345
                c.args = ["cat", "/proc/self/oom_score_adj"]
            })
        }
    }

    @Test func exitStatusAndOutputStreams() async throws {
        try await withTestBed { bed in
            expectSame(try await differential(bed) { $0.shell("echo out; echo err >&2; sh -c 'kill -9 $$'; echo child=$?; exit 42") })
        }
    }
}
