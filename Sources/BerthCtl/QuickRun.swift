import ArgumentParser
import BerthAPI

/// `berthctl run` read without ArgumentParser, for the command lines scripts and engines
/// write (`run --rm --rootfs DIR ID CMD...` and the flags of RunCommand, SpecOptions and
/// GlobalOptions as `--name value`, `--name=value` or `-x value`). ArgumentParser's
/// parse was a quarter of berthctl's CPU in a `run --rm` here: it reflects over every
/// property of the command, and each first use of a generic type makes the Swift
/// runtime scan the binary's ~6,000 protocol conformances. berth-runtime does the same
/// for its hot commands (QuickCommandLine).
///
/// Anything else returns nil and ArgumentParser reads the line, so help, completions and
/// every error message come from one place: an unknown or repeated option, combined
/// short flags, `--`, an option after the first positional word, a value that looks like
/// an option or does not parse. The result is a RunCommand with every property set, as
/// ArgumentParser's would be (QuickRunParseTests compares the two).
enum QuickRun {
    static func parse(_ words: [String]) -> RunCommand? {
        guard words.first == "run" else { return nil }
        var values: [String: String] = [:]
        var lists: [String: [String]] = [:]
        var flags: Set<String> = []
        var index = 1
        while index < words.count, words[index].hasPrefix("-") {
            let word = words[index]
            index += 1
            var name = word, inline: String?
            if word.hasPrefix("--"), let eq = word.firstIndex(of: "=") {
                name = String(word[..<eq])
                inline = String(word[word.index(after: eq)...])
            }
            guard let canonical = aliases[name] ?? (known.contains(name) ? name : nil) else { return nil }
            if flagNames.contains(canonical) {
                guard inline == nil, flags.insert(canonical).inserted else { return nil }
                continue
            }
            let value: String
            if let inline {
                value = inline
            } else {
                guard index < words.count, !words[index].hasPrefix("-") else { return nil }
                value = words[index]
                index += 1
            }
            if listNames.contains(canonical) {
                lists[canonical, default: []].append(value)
            } else {
                guard values.updateValue(value, forKey: canonical) == nil else { return nil }
            }
        }
        // The first positional word; an option right after it is left to ArgumentParser.
        guard index < words.count, !words[index].hasPrefix("-") else { return nil }
        let first = words[index]
        let rest = Array(words[(index + 1)...])
        if let next = rest.first, next.hasPrefix("-") { return nil }

        var globals = GlobalOptions()
        globals.address = values["--address"]
        globals.namespace = values["--namespace"]
        guard let timeout = double(values["--timeout"], default: 10), timeout > 0,
              let format = OutputFormat(rawValue: values["--format"] ?? "table") else { return nil }
        globals.timeout = timeout
        globals.format = format

        var spec = SpecOptions()
        spec.env = lists["--env"] ?? []
        spec.cwd = values["--cwd"]
        spec.user = values["--user"]
        spec.mount = lists["--mount"] ?? []
        spec.netHost = flags.contains("--net-host")
        spec.hostname = values["--hostname"]
        guard let memoryLimit = int64(values["--memory-limit"]), let cpus = double(values["--cpus"]),
              let pidsLimit = int64(values["--pids-limit"]) else { return nil }
        spec.memoryLimit = memoryLimit
        spec.cpus = cpus
        spec.pidsLimit = pidsLimit
        spec.capAdd = lists["--cap-add"] ?? []
        spec.capDrop = lists["--cap-drop"] ?? []
        spec.privileged = flags.contains("--privileged")
        spec.readOnly = flags.contains("--read-only")
        spec.seccompProfile = values["--seccomp-profile"]
        spec.runtime = values["--runtime"] ?? "berth"

        var command = RunCommand()
        command.globals = globals
        command.specOptions = spec
        command.rootfs = values["--rootfs"]
        command.snapshotter = values["--snapshotter"] ?? Snapshots.defaultSnapshotter
        command.rm = flags.contains("--rm")
        command.detach = flags.contains("--detach")
        command.tty = flags.contains("--tty")
        command.logURI = values["--log-uri"]
        command.first = first
        command.rest = rest
        return command
    }

    /// Options that take one value (a second one falls back).
    private static let valueNames: Set<String> = [
        "--address", "--namespace", "--timeout", "--format", "--cwd", "--user", "--hostname", "--memory-limit",
        "--cpus", "--pids-limit", "--seccomp-profile", "--runtime", "--rootfs", "--snapshotter", "--log-uri",
    ]
    /// Options that may repeat, each adding a value.
    private static let listNames: Set<String> = ["--env", "--mount", "--cap-add", "--cap-drop"]
    private static let flagNames: Set<String> = ["--net-host", "--privileged", "--read-only", "--rm", "--detach", "--tty"]
    private static let known = valueNames.union(listNames).union(flagNames)
    private static let aliases: [String: String] = [
        "-a": "--address", "-n": "--namespace", "-e": "--env", "-u": "--user", "-d": "--detach", "-t": "--tty",
    ]

    /// nil for a text that does not parse; .some(nil) for no text.
    private static func int64(_ text: String?) -> Int64?? {
        guard let text else { return .some(nil) }
        return Int64(text).map { .some($0) }
    }

    private static func double(_ text: String?) -> Double?? {
        guard let text else { return .some(nil) }
        return Double(text).map { .some($0) }
    }

    private static func double(_ text: String?, default value: Double) -> Double? {
        guard let text else { return value }
        return Double(text)
    }
}
