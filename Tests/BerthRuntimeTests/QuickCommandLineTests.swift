@testable import BerthRuntime
import Foundation
import Testing

/// berth-runtime recognizes the shim's command lines without ArgumentParser
/// (`QuickCommandLine`); every other line goes to ArgumentParser. The parser takes
/// exactly what it can answer like ArgumentParser, and the binary behaves the same on
/// both paths (`--debug`, which the quick parser does not take, forces the slow one).
@Suite("Quick command line")
struct QuickCommandLineTests {
    @Test func acceptsTheShimsLines() {
        let create = QuickCommandLine.parse(["--root", "/r", "--log", "/l", "--log-format", "json", "create", "--bundle", "/b",
                                             "--pid-file", "/p", "--console-socket", "/s", "c1"])
        #expect(create == QuickCommandLine(root: "/r", log: "/l", logFormat: "json", command: .create(
            id: "c1", options: CreateOptions(bundle: "/b", pidFile: "/p", consoleSocket: "/s"))))
        #expect(QuickCommandLine.parse(["start", "c1"])?.command == .start(id: "c1"))
        #expect(QuickCommandLine.parse(["--root=/x", "state", "c1"]) == QuickCommandLine(root: "/x", command: .state(id: "c1")))
        #expect(QuickCommandLine.parse(["kill", "-a", "c1", "9"])?.command == .kill(id: "c1", signal: "9", all: true))
        #expect(QuickCommandLine.parse(["kill", "c1"])?.command == .kill(id: "c1", signal: "SIGTERM", all: false))
        #expect(QuickCommandLine.parse(["delete", "--force", "c1"])?.command == .delete(id: "c1", force: true))
        #expect(QuickCommandLine.parse(["run", "-d", "-b", "/b", "--preserve-fds=2", "--no-pivot", "c1"])?.command == .run(
            id: "c1", options: CreateOptions(bundle: "/b", preserveFDs: 2, noPivot: true), detach: true))
        #expect(QuickCommandLine.parse(["create", "c1"])?.command == .create(id: "c1", options: CreateOptions(bundle: ".")))
    }

    @Test(arguments: [
        [], ["--help"], ["--version"], ["create", "--help"], ["-h"], ["exec", "c1", "true"], ["ps", "c1"], ["spec"],
        ["--debug", "state", "c1"], ["--systemd-cgroup", "create", "c1"], ["--root", "/a", "--root", "/b", "state", "c1"],
        ["--root"], ["--log-format", "xml", "state", "c1"], ["state"], ["state", "a", "b"], ["start", "--force", "c1"],
        ["create", "--bundle", "c1"], ["create", "--bundle", "/b", "--bundle", "/c", "c1"], ["create", "--preserve-fds", "-1", "c1"],
        ["create", "--detach", "c1"], ["kill", "c1", "9", "x"], ["delete", "-f", "-f", "c1"], ["delete", "--", "c1"],
        ["state", "--root", "/x", "c1"],
    ])
    func leavesEverythingElseToArgumentParser(_ line: [String]) {
        #expect(QuickCommandLine.parse(line) == nil, "\(line)")
    }

    /// The same answers, messages and log entries on both paths.
    @Test func bothPathsAnswerAlike() async throws {
        try await withTestBed { bed in
            let rt = bed.berth
            let log = bed.scratch("runtime.log")
            let missing = bed.id("missing")
            for line in [["state", missing], ["start", missing], ["kill", missing, "KILL"], ["delete", missing],
                         ["create", "--bundle", bed.scratch("nowhere"), missing]] {
                let quick = try await rt.run(line, global: ["--log", log, "--log-format", "json"])
                let slow = try await rt.run(line, global: ["--log", log, "--log-format", "json", "--debug"])
                #expect(quick.status == slow.status && quick.status != 0, "\(line): \(quick) / \(slow)")
                #expect(quick.stderr == slow.stderr && quick.stdout == slow.stdout, "\(line): \(quick) / \(slow)")
            }
            let entries = (try String(contentsOfFile: log, encoding: .utf8)).split(separator: "\n")
            #expect(entries.count == 10, "\(entries)")
            for pair in stride(from: 0, to: entries.count - 1, by: 2) {
                func message(_ line: Substring) -> String { String(line.split(separator: ",\"time\"").first ?? line) }
                #expect(message(entries[pair]) == message(entries[pair + 1]))
            }
            // A whole life on the quick path, with `state` read on both.
            let bundle = try await bed.bundle { $0.args = ["sleep", "30"] }
            let id = bed.id("quick")
            #expect(try await rt("create", "--bundle", bundle.path, id).status == 0)
            let quickState = try await rt.run(["state", id])
            let slowState = try await rt.run(["state", id], global: ["--debug"])
            #expect(quickState.status == 0 && quickState.stdout == slowState.stdout, "\(quickState) / \(slowState)")
            #expect(try await rt("start", id).status == 0)
            #expect(try await rt.status(id) == "running")
            #expect(try await rt("kill", id, "KILL").status == 0)
            #expect(try await eventually { try await rt.status(id) == "stopped" })
            #expect(try await rt("delete", id).status == 0)
            #expect(try await rt.state(id) == nil)
        }
    }
}
