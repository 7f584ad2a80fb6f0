import BerthAPI
import Foundation
import Testing

/// berthd's config file and flags, as an administrator gets them right or wrong.
@Suite("berthd configuration", .timeLimit(.minutes(3)))
struct ConfigTests {
    /// Starts berthd with `arguments` (in a fresh scratch dir, with `config` written to
    /// `c.toml` and passed by --config when given) and expects it to refuse to start.
    /// Returns what it printed.
    private func expectRefusal(config: String? = nil, arguments: [String] = [],
                               sourceLocation: SourceLocation = #_sourceLocation) async throws -> String {
        let scratch = try Scratch()
        defer { scratch.remove() }
        var args = arguments
        if let config { args += ["--config", try scratch.write("c.toml", config)] }
        let daemon = try TestDaemon.start(in: scratch, arguments: args)
        defer { daemon.kill() }
        let ended = await daemon.waitForExit(timeout: .seconds(15))
        #expect(ended != nil && ended != .exited(0),
                "berthd accepted it: \(ended.map { "\($0)" } ?? "still running")\n\(daemon.output)", sourceLocation: sourceLocation)
        #expect(FileInfo(daemon.address) == nil, "a refused berthd left a socket", sourceLocation: sourceLocation)
        return daemon.output.replacingOccurrences(of: scratch.path, with: "<scratch>")
    }

    @Test("[api] max_frame_bytes from the config file shows in info's limits")
    func maxFrameBytesFromConfig() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let config = try scratch.write("c.toml", "[api]\nmax_frame_bytes = 65536\n")
        let daemon = try TestDaemon.start(in: scratch, arguments: ["--config", config])
        defer { daemon.kill() }
        try await daemon.waitUntilServing()
        let run = try await berthctl("info", "--format", "json", address: daemon.address)
        #expect(run.status == 0, "\(run)")
        let info = try JSONDecoder().decode(SystemInfo.self, from: Data(run.stdout.utf8))
        #expect(info.limits.maxFrameBytes == 65536)

        // And it is the limit in force: exactly 65536 bytes pass, one more is refused
        // from the header alone.
        let atLimit = try await RawClient.send(.paddedVersion(bytes: 65536), to: daemon.address)
        let accepted = try RawClient.reply(atLimit)
        #expect(accepted["result"] != nil && accepted["id"] as? Int == 1, "\(atLimit)")
        let overLimit = try await RawClient.send(.declaredLength(bytes: 65537), to: daemon.address, checkClose: true)
        let refused = try RawClient.reply(overLimit)
        #expect(RawClient.errorKind(refused) == "ResourceExhausted", "\(overLimit)")
        #expect(refused["id"] is NSNull, "\(overLimit)")
        #expect(RawClient.sawClose(overLimit), "\(overLimit)")

        #expect(await daemon.stop() == .exited(0), "\(daemon.output)")
    }

    @Test("[log] level from the config file sets how much berthd logs")
    func logLevelFromConfig() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let quiet = try TestDaemon.start(in: scratch, name: "q", arguments: ["--config", try scratch.write("q.toml", "[log]\nlevel = \"warning\"\n")])
        defer { quiet.kill() }
        let chatty = try TestDaemon.start(in: scratch, name: "c", arguments: ["--log-level", "debug"])
        defer { chatty.kill() }
        try await quiet.waitUntilServing()
        try await chatty.waitUntilServing()
        #expect(try await berthctl("version", address: quiet.address).status == 0)
        #expect(try await berthctl("version", address: chatty.address).status == 0)
        #expect(await quiet.stop() == .exited(0))
        #expect(await chatty.stop() == .exited(0))
        #expect(!quiet.output.contains(" info "), "\(quiet.output)")
        #expect(chatty.output.contains(" info "), "\(chatty.output)")
    }

    @Test("flags override the config file")
    func flagsOverrideConfig() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let config = try scratch.write("c.toml", """
            root = "\(scratch("cfg-root"))"
            [api]
            address = "\(scratch("cfg.sock"))"
            """)
        let daemon = try TestDaemon.start(in: scratch, arguments: ["--config", config])
        defer { daemon.kill() }
        try await daemon.waitUntilServing()
        let run = try await berthctl("info", "--format", "json", address: daemon.address)
        let info = try JSONDecoder().decode(SystemInfo.self, from: Data(run.stdout.utf8))
        #expect(info.root == daemon.root && info.address == daemon.address, "\(run)")
        #expect(FileInfo(scratch("cfg-root")) == nil && FileInfo(scratch("cfg.sock")) == nil)
        #expect(await daemon.stop() == .exited(0), "\(daemon.output)")
    }

    @Test("a config with only a comment, or with empty [api] and [log] tables, starts fine",
          arguments: ["# nothing to change here\n", "[api]\n[log]\n", ""])
    func harmlessConfigsStart(_ text: String) async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let config = try scratch.write("c.toml", text)
        let daemon = try TestDaemon.start(in: scratch, arguments: ["--config", config])
        defer { daemon.kill() }
        try await daemon.waitUntilServing()
        let run = try await berthctl("info", "--format", "json", address: daemon.address)
        let info = try JSONDecoder().decode(SystemInfo.self, from: Data(run.stdout.utf8))
        #expect(info.limits.maxFrameBytes == Frame.defaultMaxPayload)
        #expect(await daemon.stop() == .exited(0), "\(daemon.output)")
    }

    @Test("an unknown key is refused by its dotted name")
    func unknownKey() async throws {
        let output = try await expectRefusal(config: "[api]\nadress = \"x\"\n")
        #expect(output.contains("unknown key \"api.adress\""), "\(output)")
        #expect(output.contains("<scratch>/c.toml"), "\(output)")
        let top = try await expectRefusal(config: "roots = \"/x\"\n")
        #expect(top.contains("unknown key \"roots\""), "\(top)")
    }

    @Test("a value of the wrong type is refused naming the key")
    func wrongType() async throws {
        let output = try await expectRefusal(config: "[api]\nmax_frame_bytes = \"big\"\n")
        #expect(output.contains("max_frame_bytes"), "\(output)")
        let spare = try await expectRefusal(config: "[tasks]\nspare_shim = \"yes\"\n")
        #expect(spare.contains("spare_shim"), "\(spare)")
        let unknown = try await expectRefusal(config: "[tasks]\nspare_shims = true\n")
        #expect(unknown.contains("unknown key \"tasks.spare_shims\""), "\(unknown)")
    }

    @Test("a TOML syntax error is refused with its line number")
    func syntaxError() async throws {
        let output = try await expectRefusal(config: "# berthd\n[api]\nmax_frame_bytes = = 3\n")
        #expect(output.contains("line 3"), "\(output)")
    }

    @Test("a value out of range is refused naming the key")
    func outOfRange() async throws {
        let output = try await expectRefusal(config: "[api]\nmax_frame_bytes = 12\n")
        #expect(output.contains("max_frame_bytes"), "\(output)")
    }

    @Test("--config naming a missing file is refused naming the file")
    func missingConfigFile() async throws {
        let output = try await expectRefusal(arguments: ["--config", "/nonexistent/berthd.toml"])
        #expect(output.contains("/nonexistent/berthd.toml"), "\(output)")
    }

    @Test("--log-level with an unknown level is refused naming log.level")
    func unknownLogLevel() async throws {
        let output = try await expectRefusal(arguments: ["--log-level", "loud"])
        #expect(output.contains("log.level"), "\(output)")
        #expect(output.contains("loud"), "\(output)")
    }

    @Test("an unknown group in [api] group is refused naming the group")
    func unknownGroup() async throws {
        let output = try await expectRefusal(config: "[api]\ngroup = \"no-such-group-here\"\n")
        #expect(output.contains("no-such-group-here"), "\(output)")
    }
}
