import ArgumentParser
import BerthAPI

struct ContainersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "containers", abstract: "Manage containers (metadata; their processes are tasks).",
        subcommands: [Create.self, List.self, Info.self, Remove.self, Label.self], aliases: ["container", "c"])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "create", abstract: "Create a container: ID [CMD [ARG...]].")
        @OptionGroup var globals: GlobalOptions
        @OptionGroup var specOptions: SpecOptions
        @Option(help: "Label key=value (repeatable).") var label: [String] = []
        @Argument var id: String
        @Argument(parsing: .captureForPassthrough) var args: [String] = []

        func run() async throws {
            let namespace = globals.resolvedNamespace
            let (spec, specLabels) = try specOptions.spec(namespace: namespace, id: id, args: args)
            let labels = specLabels.merging(try parseLabels(label)) { $1 }
            let container = Container(id: id, runtime: .init(name: specOptions.runtime), spec: spec, labels: labels)
            try await globals.withClient { try await $0.callForEffect(API.containersCreate, CreateContainerRequest(namespace: namespace, container: container)) }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "ls", abstract: "List containers.", aliases: ["list"])
        @OptionGroup var globals: GlobalOptions
        @Flag(name: .shortAndLong, help: "Print only ids.") var quiet = false

        func run() async throws {
            let containers = try await globals.withClient { try await $0.call(API.containersList, NamespaceRequest(namespace: globals.resolvedNamespace)).containers }
            if quiet { return containers.forEach { print($0.id) } }
            if globals.format == .json { return try printJSON(containers) }
            printTable(["CONTAINER", "IMAGE", "RUNTIME"], containers.map { [$0.id, $0.image ?? "-", $0.runtime.name] })
        }
    }

    struct Info: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "info", abstract: "Show a container as JSON.")
        @OptionGroup var globals: GlobalOptions
        @Argument var id: String

        func run() async throws {
            let container = try await globals.withClient { try await $0.call(API.containersGet, ContainerRequest(namespace: globals.resolvedNamespace, id: id)).container }
            try printJSON(container)
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "rm", abstract: "Remove containers.", aliases: ["remove", "delete"])
        @OptionGroup var globals: GlobalOptions
        @Argument var ids: [String]

        func run() async throws {
            try await globals.forEachReportingFailures(ids) { client, id in
                try await client.call(API.containersDelete, ContainerRequest(namespace: globals.resolvedNamespace, id: id))
            }
        }
    }

    struct Label: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "label", abstract: "Set labels on a container (key= removes).")
        @OptionGroup var globals: GlobalOptions
        @Argument var id: String
        @Argument var labels: [String] = []

        func run() async throws {
            let labels = try parseLabels(labels)
            let namespace = globals.resolvedNamespace
            let updated = try await globals.withClient { client -> Container in
                var container = try await client.call(API.containersGet, ContainerRequest(namespace: namespace, id: id)).container
                container.labels = labels
                return try await client.call(API.containersUpdate, UpdateContainerRequest(
                    namespace: namespace, container: container, updateMask: labels.keys.sorted().map { "labels.\($0)" })).container
            }
            print(formatLabels(updated.labels))
        }
    }
}
