import ArgumentParser
import BerthAPI

struct NamespacesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "namespaces",
        abstract: "Manage namespaces.",
        subcommands: [Create.self, List.self, Remove.self, Label.self],
        aliases: ["namespace", "ns"]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "create", abstract: "Create a namespace with optional labels.")
        @OptionGroup var globals: GlobalOptions
        @Argument(help: "The namespace's name.") var name: String
        @Argument(help: "Labels as key=value.") var labels: [String] = []

        func run() async throws {
            let labels = try parseLabels(labels)
            _ = try await globals.withClient { try await $0.createNamespace(name, labels: labels) }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "ls", abstract: "List namespaces.", aliases: ["list"])
        @OptionGroup var globals: GlobalOptions
        @Flag(name: .shortAndLong, help: "Print only the names.") var quiet = false

        func run() async throws {
            let namespaces = try await globals.withClient { try await $0.namespaces() }
            if quiet {
                namespaces.forEach { print($0.name) }
            } else if globals.format == .json {
                try printJSON(namespaces)
            } else {
                printTable(["NAME", "LABELS"], namespaces.map { [$0.name, formatLabels($0.labels)] })
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rm", abstract: "Remove empty namespaces; each name is tried, and the exit status says if any failed.",
            aliases: ["remove"])
        @OptionGroup var globals: GlobalOptions
        @Argument(help: "Namespaces to remove.") var names: [String]

        func run() async throws {
            try await globals.forEachReportingFailures(names) { client, name in
                try await client.deleteNamespace(name)
                print(name)
            }
        }
    }

    struct Label: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "label", abstract: "Set labels on a namespace; key= removes a label. Prints the resulting labels.")
        @OptionGroup var globals: GlobalOptions
        @Argument(help: "The namespace's name.") var name: String
        @Argument(help: "Labels as key=value.") var labels: [String] = []

        func run() async throws {
            let labels = try parseLabels(labels)
            let namespace = try await globals.withClient { client in
                labels.isEmpty ? try await client.namespace(name) : try await client.labelNamespace(name, labels)
            }
            if globals.format == .json { try printJSON(namespace.labels) } else { print(formatLabels(namespace.labels)) }
        }
    }
}
