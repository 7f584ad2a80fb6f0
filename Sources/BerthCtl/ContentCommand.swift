import ArgumentParser
import BerthAPI

/// `berthctl content`, shaped like `ctr content` (its list, label and delete; blobs get
/// in through image import and pull, which the daemon does itself).
struct ContentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "content",
        abstract: "Manage content (the blobs images are made of, by digest).",
        subcommands: [List.self, Info.self, Remove.self, Label.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "ls", abstract: "List the blobs of the namespace.", aliases: ["list"])
        @OptionGroup var globals: GlobalOptions
        @Flag(name: [.short, .long], help: "Print only the digests.") var quiet = false
        @Argument(help: "Filters (digest==D, size==N, labels.KEY==VALUE, labels.\"a.b/c\"); several are OR-ed.") var filters: [String] = []

        func run() async throws {
            let infos = try await globals.withClient { client in
                try await client.call(API.contentList, ListContentRequest(namespace: globals.resolvedNamespace, filters: filters.isEmpty ? nil : filters)).infos
            }
            if quiet {
                for info in infos { print(info.digest) }
            } else if globals.format == .json {
                try printJSON(infos)
            } else {
                let now = RFC3339.now()
                printTable(["DIGEST", "SIZE", "AGE", "LABELS"], infos.map { info in
                    [info.digest, humanSize(info.size), RFC3339.seconds(info.createdAt).map { humanDuration(now - $0) } ?? "-",
                     info.labels.isEmpty ? "-" : formatLabels(info.labels)]
                })
            }
        }
    }

    struct Info: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "info", abstract: "Show a blob's info as JSON.")
        @OptionGroup var globals: GlobalOptions
        @Argument(help: "The blob's digest (sha256:…).") var digest: String

        func run() async throws {
            let info = try await globals.withClient { client in
                try await client.call(API.contentInfo, ContentDigestRequest(namespace: globals.resolvedNamespace, digest: digest)).info
            }
            try printJSON(info)
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rm",
            abstract: "Remove blobs from the namespace; prints each one removed, reports the rest, and the exit status says if any failed.",
            discussion: "The bytes stay on disk while another namespace holds the same blob.",
            aliases: ["remove", "delete", "del"])
        @OptionGroup var globals: GlobalOptions
        @Argument(help: "Digests to remove.") var digests: [String]

        func run() async throws {
            try await globals.forEachReportingFailures(digests) { client, digest in
                try await client.call(API.contentDelete, ContentDigestRequest(namespace: globals.resolvedNamespace, digest: digest))
                print(digest)
            }
        }
    }

    struct Label: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "label", abstract: "Set labels on a blob; key= removes a label. Prints the resulting labels.")
        @OptionGroup var globals: GlobalOptions
        @Argument(help: "The blob's digest.") var digest: String
        @Argument(help: "Labels as key=value.") var labels: [String] = []

        func run() async throws {
            let labels = try parseLabels(labels)
            let info = try await globals.withClient { client in
                let namespace = globals.resolvedNamespace
                // As ctr: no labels shows the current ones and changes nothing.
                if labels.isEmpty { return try await client.call(API.contentInfo, ContentDigestRequest(namespace: namespace, digest: digest)).info }
                let update = UpdateContentRequest(namespace: namespace, info: ContentInfo(digest: digest, size: 0, labels: labels),
                                                  updateMask: labels.keys.sorted().map { "labels.\($0)" })
                return try await client.call(API.contentUpdate, update).info
            }
            if globals.format == .json { try printJSON(info.labels) } else { print(formatLabels(info.labels)) }
        }
    }
}

/// An age as ctr prints it (go-units' `HumanDuration`): `3 seconds`, `About a minute`,
/// `5 hours`, `2 weeks`.
func humanDuration(_ seconds: Int) -> String {
    let s = max(0, seconds)
    let minutes = s / 60, hours = s / 3600, days = s / 86400
    switch s {
    case ..<1: return "Less than a second"
    case 1: return "1 second"
    case ..<60: return "\(s) seconds"
    case ..<120: return "About a minute"
    case ..<(46 * 60): return "\(minutes) minutes"
    case ..<(90 * 60): return "About an hour"
    case ..<(48 * 3600): return "\(hours) hours"
    case ..<(7 * 2 * 86400): return "\(days) days"
    case ..<(30 * 3 * 86400): return "\(days / 7) weeks"
    case ..<(365 * 2 * 86400): return "\(days / 30) months"
    default: return "\(days / 365) years"
    }
}
