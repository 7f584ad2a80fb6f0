import ArgumentParser

/// berthctl: the admin CLI, shaped like containerd's ctr. Commands talk to berthd only
/// through the BerthAPI client library.
public struct Berthctl: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "berthctl",
        abstract: "Administer Berth: the berthd daemon, its namespaces, containers and images.",
        subcommands: [VersionCommand.self, InfoCommand.self, NamespacesCommand.self, EventsCommand.self]
    )

    public init() {}
}

extension Berthctl {
    /// Parses the command line and runs the chosen subcommand, awaiting async ones.
    /// (A root without `run()` would otherwise resolve to the synchronous `main`.)
    public static func entry(_ arguments: [String]? = nil) async {
        do {
            let words = hoistGlobalOptions(arguments ?? Array(CommandLine.arguments.dropFirst()))
            var command = try parseAsRoot(words)
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}

extension Berthctl {
    /// Global options that take a value, which ctr users write before the subcommand
    /// (`berthctl -n k8s.io namespaces ls`).
    static let globalOptionsWithValue: Set<String> = ["-a", "--address", "-n", "--namespace", "--timeout", "--format"]

    /// Moves global options written before the subcommand to just after the subcommand
    /// path, where the leaf command's `@OptionGroup` parses them. Arguments after the
    /// path (including anything after `--`) keep their order.
    static func hoistGlobalOptions(_ arguments: [String]) -> [String] {
        var globals: [String] = []
        var rest = ArraySlice(arguments)
        while let first = rest.first, first.hasPrefix("-") {
            let name = first.split(separator: "=", maxSplits: 1).first.map(String.init) ?? first
            guard globalOptionsWithValue.contains(name) else { break }
            globals.append(rest.removeFirst())
            if !first.contains("="), let value = rest.first {
                globals.append(value)
                rest.removeFirst()
            }
        }
        guard !globals.isEmpty else { return arguments }
        var path: [String] = []
        var command: any ParsableCommand.Type = Berthctl.self
        while let word = rest.first,
              let sub = command.configuration.subcommands.first(where: {
                  $0.configuration.commandName == word || $0.configuration.aliases.contains(word)
              }) {
            path.append(rest.removeFirst())
            command = sub
        }
        return path + globals + Array(rest)
    }
}
