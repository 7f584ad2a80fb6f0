import ArgumentParser
import BerthRuntime
import BerthSystem
#if canImport(Glibc)
import Glibc
#endif

/// berth-runtime: an OCI runtime with runc's command line.
struct RuntimeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "berth-runtime",
        abstract: "Berth's OCI runtime, with runc's command line.",
        version: "berth-runtime 0.1.0\nspec: \(Features().ociVersionMax)",
        subcommands: [
            Create.self, Start.self, StateCommand.self, Kill.self, Delete.self, Run.self, Exec.self, Ps.self,
            Pause.self, Resume.self, List.self, FeaturesCommand.self, SpecCommand.self,
            CgroupStatsCommand.self, CgroupUpdateCommand.self,
        ]
    )

    @Option(help: "Root directory for container state.") var root = "/run/berth-runtime"
    @Option(help: "Log file for errors (as runc's --log).") var log: String?
    @Option(help: "Log format: text or json.") var logFormat: LogFormat = .text
    @Flag(help: "Enable debug output.") var debug = false
    @Flag(help: "Use systemd for cgroups (needs systemd as init).") var systemdCgroup = false
    @Option(help: "Ignored; accepted for compatibility with runc.") var criu: String?
    @Option(help: "Ignored; accepted for compatibility with runc.") var rootless: String?

    enum LogFormat: String, ExpressibleByArgument { case text, json }

    var runtime: Runtime { Runtime(root: root) }

    func validate() throws {
        if systemdCgroup {
            throw ValidationError("--systemd-cgroup needs systemd as PID 1, which this host does not run; use the cgroupfs driver")
        }
    }

    /// Runs `body`, and reports a failure as runc does (see `FailureLog`).
    func reporting<T>(_ body: () throws -> T) throws -> T {
        try FailureLog(path: log, format: logFormat.rawValue).reporting(body)
    }

    /// Synchronous on purpose: the runtime starts no thread, so blocked signals
    /// (forwarded to the container by `run` and `exec`) reach no other thread.
    static func entry() {
        if let quick = QuickCommandLine.parse(Array(CommandLine.arguments.dropFirst())) { quick.execute() }
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            exit(withError: error)
        }
    }
}

/// A failure reported as runc does: one line on stderr, one entry in the --log file
/// (text or JSON), exit status 1.
struct FailureLog {
    let path: String?
    /// `text` or `json`.
    let format: String

    func reporting<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch {
            let message = "\(error)"
            writeStderr("berth-runtime: \(message)\n")
            if let path { append(path, message) }
            throw ExitCode.failure
        }
    }

    private func append(_ path: String, _ message: String) {
        let line: String
        if format == "json" {
            let escaped = message.unicodeScalars.map { s -> String in
                switch s {
                case "\"": return "\\\""
                case "\\": return "\\\\"
                case "\n": return "\\n"
                default: return s.value < 0x20 ? String(format4: s.value) : String(s)
                }
            }.joined()
            line = "{\"level\":\"error\",\"msg\":\"\(escaped)\",\"time\":\"\(nowRFC3339())\"}\n"
        } else {
            line = "time=\"\(nowRFC3339())\" level=error msg=\"\(message)\"\n"
        }
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return }
        _ = line.utf8CString.withUnsafeBufferPointer { write(fd, $0.baseAddress, $0.count - 1) }
        close(fd)
    }
}

extension QuickCommandLine {
    /// Runs the command as its ArgumentParser counterpart in Commands.swift would, and
    /// exits.
    func execute() -> Never {
        let runtime = Runtime(root: root)
        let failures = FailureLog(path: log, format: logFormat)
        do {
            switch command {
            case let .create(id, options):
                try failures.reporting { _ = try runtime.create(id: id, options: options) }
            case let .run(id, options, detach):
                let status = try failures.reporting { try runtime.run(id: id, options: options, detach: detach) }
                exit(status)
            case let .start(id):
                try failures.reporting { try runtime.start(id: id) }
            case let .state(id):
                let state = try failures.reporting { try runtime.state(id: id) }
                try printJSON(state)
            case let .kill(id, signal, all):
                try failures.reporting { try runtime.kill(id: id, signal: try SignalTable.parse(signal), all: all) }
            case let .delete(id, force):
                try failures.reporting { try runtime.delete(id: id, force: force) }
            }
            exit(0)
        } catch {
            RuntimeCommand.exit(withError: error)
        }
    }
}

extension String {
    init(format4 value: UInt32) {
        let hex = String(value, radix: 16)
        self = "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
    }
}

/// Now, to the second, for log lines (runc's format).
func nowRFC3339() -> String {
    String(Timestamp.now().prefix(19)) + "Z"
}
