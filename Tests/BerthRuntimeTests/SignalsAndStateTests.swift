import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite("Signals and state")
struct SignalsAndStateTests {
    /// A foreground `run` passes SIGTERM on to the container's process and exits with its status.
    @Test(arguments: RuntimeKind.allCases)
    func foregroundRunForwardsSignals(_ kind: RuntimeKind) async throws {
        try await withTestBed { bed in
            let rt = bed.cli(kind)
            let bundle = try await bed.bundle { $0.shell("trap 'echo got-term; exit 5' TERM; echo ready; while true; do sleep 0.05; done") }
            let id = bed.id("fwd")
            let out = try CapturedOutput(), err = try CapturedOutput()
            let child = try rt.start(["run", "--bundle", bundle.path, id], stdout: out, stderr: err)
            defer { child.killAndReap() }
            #expect(try await eventually { out.text.contains("ready") }, "\(err.text)")
            child.signal(SIGTERM)
            let end = await child.wait(timeout: .seconds(15))
            #expect(end == .exited(5), "\(String(describing: end))\nstdout: \(out.text)\nstderr: \(err.text)")
            #expect(out.text == "ready\ngot-term\n", "\(out.text)")
            #expect(try await rt.state(id) == nil, "a foreground run deletes its container")
        }
    }

    @Test(arguments: RuntimeKind.allCases)
    func killAcceptsSignalNamesAndNumbers(_ kind: RuntimeKind) async throws {
        try await withTestBed { bed in
            let rt = bed.cli(kind)
            let bundle = try await bed.bundle { c in
                c["root", "readonly"] = false
                c.shell("trap 'echo usr1 >> /tmp/log' USR1; trap 'echo hup >> /tmp/log' HUP; while true; do sleep 0.05; done")
            }
            let id = bed.id("sig")
            try #require(try await rt("run", "--detach", "--bundle", bundle.path, id).status == 0)
            let log = bundle.rootfs + "/tmp/log"
            try await Task.sleep(for: .milliseconds(200))
            #expect(try await rt("kill", id, "USR1").status == 0)
            #expect(try await eventually { readText(log) == "usr1\n" })
            #expect(try await rt("kill", id, "SIGHUP").status == 0)
            #expect(try await eventually { readText(log) == "usr1\nhup\n" })
            #expect(try await rt("kill", id, "10").status == 0)
            #expect(try await eventually { readText(log) == "usr1\nhup\nusr1\n" })
            let bad = try await rt("kill", id, "NOSUCHSIG")
            #expect(bad.status != 0, "\(bad)")
            #expect(try await rt("kill", id, "9").status == 0)
            #expect(try await eventually { try await rt.status(id) == "stopped" })
        }
    }

    @Test(arguments: RuntimeKind.allCases)
    func stateCarriesVersionCreatedAndAnnotations(_ kind: RuntimeKind) async throws {
        try await withTestBed { bed in
            let rt = bed.cli(kind)
            let bundle = try await bed.bundle { c in
                c["annotations"] = ["org.example.key": "value"]
                c.args = ["true"]
            }
            let id = bed.id("st")
            try #require(try await rt("create", "--bundle", bundle.path, id).status == 0)
            let state = try #require(try await rt.state(id))
            #expect(state["ociVersion"] is String)
            #expect((state["created"] as? String)?.contains("T") == true, "\(state)")
            #expect((state["annotations"] as? [String: String])?["org.example.key"] == "value", "\(state)")
            #expect(state["rootfs"] as? String == bundle.rootfs, "\(state)")
        }
    }

    @Test(arguments: RuntimeKind.allCases)
    func execInAPausedContainerFails(_ kind: RuntimeKind) async throws {
        try await withTestBed { bed in
            let rt = bed.cli(kind)
            let bundle = try await bed.bundle { $0.args = sleepForever }
            let id = bed.id("pexec")
            try #require(try await rt("run", "--detach", "--bundle", bundle.path, id).status == 0)
            try #require(try await rt("pause", id).status == 0)
            let exec = try await rt("exec", id, "true", timeout: .seconds(20))
            #expect(exec.status != 0, "\(exec)")
            #expect(try await rt("resume", id).status == 0)
        }
    }

    @Test(arguments: RuntimeKind.allCases)
    func forcedDeleteOfAnUnknownIdSucceeds(_ kind: RuntimeKind) async throws {
        try await withTestBed { bed in
            let rt = bed.cli(kind)
            let delete = try await rt("delete", "--force", bed.id("never"))
            #expect(delete.status == 0, "\(delete)")
            let plain = try await rt("delete", bed.id("never2"))
            #expect(plain.status != 0, "\(plain)")
            #expect(plain.stderr.contains("does not exist"), "\(plain)")
        }
    }

    /// A created container deleted without start: the init goes, and so does its cgroup.
    @Test(arguments: RuntimeKind.allCases)
    func deleteOfACreatedContainer(_ kind: RuntimeKind) async throws {
        try await withTestBed { bed in
            let rt = bed.cli(kind)
            let bundle = try await bed.bundle { $0.args = sleepForever }
            let id = bed.id("cdel")
            try #require(try await rt("create", "--bundle", bundle.path, id).status == 0)
            let pid = try #require(try await rt.state(id)?["pid"] as? Int)
            let delete = try await rt("delete", id)
            #expect(delete.status == 0, "\(delete)")
            #expect(try await eventually { !processExists(pid) })
            #expect(cgroupDirectories(id).isEmpty, "\(cgroupDirectories(id))")
        }
    }

    /// Eight `run`s at once in one state root (one bundle): each gets its own exit status,
    /// and nothing is left behind.
    @Test(arguments: RuntimeKind.allCases)
    func concurrentRunsInOneRoot(_ kind: RuntimeKind) async throws {
        try await withTestBed { bed in
            let rt = bed.cli(kind)
            let bundle = try await bed.bundle { $0.shell("exit $(cat /proc/sys/kernel/hostname | wc -c)") }
            let ids = (0..<8).map { bed.id("par\($0)") }
            let results = try await withThrowingTaskGroup(of: CommandResult.self) { group in
                for id in ids { group.addTask { try await rt("run", "--bundle", bundle.path, id) } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            for result in results { #expect(result.status == 6, "\(result)") } // "berth\n"
            let left = try await rt("list", "-q")
            #expect(left.stdout.isEmpty, "\(left)")
            for id in ids { #expect(cgroupDirectories(id).isEmpty, "\(id): \(cgroupDirectories(id))") }
        }
    }
}
