import Foundation
import Testing

@Suite("exec")
struct ExecTests {
    /// A running container of `sleep 1000` (root writable, with /srv/app present).
    func running(_ bed: TestBed, _ kind: RuntimeKind) async throws -> (RuntimeCLI, String, Bundle) {
        let rt = bed.cli(kind)
        let bundle = try await bed.bundle { c in
            c["root", "readonly"] = false
            c["process", "env"] = ["PATH=/bin", "BASE=1"]
            c.args = sleepForever
        }
        let id = bed.id("exec")
        let run = try await rt("run", "--detach", "--bundle", bundle.path, id)
        try #require(run.status == 0, "\(run)")
        return (rt, id, bundle)
    }

    @Test(arguments: RuntimeKind.allCases)
    func execArgsRunInTheContainer(_ kind: RuntimeKind) async throws {
        try await withTestBed { bed in
            let (rt, id, _) = try await running(bed, kind)
            let result = try await rt("exec", id, "sh", "-c", "echo hi; hostname; cat /proc/1/comm; env | sort")
            #expect(result.status == 0, "\(result)")
            // HOME is not in process.env: runc sets it from the user's /etc/passwd entry.
            #expect(result.stdout == "hi\nberth\nsleep\nBASE=1\nHOME=/root\nPATH=/bin\nPWD=/\nSHLVL=1\n", "\(result)")
            #expect(result.stderr == "", "\(result)")
        }
    }

    @Test(arguments: RuntimeKind.allCases)
    func execExitStatusIsPropagated(_ kind: RuntimeKind) async throws {
        try await withTestBed { bed in
            let (rt, id, _) = try await running(bed, kind)
            let result = try await rt("exec", id, "sh", "-c", "echo err >&2; exit 7")
            #expect(result.status == 7, "\(result)")
            #expect(result.stderr == "err\n", "\(result)")
            let missing = try await rt("exec", id, "/no/such/program")
            #expect(missing.status != 0 && missing.status != nil, "\(missing)")
            #expect(missing.stderr.contains("/no/such/program"), "\(missing)")
        }
    }

    /// An exec'd process joins the container's cgroup in every hierarchy (berth-runtime's
    /// child moves itself in): inside the container's cgroup namespace each line of its
    /// /proc/self/cgroup names the namespace's root, as the init's do.
    @Test(arguments: RuntimeKind.allCases)
    func execJoinsTheContainersCgroup(_ kind: RuntimeKind) async throws {
        try await withTestBed { bed in
            let (rt, id, _) = try await running(bed, kind)
            let exec = try await rt("exec", id, "sort", "/proc/self/cgroup")
            let initCgroups = try await rt("exec", id, "sort", "/proc/1/cgroup")
            #expect(exec.status == 0 && initCgroups.status == 0, "\(exec) \(initCgroups)")
            let lines = exec.stdout.split(separator: "\n")
            #expect(lines.count >= 2, "\(exec)")
            #expect(lines.allSatisfy { $0.hasSuffix(":/") }, "\(exec)")
            #expect(exec.stdout == initCgroups.stdout, "\(exec) vs init \(initCgroups)")
        }
    }

    /// A container at its pids limit can still be entered (to kill what filled it): a
    /// process moved into a cgroup is not held to pids.max, a fork inside it is.
    /// berth-runtime only: runc's `runc init` is a Go program that may start threads after
    /// joining the cgroup, and then dies of the limit ("runtime/cgo: pthread_create
    /// failed") in some runs on a busy host.
    @Test(arguments: [RuntimeKind.berth])
    func execIntoAContainerAtItsPidsLimit(_ kind: RuntimeKind) async throws {
        try await withTestBed { bed in
            let rt = bed.cli(kind)
            let bundle = try await bed.bundle { c in
                c["linux", "resources", "pids"] = ["limit": 2]
                c.shell("sleep 1000 & wait") // sh and sleep: the limit
            }
            let id = bed.id("pidsfull")
            try #require(try await rt("run", "--detach", "--bundle", bundle.path, id).status == 0)
            let result = try await rt("exec", id, "echo", "still reachable")
            #expect(result.status == 0, "\(result)")
            #expect(result.stdout == "still reachable\n", "\(result)")
        }
    }

    @Test(arguments: RuntimeKind.allCases)
    func execUserCwdAndEnv(_ kind: RuntimeKind) async throws {
        try await withTestBed { bed in
            let (rt, id, _) = try await running(bed, kind)
            let result = try await rt("exec", "--user", "1000:1000", "--cwd", "/etc", "--env", "FOO=bar baz", id,
                                      "sh", "-c", "id; pwd; echo \"$FOO\"; echo $BASE")
            #expect(result.status == 0, "\(result)")
            #expect(result.stdout == "uid=1000(user) gid=1000(user) groups=1000(user)\n/etc\nbar baz\n1\n"
                || result.stdout == "uid=1000(user) gid=1000(user)\n/etc\nbar baz\n1\n", "\(result)")
        }
    }

    @Test(arguments: RuntimeKind.allCases)
    func execWithAProcessFile(_ kind: RuntimeKind) async throws {
        try await withTestBed { bed in
            let (rt, id, _) = try await running(bed, kind)
            let process: [String: Any] = [
                "terminal": false, "user": ["uid": 1000, "gid": 1000, "additionalGids": [10]],
                "args": ["sh", "-c", "id; pwd; echo $ONLY; grep CapEff /proc/self/status"],
                "env": ["PATH=/bin", "ONLY=from-file"], "cwd": "/tmp",
                "capabilities": ["bounding": ["CAP_KILL"], "effective": ["CAP_KILL"], "permitted": ["CAP_KILL"]],
            ]
            let file = bed.scratch("process.json")
            try JSONSerialization.data(withJSONObject: process).write(to: URL(fileURLWithPath: file))
            let result = try await rt("exec", "--process", file, id)
            #expect(result.status == 0, "\(result)")
            #expect(result.stdout == "uid=1000(user) gid=1000(user) groups=10(wheel)\n/tmp\nfrom-file\nCapEff:\t0000000000000000\n", "\(result)")
        }
    }

    @Test(arguments: RuntimeKind.allCases)
    func execDetachWithPidFile(_ kind: RuntimeKind) async throws {
        try await withTestBed { bed in
            let (rt, id, _) = try await running(bed, kind)
            let pidFile = bed.scratch("exec.pid")
            let result = try await rt("exec", "--detach", "--pid-file", pidFile, id, "sleep", "999")
            #expect(result.status == 0, "\(result)")
            let pid = try #require(readText(pidFile).flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }, "no pid file")
            #expect(processExists(pid))
            // runc writes the pid file before its init has exec'd the program: wait for it.
            #expect(await eventually { readText("/proc/\(pid)/cmdline") == "sleep\u{0}999\u{0}" },
                    "\(readText("/proc/\(pid)/cmdline") ?? "gone")")
            // It is in the container: its pid namespace and cgroup.
            let initPid = try #require(try await rt.state(id)?["pid"] as? Int)
            #expect(readLink("/proc/\(pid)/ns/pid") == readLink("/proc/\(initPid)/ns/pid"))
            #expect(readLink("/proc/\(pid)/ns/mnt") == readLink("/proc/\(initPid)/ns/mnt"))
            let ps = try await rt("ps", "--format", "json", id)
            let pids = (try? JSONSerialization.jsonObject(with: Data(ps.stdout.utf8)) as? [Int]) ?? []
            #expect(pids.contains(pid), "\(ps)")
        }
    }

    /// The exec'd process sees only stdio (CVE-2024-21626: no runtime fd leaks in).
    @Test(arguments: RuntimeKind.allCases)
    func execSeesOnlyStdio(_ kind: RuntimeKind) async throws {
        try await withTestBed { bed in
            let (rt, id, _) = try await running(bed, kind)
            let result = try await rt("exec", id, "sh", "-c", "ls /proc/$$/fd; readlink /proc/$$/cwd")
            #expect(result.stdout == "0\n1\n2\n/\n", "\(result)")
        }
    }

    @Test(arguments: RuntimeKind.allCases)
    func execInAStoppedContainerFails(_ kind: RuntimeKind) async throws {
        try await withTestBed { bed in
            let (rt, id, _) = try await running(bed, kind)
            _ = try await rt("kill", id, "KILL")
            #expect(try await eventually { try await rt.status(id) == "stopped" })
            let result = try await rt("exec", id, "true")
            #expect(result.status != 0, "\(result)")
        }
    }
}
