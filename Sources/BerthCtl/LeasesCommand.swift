import ArgumentParser
import BerthAPI

/// `berthctl leases`, shaped like `ctr leases`: garbage-collection roots a client holds
/// while it works.
struct LeasesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "leases",
        abstract: "Manage leases (what keeps content and snapshots from garbage collection while a client works).",
        subcommands: [List.self, Create.self, Remove.self],
        aliases: ["lease"]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "ls", abstract: "List the leases of the namespace.", aliases: ["list"])
        @OptionGroup var globals: GlobalOptions
        @Flag(name: [.short, .long], help: "Print only the ids.") var quiet = false
        @Argument(help: "Filters (id==ID, labels.KEY==VALUE); several are OR-ed.") var filters: [String] = []

        func run() async throws {
            let leases = try await globals.withClient { client in
                try await client.call(API.leasesList, ListLeasesRequest(namespace: globals.resolvedNamespace, filters: filters.isEmpty ? nil : filters)).leases
            }
            if quiet {
                for lease in leases { print(lease.id) }
            } else if globals.format == .json {
                try printJSON(leases)
            } else {
                printTable(["ID", "CREATED AT", "LABELS"], leases.map { lease in
                    [lease.id, RFC3339.seconds(lease.createdAt).map { RFC3339.format(seconds: $0) } ?? lease.createdAt,
                     lease.labels.isEmpty ? "-" : formatLabels(lease.labels)]
                })
            }
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "create", abstract: "Create a lease and print its id.")
        @OptionGroup var globals: GlobalOptions
        @Option(help: "The lease's id (default: generated).") var id: String?
        @Option(name: [.customShort("x"), .long], help: "How long the lease protects, as 30m, 24h or 1h30m; 0 never expires.")
        var expires: String = "24h"
        @Option(name: .customLong("label"), help: "A label key=value (repeatable).") var labelOptions: [String] = []
        @Argument(help: "More labels as key=value, as ctr takes them.") var labels: [String] = []

        func validate() throws {
            guard goDuration(expires) != nil else {
                throw ValidationError("--expires \"\(expires)\" is not a duration such as 30m, 24h or 1h30m")
            }
        }

        func run() async throws {
            var labels = try parseLabels(labelOptions + self.labels)
            if let seconds = goDuration(expires), seconds > 0 {
                labels[GCLabels.expire] = RFC3339.format(seconds: RFC3339.now() + Int(seconds.rounded(.up)))
            }
            let lease = try await globals.withClient { client in
                try await client.call(API.leasesCreate, CreateLeaseRequest(namespace: globals.resolvedNamespace, id: id, labels: labels.isEmpty ? nil : labels)).lease
            }
            if globals.format == .json { try printJSON(lease) } else { print(lease.id) }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rm",
            abstract: "Remove leases; prints each one removed, reports the rest, and the exit status says if any failed.",
            aliases: ["remove", "delete", "del"])
        @OptionGroup var globals: GlobalOptions
        @Flag(help: "Collect garbage before each removal returns.") var sync = false
        @Argument(help: "Lease ids.") var ids: [String]

        func run() async throws {
            try await globals.forEachReportingFailures(ids) { client, id in
                try await client.call(API.leasesDelete, DeleteLeaseRequest(namespace: globals.resolvedNamespace, id: id, sync: sync ? true : nil))
                print(id)
            }
        }
    }
}

/// Seconds in a Go duration (`time.ParseDuration`, as ctr's flags take them): a
/// sequence of decimal numbers with units `ns`, `us`/`µs`, `ms`, `s`, `m`, `h`
/// (`1h30m`, `1.5h`, `90s`), or `0`. Nil when malformed or negative.
func goDuration(_ text: String) -> Double? {
    if text == "0" { return 0 }
    let units: [(String, Double)] = [("ns", 1e-9), ("us", 1e-6), ("µs", 1e-6), ("ms", 1e-3), ("s", 1), ("m", 60), ("h", 3600)]
    var rest = Substring(text)
    var total = 0.0
    guard !rest.isEmpty else { return nil }
    while !rest.isEmpty {
        let number = rest.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
        guard !number.isEmpty, let value = Double(number) else { return nil }
        rest = rest.dropFirst(number.count)
        // Longest unit first, so "ms" is not read as "m".
        guard let (unit, scale) = units.sorted(by: { $0.0.count > $1.0.count }).first(where: { rest.hasPrefix($0.0) }) else { return nil }
        rest = rest.dropFirst(unit.count)
        total += value * scale
    }
    return total
}
