import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Which runtime a parameterised test drives: each behaviour is checked on runc too, so
/// a test that fails only for berth-runtime points at berth-runtime, not at the test.
enum RuntimeKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case berth, runc
    var testDescription: String { rawValue }
}

extension TestBed {
    func cli(_ kind: RuntimeKind) -> RuntimeCLI { kind == .berth ? berth : runc }
}

func processExists(_ pid: Int) -> Bool {
    guard pid > 0, let stat = readText("/proc/\(pid)/stat"), let close = stat.lastIndex(of: ")") else { return false }
    return stat[stat.index(close, offsetBy: 2)] != "Z"
}

let sleepForever = ["sleep", "1000"]

@Suite("Lifecycle and errors")
struct LifecycleTests {
    @Test(arguments: RuntimeKind.allCases)
    func stateGoesCreatedRunningStopped(_ kind: RuntimeKind) async throws {
        try await withTestBed { bed in
            let rt = bed.cli(kind)
            let bundle = try await bed.bundle { $0.args = sleepForever }
            let id = bed.id("life")
            let created = try await rt("create", "--bundle", bundle.path, id)
            try #require(created.status == 0, "\(created)")
            let s1 = try #require(try await rt.state(id))
            #expect(s1["status"] as? String == "created")
            #expect(s1["id"] as? String == id)
            #expect(s1["bundle"] as? String == bundle.path)
            let pid = try #require(s1["pid"] as? Int)
            #expect(processExists(pid), "init \(pid) of a created container must exist")
            // The init waits: it has not exec'd the user's program yet.
            #expect(readText("/proc/\(pid)/comm")?.hasPrefix("sleep") == false)

            let started = try await rt("start", id)
            try #require(started.status == 0, "\(started)")
            let s2 = try #require(try await rt.state(id))
            #expect(s2["status"] as? String == "running")
            #expect(s2["pid"] as? Int == pid)
            #expect(readText("/proc/\(pid)/comm") == "sleep\n")

            let killed = try await rt("kill", id, "KILL")
            #expect(killed.status == 0, "\(killed)")
            #expect(try await eventually { try await rt.status(id) == "stopped" })
            let s3 = try #require(try await rt.state(id))
            #expect(s3["pid"] as? Int == 0)

            let deleted = try await rt("delete", id)
            #expect(deleted.status == 0, "\(deleted)")
        }
    }

    @Test(arguments: RuntimeKind.allCases)
    func startTwiceFails(_ kind: RuntimeKind) async throws {
        try await withTestBed { bed in
            let rt = bed.cli(kind)
            let bundle = try await bed.bundle { $0.args = sleepForever }
            let id = bed.id("twice")
            try #require(try await rt("create", "--bundle", bundle.path, id).status == 0)
            try #require(try await rt("start", id).status == 0)
            let again = try await rt("start", id)
            #expect(again.status != 0, "\(again)")
            #expect(again.stderr.contains("running"), "the message should say the container is running:\n\(again)")
            #expect(try await rt.status(id) == "running")
        }
    }

    @Test(arguments: RuntimeKind.allCases)
    func deleteOfARunningContainerWithoutForceFails(_ kind: RuntimeKind) async throws {
        try await withTestBed { bed in
            let rt = bed.cli(kind)
            let bundle = try await bed.bundle { $0.args = sleepForever }
            let id = bed.id("del")
            try #require(try await rt("run", "--detach", "--bundle", bundle.path, id).status == 0)
            let pid = try #require(try await rt.state(id)?["pid"] as? Int)
            let delete = try await rt("delete", id)
            #expect(delete.status != 0, "\(delete)")
            #expect(delete.stderr.contains("running"), "\(delete)")
            #expect(try await rt.status(id) == "running")
            #expect(processExists(pid))
            let forced = try await rt("delete", "--force", id)
            #expect(forced.status == 0, "\(forced)")
            #expect(try await eventually { !processExists(pid) })
            #expect(try await rt.state(id) == nil)
        }
    }

    @Test(arguments: RuntimeKind.allCases)
    func killOfAStoppedContainerFails(_ kind: RuntimeKind) async throws {
        try await withTestBed { bed in
            let rt = bed.cli(kind)
            let bundle = try await bed.bundle { $0.args = ["true"] }
            let id = bed.id("kst")
            try #require(try await rt("run", "--detach", "--bundle", bundle.path, id).status == 0)
            #expect(try await eventually { try await rt.status(id) == "stopped" })
            let kill = try await rt("kill", id, "TERM")
            #expect(kill.status != 0, "\(kill)")
            #expect(kill.stderr.contains("not running"), "\(kill)")
        }
    }

    @Test(arguments: RuntimeKind.allCases)
    func stateAfterDeleteSaysDoesNotExist(_ kind: RuntimeKind) async throws {
        try await withTestBed { bed in
            let rt = bed.cli(kind)
            let bundle = try await bed.bundle { $0.args = ["true"] }
            let id = bed.id("gone")
            try #require(try await rt("create", "--bundle", bundle.path, id).status == 0)
            #expect(try await rt("delete", id).status == 0)
            let state = try await rt("state", id)
            #expect(state.status != 0)
            #expect(state.stderr.contains("does not exist"), "\(state)")
            #expect(!FileManager.default.fileExists(atPath: rt.root + "/" + id))
        }
    }

    @Test(arguments: RuntimeKind.allCases)
    func createWithAnExistingIdFails(_ kind: RuntimeKind) async throws {
        try await withTestBed { bed in
            let rt = bed.cli(kind)
            let bundle = try await bed.bundle { $0.args = sleepForever }
            let id = bed.id("dup")
            try #require(try await rt("create", "--bundle", bundle.path, id).status == 0)
            let pid = try #require(try await rt.state(id)?["pid"] as? Int)
            let again = try await rt("create", "--bundle", bundle.path, id)
            #expect(again.status != 0, "\(again)")
            #expect(again.stderr.contains("exists"), "\(again)")
            // The first container is untouched.
            #expect(try await rt.state(id)?["pid"] as? Int == pid)
            #expect(try await rt.status(id) == "created")
        }
    }

    @Test func invalidIdIsRefused() async throws {
        try await withTestBed { bed in
            let bundle = try await bed.bundle { $0.args = ["true"] }
            for id in ["../escape", "a/b", ".."] {
                let create = try await bed.berth("create", "--bundle", bundle.path, id)
                #expect(create.status != 0, "\(create)")
            }
            #expect(!FileManager.default.fileExists(atPath: bed.scratch("escape")))
        }
    }

    @Test(arguments: RuntimeKind.allCases)
    func killAllSignalsEveryProcess(_ kind: RuntimeKind) async throws {
        try await withTestBed { bed in
            let rt = bed.cli(kind)
            let bundle = try await bed.bundle { $0.shell("sleep 1000 & sleep 1000 & wait") }
            let id = bed.id("kall")
            try #require(try await rt("run", "--detach", "--bundle", bundle.path, id).status == 0)
            var pids: [Int] = []
            #expect(try await eventually {
                let ps = try await rt("ps", "--format", "json", id)
                pids = (try? JSONSerialization.jsonObject(with: Data(ps.stdout.utf8)) as? [Int]) ?? []
                return pids.count == 3
            }, "ps --format json should list the shell and its two sleeps: \(pids)")
            let kill = try await rt("kill", "--all", id, "KILL")
            #expect(kill.status == 0, "\(kill)")
            #expect(try await eventually { pids.allSatisfy { !processExists($0) } }, "still alive: \(pids.filter(processExists))")
            #expect(try await eventually { try await rt.status(id) == "stopped" })
        }
    }

    @Test(arguments: RuntimeKind.allCases)
    func pauseStopsProgressAndResumeRestartsIt(_ kind: RuntimeKind) async throws {
        try await withTestBed { bed in
            let rt = bed.cli(kind)
            let bundle = try await bed.bundle { c in
                c["root", "readonly"] = false
                c.shell("i=0; while true; do i=$((i+1)); echo $i > /tmp/counter; sleep 0.02; done")
            }
            let counter = bundle.rootfs + "/tmp/counter"
            func value() -> Int { Int(readText(counter)?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? -1 }
            let id = bed.id("pause")
            try #require(try await rt("run", "--detach", "--bundle", bundle.path, id).status == 0)
            #expect(try await eventually { value() > 2 })

            let pause = try await rt("pause", id)
            try #require(pause.status == 0, "\(pause)")
            #expect(try await rt.status(id) == "paused")
            try await Task.sleep(for: .milliseconds(100)) // a write in flight may land
            let frozen = value()
            try await Task.sleep(for: .milliseconds(600))
            #expect(value() == frozen, "the counter advanced while paused")
            // A paused container is neither started nor deleted without force.
            #expect(try await rt("delete", id).status != 0)

            let resume = try await rt("resume", id)
            #expect(resume.status == 0, "\(resume)")
            #expect(try await rt.status(id) == "running")
            #expect(try await eventually { value() > frozen + 2 }, "the counter did not advance after resume")
            #expect(try await rt("resume", id).status != 0, "resume of a running container must fail")
        }
    }

    @Test(arguments: RuntimeKind.allCases)
    func psListsThePids(_ kind: RuntimeKind) async throws {
        try await withTestBed { bed in
            let rt = bed.cli(kind)
            let bundle = try await bed.bundle { $0.shell("sleep 1000 & wait") }
            let id = bed.id("ps")
            try #require(try await rt("run", "--detach", "--bundle", bundle.path, id).status == 0)
            let pid = try #require(try await rt.state(id)?["pid"] as? Int)
            var pids: [Int] = []
            #expect(try await eventually {
                let ps = try await rt("ps", "--format", "json", id)
                pids = (try? JSONSerialization.jsonObject(with: Data(ps.stdout.utf8)) as? [Int]) ?? []
                return pids.count == 2
            })
            #expect(pids.contains(pid), "\(pids) should contain the init \(pid)")
            let table = try await rt("ps", id)
            #expect(table.status == 0, "\(table)")
            let lines = table.stdout.split(separator: "\n")
            #expect(lines.first?.contains("PID") == true, "\(table)")
            for p in pids {
                #expect(lines.dropFirst().contains { $0.split(separator: " ").contains(Substring(String(p))) }, "pid \(p) missing:\n\(table)")
            }
            #expect(lines.count == pids.count + 1, "only the container's processes:\n\(table)")
        }
    }

    @Test(arguments: RuntimeKind.allCases)
    func runDetachLeavesItRunning(_ kind: RuntimeKind) async throws {
        try await withTestBed { bed in
            let rt = bed.cli(kind)
            let bundle = try await bed.bundle { $0.args = sleepForever }
            let id = bed.id("det")
            let pidFile = bed.scratch("det.pid")
            let start = ContinuousClock.now
            let run = try await rt("run", "--detach", "--pid-file", pidFile, "--bundle", bundle.path, id)
            #expect(run.status == 0, "\(run)")
            #expect(ContinuousClock.now - start < .seconds(10))
            let pid = try #require(try await rt.state(id)?["pid"] as? Int)
            #expect(readText(pidFile).flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) } == pid)
            #expect(try await rt.status(id) == "running")
            #expect(readText("/proc/\(pid)/comm") == "sleep\n")
        }
    }

    @Test(arguments: RuntimeKind.allCases)
    func listTableAndJSON(_ kind: RuntimeKind) async throws {
        try await withTestBed { bed in
            let rt = bed.cli(kind)
            let bundle = try await bed.bundle { $0.args = sleepForever }
            let a = bed.id("la"), b = bed.id("lb")
            try #require(try await rt("run", "--detach", "--bundle", bundle.path, a).status == 0)
            try #require(try await rt("create", "--bundle", bundle.path, b).status == 0)
            let table = try await rt("list")
            #expect(table.status == 0)
            let header = table.stdout.split(separator: "\n").first ?? ""
            #expect(header.contains("ID") && header.contains("PID") && header.contains("STATUS"), "\(table)")
            #expect(table.stdout.split(separator: "\n").contains { $0.hasPrefix(a) && $0.contains("running") }, "\(table)")
            #expect(table.stdout.split(separator: "\n").contains { $0.hasPrefix(b) && $0.contains("created") }, "\(table)")
            let json = try await rt("list", "--format", "json")
            let entries = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]], "\(json)")
            let byId = Dictionary(uniqueKeysWithValues: entries.compactMap { e in (e["id"] as? String).map { ($0, e) } })
            #expect(byId[a]?["status"] as? String == "running")
            #expect(byId[b]?["status"] as? String == "created")
            #expect(byId[a]?["bundle"] as? String == bundle.path)
            #expect((byId[a]?["pid"] as? Int ?? 0) > 0)
            let quiet = try await rt("list", "-q")
            #expect(Set(quiet.stdout.split(separator: "\n").map(String.init)) == [a, b], "\(quiet)")
        }
    }

    @Test func listOfAnEmptyRootIsEmptyJSON() async throws {
        try await withTestBed { bed in
            let json = try await bed.berth("list", "--format", "json")
            #expect(json.status == 0, "\(json)")
            let value = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8), options: .fragmentsAllowed)
            // runc prints `null` for no containers; an empty array is as good.
            #expect(value is NSNull || (value as? [Any])?.isEmpty == true, "\(json)")
        }
    }

    @Test func featuresIsJSONWithNamespaces() async throws {
        let result = try await runProgram(Binaries.berthRuntime, ["features"])
        #expect(result.status == 0)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let linux = try #require(json["linux"] as? [String: Any])
        let namespaces = try #require(linux["namespaces"] as? [String])
        for ns in ["cgroup", "ipc", "mount", "network", "pid", "user", "uts"] { #expect(namespaces.contains(ns)) }
        #expect(json["ociVersionMin"] is String)
        #expect((json["hooks"] as? [String])?.contains("prestart") == true)
        #expect((linux["capabilities"] as? [String])?.contains("CAP_SYS_ADMIN") == true)
    }

    @Test func specWritesConfigAndRefusesToOverwrite() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let first = try await runProgram(Binaries.berthRuntime, ["spec", "--bundle", scratch.path])
        #expect(first.status == 0, "\(first)")
        let original = try #require(readText(scratch("config.json")))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(original.utf8)) as? [String: Any])
        #expect(json["ociVersion"] is String)
        #expect((json["process"] as? [String: Any])?["args"] as? [String] == ["sh"])
        #expect((json["root"] as? [String: Any])?["path"] as? String == "rootfs")
        let second = try await runProgram(Binaries.berthRuntime, ["spec", "--bundle", scratch.path])
        #expect(second.status != 0)
        #expect(second.stderr.contains("exists"), "\(second)")
        #expect(readText(scratch("config.json")) == original)
    }

    @Test(arguments: RuntimeKind.allCases)
    func logFileGetsAJSONErrorLine(_ kind: RuntimeKind) async throws {
        try await withTestBed { bed in
            let rt = bed.cli(kind)
            let log = bed.scratch("rt.log")
            let result = try await rt.run(["state", bed.id("nosuch")], global: ["--log", log, "--log-format", "json"])
            #expect(result.status != 0)
            let text = try #require(readText(log), "no log file written")
            let lines = text.split(separator: "\n")
            let errors = lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
                .filter { $0["level"] as? String == "error" }
            #expect(errors.count == 1, "one JSON error line expected:\n\(text)")
            #expect((errors.first?["msg"] as? String)?.contains("does not exist") == true, "\(text)")
            #expect(errors.first?["time"] is String, "\(text)")
        }
    }

    /// Whenever it is detected, a missing program is reported by name (not only as
    /// "the init exited").
    @Test(arguments: RuntimeKind.allCases)
    func runOfAMissingProgramNamesIt(_ kind: RuntimeKind) async throws {
        try await withTestBed { bed in
            let bundle = try await bed.bundle { $0.args = ["/no/such/program"] }
            let run = try await bed.cli(kind)("run", "--bundle", bundle.path, bed.id("noxr"))
            #expect(run.status != 0, "\(run)")
            #expect(run.stderr.contains("/no/such/program"), "\(run)")
        }
    }

    /// A process that cannot be found fails `create` itself (runc looks it up before it
    /// reports ready), and the failed create leaves no state directory and no cgroup.
    @Test(arguments: RuntimeKind.allCases)
    func createOfAMissingProgramFailsAndLeavesNothing(_ kind: RuntimeKind) async throws {
        try await withTestBed { bed in
            let rt = bed.cli(kind)
            let bundle = try await bed.bundle { $0.args = ["/no/such/program"] }
            let id = bed.id("nox")
            let create = try await rt("create", "--bundle", bundle.path, id)
            #expect(create.status != 0, "\(create)")
            #expect(create.stderr.contains("/no/such/program"), "\(create)")
            #expect(!FileManager.default.fileExists(atPath: rt.root + "/" + id), "state directory left behind")
            #expect(cgroupDirectories(id).isEmpty, "cgroups left behind: \(cgroupDirectories(id))")
        }
    }

    /// A limit the kernel refuses (a CFS quota under its 1 ms minimum) fails `create`
    /// (berth-runtime applies limits on a second thread while it clones the init: the
    /// error still comes back; with a user namespace, before the clone), and nothing is
    /// left: no state, no cgroup, no init.
    @Test(arguments: RuntimeKind.allCases, [false, true])
    func createWithARefusedLimitFailsAndLeavesNothing(_ kind: RuntimeKind, userNamespace: Bool) async throws {
        try await withTestBed { bed in
            let rt = bed.cli(kind)
            let bundle = try await bed.bundle { c in
                c["linux", "resources", "cpu"] = ["quota": 500, "period": 100_000]
                // With a user namespace, berth-runtime makes the cgroup before the clone, on one thread.
                if userNamespace {
                    c["linux", "namespaces"] = [["type": "pid"], ["type": "mount"], ["type": "user"]]
                    c["linux", "uidMappings"] = [["containerID": 0, "hostID": 100_000, "size": 65536]]
                    c["linux", "gidMappings"] = [["containerID": 0, "hostID": 100_000, "size": 65536]]
                }
            }
            let id = bed.id("badq")
            let create = try await rt("create", "--bundle", bundle.path, id)
            #expect(create.status != 0, "\(create)")
            if kind == .berth { #expect(create.stderr.contains("cfs_quota_us"), "\(create)") }
            #expect(!FileManager.default.fileExists(atPath: rt.root + "/" + id), "state directory left behind")
            #expect(cgroupDirectories(id).isEmpty, "cgroups left behind: \(cgroupDirectories(id))")
        }
    }
}

/// The cgroup directories named `id` under any hierarchy (what a runtime leaves behind).
func cgroupDirectories(_ id: String) -> [String] {
    let fm = FileManager.default
    var found: [String] = []
    let hierarchies = (try? fm.contentsOfDirectory(atPath: "/sys/fs/cgroup")) ?? []
    for h in hierarchies {
        for parent in ["/sys/fs/cgroup/\(h)/berth-runtime/\(id)", "/sys/fs/cgroup/\(h)/\(id)"] where fm.fileExists(atPath: parent) {
            found.append(parent)
        }
    }
    return found
}
