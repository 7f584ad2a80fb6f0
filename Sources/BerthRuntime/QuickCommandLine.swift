/// The command lines a shim sends on every container's life (`create`, `start`,
/// `state`, `kill`, `delete`, `run`, with runc's global `--root`, `--log`,
/// `--log-format`), recognized without swift-argument-parser.
///
/// Why by hand: building ArgumentParser's command tree reflects over every subcommand
/// (Mirror, `String(describing:)`), about 3.6 ms of CPU per invocation here, a fifth of
/// `berth-runtime run`, paid three times per container. This parser takes only exact,
/// well-formed lines; anything else (another command, `--help`, an unknown or
/// repeated flag, a missing or extra argument, `--systemd-cgroup`) returns nil and goes
/// to ArgumentParser, which stays the one source of usage text and error messages. The
/// tests check each accepted line against what ArgumentParser makes of it.
public struct QuickCommandLine: Equatable, Sendable {
    public enum Command: Equatable, Sendable {
        case create(id: String, options: CreateOptions)
        case run(id: String, options: CreateOptions, detach: Bool)
        case start(id: String)
        case state(id: String)
        case kill(id: String, signal: String, all: Bool)
        case delete(id: String, force: Bool)
    }

    public var root = "/run/berth-runtime"
    public var log: String?
    /// `text` or `json`.
    public var logFormat = "text"
    public var command: Command

    /// `arguments` without the program name.
    public static func parse(_ arguments: [String]) -> QuickCommandLine? {
        var words = ArraySlice(arguments)
        var root = "/run/berth-runtime", log: String?, logFormat = "text"
        var seen: Set<String> = []
        // Global options, before the subcommand.
        while let word = words.first, word.hasPrefix("-") {
            words.removeFirst()
            guard let (name, value) = option(word, &words), seen.insert(name).inserted else { return nil }
            switch name {
            case "--root": root = value
            case "--log": log = value
            case "--log-format":
                guard value == "text" || value == "json" else { return nil }
                logFormat = value
            default: return nil
            }
        }
        guard let subcommand = words.popFirst() else { return nil }
        var flags: Set<String> = []
        var values: [String: String] = [:]
        var positional: [String] = []
        let valued: Set<String>, boolean: Set<String>
        switch subcommand {
        case "create", "run":
            valued = ["--bundle", "--pid-file", "--console-socket", "--preserve-fds"]
            boolean = subcommand == "run" ? ["--no-pivot", "--no-new-keyring", "--detach", "--keep"] : ["--no-pivot", "--no-new-keyring"]
        case "kill": valued = []; boolean = ["--all"]
        case "delete": valued = []; boolean = ["--force"]
        case "start", "state": valued = []; boolean = []
        default: return nil
        }
        while let word = words.popFirst() {
            if word == "--" || word == "-" { return nil }
            if word.hasPrefix("-") {
                let long = Self.longForm(word)
                if boolean.contains(long) {
                    guard flags.insert(long).inserted else { return nil }
                } else if valued.contains(Self.longForm(String(word.split(separator: "=", maxSplits: 1)[0]))) {
                    var rest = words
                    guard let (name, value) = option(word, &rest), values[name] == nil else { return nil }
                    words = rest
                    values[name] = value
                } else {
                    return nil
                }
            } else {
                positional.append(word)
            }
        }
        let command: Command
        switch subcommand {
        case "create", "run":
            guard positional.count == 1 else { return nil }
            var preserve: Int32 = 0
            if let text = values["--preserve-fds"] {
                guard let n = Int32(text), n >= 0 else { return nil }
                preserve = n
            }
            let options = CreateOptions(bundle: values["--bundle"] ?? ".", pidFile: values["--pid-file"],
                                        consoleSocket: values["--console-socket"], preserveFDs: preserve,
                                        noPivot: flags.contains("--no-pivot"))
            command = subcommand == "create"
                ? .create(id: positional[0], options: options)
                : .run(id: positional[0], options: options, detach: flags.contains("--detach"))
        case "kill":
            guard (1...2).contains(positional.count) else { return nil }
            command = .kill(id: positional[0], signal: positional.count == 2 ? positional[1] : "SIGTERM", all: flags.contains("--all"))
        case "delete":
            guard positional.count == 1 else { return nil }
            command = .delete(id: positional[0], force: flags.contains("--force"))
        case "start":
            guard positional.count == 1 else { return nil }
            command = .start(id: positional[0])
        default:
            guard positional.count == 1 else { return nil }
            command = .state(id: positional[0])
        }
        return QuickCommandLine(root: root, log: log, logFormat: logFormat, command: command)
    }

    /// `--name value` or `--name=value` (and the short `-b value` of `--bundle`); nil
    /// when the value is missing or looks like another option.
    private static func option(_ word: String, _ rest: inout ArraySlice<String>) -> (String, String)? {
        if word.hasPrefix("--"), let eq = word.firstIndex(of: "=") {
            return (String(word[..<eq]), String(word[word.index(after: eq)...]))
        }
        guard let value = rest.first, !value.hasPrefix("-") else { return nil }
        rest.removeFirst()
        return (longForm(word), value)
    }

    /// runc's one-letter spellings of the flags above.
    private static func longForm(_ word: String) -> String {
        switch word {
        case "-b": "--bundle"
        case "-d": "--detach"
        case "-a": "--all"
        case "-f": "--force"
        default: word
        }
    }
}
