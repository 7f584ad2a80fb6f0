import ArgumentParser
import BerthDaemon
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// berthd: the Berth supervisor. Flags override the config file, which overrides defaults.
struct Berthd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "berthd",
        abstract: "The Berth container supervisor daemon.",
        discussion: "Serves the Berth API on a UNIX socket. See proto-docs/ for the protocol and contrib/berthd.toml for every config key."
    )

    @Option(help: "Persistent root directory (metadata, content, snapshots). Default: /var/lib/berth")
    var root: String?

    @Option(help: "Volatile state directory (socket, shims, bundles). Default: /run/berth")
    var state: String?

    @Option(help: "Path of the API socket. Default: <state>/berthd.sock")
    var address: String?

    @Option(help: "TOML config file; a missing file is an error only when named here.")
    var config: String?

    @Option(help: "trace, debug, info, notice, warning, error or critical. Default: info")
    var logLevel: String?

    func run() async throws {
        var settings: DaemonConfig
        do {
            settings = try DaemonConfig.load(path: config ?? DaemonConfig.defaultPath, required: config != nil)
            if let root { settings.root = root }
            if let state { settings.state = state }
            if let address { settings.address = address }
            if let logLevel { settings.logLevel = logLevel }
            try settings.validate(source: "flags")
        } catch {
            // A configuration error is one line naming the key, not a usage message.
            var line = "berthd: \(error)\n"
            line.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
            throw ExitCode.failure
        }
        let level = Logger.Level(rawValue: settings.logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "berthd")
        umask(0o077) // files berthd creates are private unless it says otherwise
        Daemon.useOneIOThread()
        do {
            try await Daemon(config: settings, logger: logger).run()
        } catch {
            logger.critical("berthd cannot start: \(error)")
            throw ExitCode.failure
        }
    }
}

extension Berthd {
    /// Parses, then awaits the async `run()`: from top-level code `Berthd.main()`
    /// resolves to the synchronous entry point, which cannot run an async command.
    static func entry() async {
        do {
            var command = try parseAsRoot()
            if var daemon = command as? Berthd { try await daemon.run() } else { try command.run() }
        } catch {
            exit(withError: error)
        }
    }
}

await Berthd.entry()
