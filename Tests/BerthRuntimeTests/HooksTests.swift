import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A host `/bin/sh` hook script that saves its stdin (the state JSON), its first
/// argument and $HOOKVAR under `dir`, as `<name>.json` and `<name>.args`.
func recordingHook(_ bed: TestBed, _ name: String) throws -> [String: Any] {
    let dir = bed.scratch("hooks")
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    let path = try bed.scratch.write("hooks/\(name).sh", """
        #!/bin/sh
        cat > \(dir)/\(name).json
        echo "$1 $HOOKVAR" > \(dir)/\(name).args

        """, mode: 0o755)
    return ["path": path, "args": [path, "arg-\(name)"], "env": ["HOOKVAR=var-\(name)"]]
}

@Suite("Hooks")
struct HooksTests {
    @Test(arguments: RuntimeKind.allCases)
    func hooksGetTheStateOnStdin(_ kind: RuntimeKind) async throws {
        try await withTestBed { bed in
            let rt = bed.cli(kind)
            let host = ["prestart", "createRuntime", "createContainer", "poststart", "poststop"]
            var hooks: [String: Any] = [:]
            for stage in host { hooks[stage] = [try recordingHook(bed, stage)] }
            // startContainer runs in the container: its path is the container's /bin/sh.
            hooks["startContainer"] = [["path": "/bin/sh", "args": ["sh", "-c", "cat > /tmp/startContainer.json"]]]
            let bundle = try await bed.bundle { c in
                c["root", "readonly"] = false
                c["hooks"] = hooks
                c.args = sleepForever
            }
            let id = bed.id("hooks")
            let create = try await rt("create", "--bundle", bundle.path, id)
            try #require(create.status == 0, "\(create)")
            let pid = try #require(try await rt.state(id)?["pid"] as? Int)
            let dir = bed.scratch("hooks")
            for stage in ["prestart", "createRuntime", "createContainer"] {
                #expect(FileManager.default.fileExists(atPath: "\(dir)/\(stage).json"), "\(stage) did not run at create")
            }
            // poststart belongs to `start` (runtime-spec); runc 1.1 runs it at create.
            if kind == .berth { #expect(!FileManager.default.fileExists(atPath: "\(dir)/poststart.json")) }
            let start = try await rt("start", id)
            try #require(start.status == 0, "\(start)")
            #expect(try await eventually { FileManager.default.fileExists(atPath: "\(dir)/poststart.json") })
            #expect(try await eventually { FileManager.default.fileExists(atPath: bundle.rootfs + "/tmp/startContainer.json") })
            let delete = try await rt("delete", "--force", id)
            #expect(delete.status == 0, "\(delete)")

            var files = Dictionary(uniqueKeysWithValues: host.map { ($0, "\(dir)/\($0).json") })
            files["startContainer"] = bundle.rootfs + "/tmp/startContainer.json"
            for (stage, file) in files.sorted(by: { $0.key < $1.key }) {
                guard let text = readText(file) else { Issue.record("\(stage) hook did not run"); continue }
                guard let state = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
                    Issue.record("\(stage) hook got no JSON state: \(text)"); continue
                }
                #expect(state["id"] as? String == id, "\(stage): \(text)")
                #expect(state["bundle"] as? String == bundle.path, "\(stage): \(text)")
                #expect(state["ociVersion"] is String, "\(stage): \(text)")
                #expect(state["status"] is String, "\(stage): \(text)")
                // Hooks run in the container (createContainer, startContainer) see the
                // pid in its pid namespace, 1, under runc as well.
                if stage == "createContainer" || stage == "startContainer" {
                    #expect(state["pid"] as? Int == 1 || state["pid"] as? Int == pid, "\(stage): \(text)")
                } else if stage != "poststop" {
                    #expect(state["pid"] as? Int == pid, "\(stage): pid \(String(describing: state["pid"])) instead of \(pid): \(text)")
                }
            }
            if kind == .berth {
                #expect((try? JSONSerialization.jsonObject(with: Data((readText(files["poststart"]!) ?? "").utf8)) as? [String: Any])?["status"] as? String == "running")
            }
            #expect((try? JSONSerialization.jsonObject(with: Data((readText(files["poststop"]!) ?? "").utf8)) as? [String: Any])?["status"] as? String == "stopped")
            for stage in host {
                #expect(readText("\(dir)/\(stage).args") == "arg-\(stage) var-\(stage)\n", "\(stage) args/env")
            }
        }
    }

    @Test(arguments: RuntimeKind.allCases)
    func failingPrestartHookFailsCreateAndLeavesNothing(_ kind: RuntimeKind) async throws {
        try await withTestBed { bed in
            let rt = bed.cli(kind)
            // It reads its stdin first, so this case is only about the failure (a hook
            // that does not read is hookThatIgnoresItsStdinDoesNotKillTheRuntime).
            let hook = try bed.scratch.write("fail.sh", "#!/bin/sh\ncat >/dev/null\necho hook-says-no >&2\nexit 3\n", mode: 0o755)
            let bundle = try await bed.bundle { c in
                c["hooks"] = ["prestart": [["path": hook]]]
                c.args = sleepForever
            }
            let id = bed.id("pfail")
            let create = try await rt("create", "--bundle", bundle.path, id)
            #expect(create.status != 0, "\(create)")
            #expect(!create.stderr.isEmpty)
            #expect(!FileManager.default.fileExists(atPath: rt.root + "/" + id), "state directory left behind")
            #expect(try await rt.state(id) == nil)
            #expect(cgroupDirectories(id).isEmpty, "cgroups left behind: \(cgroupDirectories(id))")
        }
    }

    /// A hook need not read its stdin: the runtime must survive the EPIPE (the state is
    /// made larger than a pipe's buffer, so the write cannot complete before the hook exits).
    @Test(arguments: RuntimeKind.allCases)
    func hookThatIgnoresItsStdinDoesNotKillTheRuntime(_ kind: RuntimeKind) async throws {
        try await withTestBed { bed in
            let rt = bed.cli(kind)
            let hook = try bed.scratch.write("noread.sh", "#!/bin/sh\nexit 0\n", mode: 0o755)
            let bundle = try await bed.bundle { c in
                c["annotations"] = ["big": String(repeating: "x", count: 200_000)]
                c["hooks"] = ["prestart": [["path": hook]]]
                c.args = sleepForever
            }
            let id = bed.id("noread")
            let create = try await rt("create", "--bundle", bundle.path, id)
            #expect(create.status == 0, "\(create)")
            #expect(create.termination != .signaled(SIGPIPE), "killed by SIGPIPE\n\(create)")
            #expect(try await rt.status(id) == "created")
        }
    }

    @Test(arguments: RuntimeKind.allCases)
    func hookPastItsTimeoutIsKilledAndFails(_ kind: RuntimeKind) async throws {
        try await withTestBed { bed in
            let rt = bed.cli(kind)
            let pidFile = bed.scratch("hook.pid")
            let hook = try bed.scratch.write("slow.sh", "#!/bin/sh\necho $$ > \(pidFile)\nexec sleep 30\n", mode: 0o755)
            let bundle = try await bed.bundle { c in
                c["hooks"] = ["prestart": [["path": hook, "timeout": 1]]]
                c.args = sleepForever
            }
            let id = bed.id("slow")
            let began = ContinuousClock.now
            let create = try await rt("create", "--bundle", bundle.path, id)
            let took = ContinuousClock.now - began
            #expect(create.status != 0, "\(create)")
            #expect(took < .seconds(10), "create took \(took)")
            #expect(create.stderr.lowercased().contains("time"), "the message should name the timeout:\n\(create)")
            let hookPid = try #require(readText(pidFile).flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) })
            #expect(try await eventually(timeout: .seconds(3)) { !processExists(hookPid) }, "the hook \(hookPid) is still running")
            #expect(!FileManager.default.fileExists(atPath: rt.root + "/" + id))
        }
    }
}
