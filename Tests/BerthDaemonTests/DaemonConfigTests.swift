@testable import BerthDaemon
import BerthRPC
import Testing

@Suite struct DaemonConfigTests {
    func apply(_ toml: String) throws -> DaemonConfig {
        var config = DaemonConfig()
        try config.apply(toml: Array(toml.utf8), source: "test.toml")
        return config
    }

    @Test func noFileMeansDefaults() throws {
        let config = try DaemonConfig.load(path: "/nonexistent/berth.toml", required: false)
        #expect(config == DaemonConfig())
        #expect(config.socketPath == "/run/berth/berthd.sock")
    }

    @Test func aNamedFileThatIsMissingIsAnError() {
        let error = #expect(throws: DaemonConfig.LoadError.self) { try DaemonConfig.load(path: "/nonexistent/berth.toml", required: true) }
        #expect(error?.description.contains("/nonexistent/berth.toml") == true)
    }

    @Test func everyKeyIsRead() throws {
        let config = try apply("""
            root = "/srv/berth"
            state = "/run/b2"
            [api]
            address = "/run/b2/api.sock"
            group = "0"
            max_frame_bytes = 65536
            frame_timeout_seconds = 2.5
            max_connections = 10
            [log]
            level = "debug"
            """)
        #expect(config.root == "/srv/berth" && config.state == "/run/b2")
        #expect(config.socketPath == "/run/b2/api.sock")
        #expect(config.group == "0")
        #expect(config.maxFrameBytes == 65536 && config.frameTimeoutSeconds == 2.5 && config.maxConnections == 10)
        #expect(config.logLevel == "debug")
    }

    @Test func anIntegerTimeoutIsAccepted() throws {
        #expect(try apply("[api]\nframe_timeout_seconds = 3").frameTimeoutSeconds == 3)
    }

    @Test(arguments: [
        ("[api]\nadress = \"/x\"", "unknown key \"api.adress\""),
        ("rot = \"/x\"", "unknown key \"rot\""),
        ("[api]\nmax_frame_bytes = \"big\"", "max_frame_bytes"),
        ("[api]\nmax_frame_bytes = 12", "between 1024"),
        ("[log]\nlevel = \"loud\"", "log.level must be one of"),
        ("root = \"relative/path\"", "absolute"),
        ("[api]\nmax_connections = 0", "max_connections"),
        ("[api]\ngroup = \"no-such-group-here\"", "not a known group"),
        ("[api\nx = 1", "line 1"),
        ("root = \"/a\"\nroot = \"/b\"", "line 2"),
    ])
    func badConfigsNameWhatIsWrong(_ toml: String, _ mentioned: String) {
        let error = #expect(throws: DaemonConfig.LoadError.self) { try apply(toml) }
        #expect(error?.description.contains(mentioned) == true, "\(error?.description ?? "no error")")
    }

    @Test func aSocketPathTooLongForSunPathIsRejected() {
        var config = DaemonConfig()
        config.address = "/" + String(repeating: "s", count: 120)
        #expect(throws: DaemonConfig.LoadError.self) { try config.validate() }
    }
}
