import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// What berth-runtime keeps between commands: a small state.json, and the spec as create
/// read it in config.json beside it (exec reads that one, not the bundle's).
@Suite("Saved state")
struct SavedStateTests {
    private func stateObject(_ path: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    @Test func execUsesTheSpecAsCreatedNotTheBundlesLaterEdits() async throws {
        try await withTestBed { bed in
            let rt = bed.berth
            let bundle = try await bed.bundle {
                $0.args = sleepForever
                $0["process", "env"] = ["PATH=/bin:/usr/bin", "FOO=as-created"]
                $0["annotations"] = ["org.example.role": "saved-state-test"]
            }
            let id = bed.id("saved")
            try #require(try await rt("create", "--bundle", bundle.path, id).status == 0)
            let dir = rt.root + "/" + id
            let state = try stateObject(dir + "/state.json")
            #expect(state["spec"] == nil, "state.json no longer carries the whole spec")
            #expect(state["pid"] as? Int ?? 0 > 0)
            let copy = try Data(contentsOf: URL(fileURLWithPath: dir + "/config.json"))
            #expect(copy == (try Data(contentsOf: URL(fileURLWithPath: bundle.configPath))), "the bundle's bytes, unchanged")
            try #require(try await rt("start", id).status == 0)

            // The bundle changes (or goes) after create: the container keeps its own spec.
            try bundle.edit { $0["process", "env"] = ["PATH=/bin:/usr/bin", "FOO=edited-later"] }
            let echoed = try await rt("exec", id, "sh", "-c", "echo $FOO")
            #expect(echoed.status == 0, "\(echoed)")
            #expect(echoed.stdout == "as-created\n")
            unlink(bundle.configPath)
            let again = try await rt("exec", id, "sh", "-c", "echo $FOO")
            #expect(again.stdout == "as-created\n", "\(again)")
            let reported = try #require(try await rt.state(id))
            #expect((reported["annotations"] as? [String: String])?["org.example.role"] == "saved-state-test")

            #expect(try await rt("kill", id, "KILL").status == 0)
            #expect(try await eventually { try await rt.status(id) == "stopped" })
            #expect(try await rt("delete", id).status == 0)
            #expect(access(dir, F_OK) != 0, "delete removes the state directory with its spec copy")
        }
    }

    /// A container created by an earlier version: its state.json holds the whole spec
    /// and there is no config.json beside it. Every command still works on it.
    @Test func aStateWrittenByAnEarlierVersionStillWorks() async throws {
        try await withTestBed { bed in
            let rt = bed.berth
            let marker = bed.scratch("poststart-ran")
            let bundle = try await bed.bundle {
                $0.args = sleepForever
                $0["process", "env"] = ["PATH=/bin:/usr/bin", "FOO=legacy"]
                $0["annotations"] = ["org.example.role": "legacy"]
                $0["hooks"] = ["poststart": [["path": "/bin/sh", "args": ["sh", "-c", "cat > \(marker)"]]]]
            }
            let id = bed.id("legacy")
            try #require(try await rt("create", "--bundle", bundle.path, id).status == 0)
            let dir = rt.root + "/" + id
            var state = try stateObject(dir + "/state.json")
            state["spec"] = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/config.json")))
            state["hooks"] = nil
            state["annotations"] = nil
            try JSONSerialization.data(withJSONObject: state).write(to: URL(fileURLWithPath: dir + "/state.json"))
            unlink(dir + "/config.json")
            unlink(bundle.configPath)

            let started = try await rt("start", id)
            #expect(started.status == 0, "\(started)")
            #expect(try await eventually { readText(marker)?.contains("\"running\"") == true }, "poststart ran with the container's state")
            #expect(readText(marker)?.contains("org.example.role") == true, "the hook's state carries the annotations")
            let echoed = try await rt("exec", id, "sh", "-c", "echo $FOO")
            #expect(echoed.stdout == "legacy\n", "\(echoed)")
            let reported = try #require(try await rt.state(id))
            #expect(reported["status"] as? String == "running")
            #expect((reported["annotations"] as? [String: String])?["org.example.role"] == "legacy")
            #expect(try await rt("delete", "--force", id).status == 0)
            #expect(access(dir, F_OK) != 0)
        }
    }

    @Test func aDamagedSpecCopyFailsExecClearlyAndLosesNothingElse() async throws {
        try await withTestBed { bed in
            let rt = bed.berth
            let bundle = try await bed.bundle { $0.args = sleepForever }
            let id = bed.id("damaged")
            try #require(try await rt("create", "--bundle", bundle.path, id).status == 0)
            try #require(try await rt("start", id).status == 0)
            let dir = rt.root + "/" + id
            try Data("{\"ociVersion\": ".utf8).write(to: URL(fileURLWithPath: dir + "/config.json"))
            let exec = try await rt("exec", id, "true")
            #expect(exec.status != 0)
            #expect(exec.stderr.contains("config.json"), "the error names the file:\n\(exec)")
            unlink(dir + "/config.json")
            let missing = try await rt("exec", id, "true")
            #expect(missing.status != 0)
            #expect(missing.stderr.contains("spec of container"), "the error says what is missing:\n\(missing)")
            // The container itself is untouched: state, kill and delete still work.
            #expect(try await rt.status(id) == "running")
            #expect(try await rt("kill", id, "KILL").status == 0)
            #expect(try await eventually { try await rt.status(id) == "stopped" })
            #expect(try await rt("delete", id).status == 0)
        }
    }
}
