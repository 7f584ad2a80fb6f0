import ArgumentParser
import BerthAPI

/// berthctl: the admin CLI, shaped like containerd's ctr. Commands talk to berthd only
/// through the BerthAPI client library.
public struct Berthctl: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "berthctl",
        abstract: "Administer Berth: the berthd daemon, its namespaces, containers and images.",
        subcommands: [VersionCommand.self, InfoCommand.self, NamespacesCommand.self, SnapshotsCommand.self,
                      ContentCommand.self, LeasesCommand.self, ImagesCommand.self, ContainersCommand.self, TasksCommand.self,
                      RunCommand.self, EventsCommand.self, GCCommand.self]
    )

    public init() {}
}

extension Berthctl {
    /// Parses the command line and runs the chosen subcommand, awaiting async ones.
    /// (A root without `run()` would otherwise resolve to the synchronous `main`.)
    /// berthctl's Swift tasks run on its one NIO thread, the thread that reads the
    /// answers, instead of a pool thread woken for each one. Call before anything else.
    public static func useOneIOThread() {
        _ = IOThreadExecutor.install(loops: 1)
    }

    public static func entry(_ arguments: [String]? = nil) async {
        do {
            let words = hoistGlobalOptions(arguments ?? Array(CommandLine.arguments.dropFirst()))
            if let run = QuickRun.parse(words) {
                try await run.run()
                return
            }
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

    /// Options taken from anywhere in the subcommand path: the globals, and a noun's own
    /// (`snapshots --snapshotter native ls`, as ctr).
    static let hoistableOptions: Set<String> = globalOptionsWithValue.union(["--snapshotter"])

    /// Moves global options written before or inside the subcommand path to just after
    /// it, where the leaf command's `@OptionGroup` parses them. Arguments after the path
    /// (including anything after `--`) keep their order.
    static func hoistGlobalOptions(_ arguments: [String]) -> [String] {
        var hoisted: [String] = []
        var path: [String] = []
        var rest = ArraySlice(arguments)
        var command: any ParsableCommand.Type = Berthctl.self
        while let first = rest.first {
            if first.hasPrefix("-") {
                let name = first.split(separator: "=", maxSplits: 1).first.map(String.init) ?? first
                guard hoistableOptions.contains(name) else { break }
                hoisted.append(rest.removeFirst())
                if !first.contains("="), let value = rest.first {
                    hoisted.append(value)
                    rest.removeFirst()
                }
            } else if let sub = command.configuration.subcommands.first(where: {
                $0.configuration.commandName == first || $0.configuration.aliases.contains(first)
            }) {
                path.append(rest.removeFirst())
                command = sub
            } else {
                break
            }
        }
        guard !hoisted.isEmpty else { return arguments }
        return path + hoisted + Array(rest)
    }
}
