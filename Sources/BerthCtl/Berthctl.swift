import ArgumentParser

/// berthctl: the admin CLI, shaped like containerd's ctr. Commands talk to berthd only
/// through the BerthAPI client library.
public struct Berthctl: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "berthctl",
        abstract: "Administer Berth: the berthd daemon, its namespaces, containers and images.",
        subcommands: [VersionCommand.self, InfoCommand.self, NamespacesCommand.self]
    )

    public init() {}
}

extension Berthctl {
    /// Parses the command line and runs the chosen subcommand, awaiting async ones.
    /// (A root without `run()` would otherwise resolve to the synchronous `main`.)
    public static func entry(_ arguments: [String]? = nil) async {
        do {
            var command = try parseAsRoot(arguments)
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
