import ArgumentParser
import BerthAPI
#if canImport(Glibc)
import Glibc
#endif

/// `berthctl snapshots`, shaped like `ctr snapshots`.
struct SnapshotsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshots",
        abstract: "Manage snapshots (the layered file systems containers run on).",
        discussion: "Every subcommand takes --snapshotter NAME (default overlayfs), also before it, as with ctr: berthctl snapshots --snapshotter native ls",
        subcommands: [Prepare.self, View.self, Commit.self, Remove.self, List.self, Info.self, Usage.self, Tree.self, Label.self, Mounts.self],
        aliases: ["snapshot"]
    )

    /// `--snapshotter`, accepted before the subcommand too (`snapshots --snapshotter native ls`).
    struct Options: ParsableArguments {
        @Option(help: "The snapshotter to use.") var snapshotter: String = Snapshots.defaultSnapshotter
    }

    struct Prepare: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "prepare", abstract: "Create an active snapshot on a committed parent.")
        @OptionGroup var globals: GlobalOptions
        @OptionGroup var options: Options
        @Option(name: .customLong("target"), help: "Print the mount command for this target.") var target: String?
        @Argument(help: "The new snapshot's key.") var key: String
        @Argument(help: "The committed parent (none: an empty base).") var parent: String?

        func run() async throws {
            let mounts = try await globals.withClient { client in
                try await client.call(API.snapshotsPrepare, PrepareSnapshotRequest(snapshotter: options.snapshotter, namespace: globals.resolvedNamespace, key: key, parent: parent)).mounts
            }
            if let target { printMountCommands(mounts, target: target) }
        }
    }

    struct View: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "view", abstract: "Create a read-only view of a committed snapshot.")
        @OptionGroup var globals: GlobalOptions
        @OptionGroup var options: Options
        @Option(name: .customLong("target"), help: "Print the mount command for this target.") var target: String?
        @Argument(help: "The view's key.") var key: String
        @Argument(help: "The committed snapshot to view.") var parent: String

        func run() async throws {
            let mounts = try await globals.withClient { client in
                try await client.call(API.snapshotsView, PrepareSnapshotRequest(snapshotter: options.snapshotter, namespace: globals.resolvedNamespace, key: key, parent: parent)).mounts
            }
            if let target { printMountCommands(mounts, target: target) }
        }
    }

    struct Commit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "commit", abstract: "Commit an active snapshot under a name.")
        @OptionGroup var globals: GlobalOptions
        @OptionGroup var options: Options
        @Argument(help: "The committed snapshot's name.") var name: String
        @Argument(help: "The active snapshot's key.") var key: String

        func run() async throws {
            try await globals.withClient { client in
                try await client.call(API.snapshotsCommit, CommitSnapshotRequest(snapshotter: options.snapshotter, namespace: globals.resolvedNamespace, name: name, key: key))
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rm", abstract: "Remove snapshots; each key is tried, and the exit status says if any failed.", aliases: ["remove", "delete", "del"])
        @OptionGroup var globals: GlobalOptions
        @OptionGroup var options: Options
        @Argument(help: "Keys or names to remove.") var keys: [String]

        func run() async throws {
            try await globals.forEachReportingFailures(keys, naming: true) { client, key in
                try await client.call(API.snapshotsRemove, SnapshotKeyRequest(snapshotter: options.snapshotter, namespace: globals.resolvedNamespace, key: key))
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "ls", abstract: "List snapshots.", aliases: ["list"])
        @OptionGroup var globals: GlobalOptions
        @OptionGroup var options: Options
        @Argument(help: "Filters (kind==active, parent==NAME, labels.KEY==VALUE); several are OR-ed.") var filters: [String] = []

        func run() async throws {
            let infos = try await snapshotInfos(globals, options, filters)
            if globals.format == .json { try printJSON(infos) } else {
                printTable(["KEY", "PARENT", "KIND"], infos.map { [$0.name, $0.parent ?? "", $0.kind.rawValue] })
            }
        }
    }

    struct Info: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "info", abstract: "Show a snapshot's info as JSON.")
        @OptionGroup var globals: GlobalOptions
        @OptionGroup var options: Options
        @Argument(help: "The key or name.") var key: String

        func run() async throws {
            let info = try await globals.withClient { client in
                try await client.call(API.snapshotsStat, SnapshotKeyRequest(snapshotter: options.snapshotter, namespace: globals.resolvedNamespace, key: key)).info
            }
            try printJSON(info)
        }
    }

    struct Usage: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "usage", abstract: "Show the disk usage of one or every snapshot (parents excluded).")
        @OptionGroup var globals: GlobalOptions
        @OptionGroup var options: Options
        @Flag(name: .customShort("b"), help: "Print sizes in bytes.") var bytes = false
        @Argument(help: "The key or name (none: all).") var key: String?

        func run() async throws {
            let rows: [(String, SnapshotUsage)] = try await globals.withClient { client in
                var keys = key.map { [$0] } ?? []
                if key == nil {
                    keys = try await client.call(API.snapshotsList, ListSnapshotsRequest(snapshotter: options.snapshotter, namespace: globals.resolvedNamespace)).info.map(\.name)
                }
                var rows: [(String, SnapshotUsage)] = []
                for key in keys {
                    rows.append((key, try await client.call(API.snapshotsUsage, SnapshotKeyRequest(snapshotter: options.snapshotter, namespace: globals.resolvedNamespace, key: key))))
                }
                return rows
            }
            if globals.format == .json {
                struct Row: Encodable { let key: String; let size: Int64; let inodes: Int64 }
                try printJSON(rows.map { Row(key: $0.0, size: $0.1.size, inodes: $0.1.inodes) })
            } else {
                printTable(["KEY", "SIZE", "INODES"], rows.map { [$0.0, bytes ? "\($0.1.size)" : humanSize($0.1.size), "\($0.1.inodes)"] })
            }
        }
    }

    struct Tree: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "tree", abstract: "Show snapshots as a tree of parents and children.")
        @OptionGroup var globals: GlobalOptions
        @OptionGroup var options: Options

        func run() async throws {
            let infos = try await snapshotInfos(globals, options, [])
            let children = Dictionary(grouping: infos.filter { $0.parent != nil }, by: { $0.parent! })
            let names = Set(infos.map(\.name))
            func show(_ info: SnapshotInfo, _ depth: Int) {
                print(depth == 0 ? info.name : String(repeating: " ", count: 2 + 3 * (depth - 1)) + "\\_ " + info.name)
                for child in children[info.name] ?? [] { show(child, depth + 1) }
            }
            for root in infos where root.parent == nil || !names.contains(root.parent!) { show(root, 0) }
        }
    }

    struct Label: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "label", abstract: "Set labels on a snapshot; key= removes a label. Prints the resulting labels.")
        @OptionGroup var globals: GlobalOptions
        @OptionGroup var options: Options
        @Argument(help: "The key or name.") var key: String
        @Argument(help: "Labels as key=value.") var labels: [String] = []

        func run() async throws {
            let labels = try parseLabels(labels)
            let info = try await globals.withClient { client in
                let request = SnapshotKeyRequest(snapshotter: options.snapshotter, namespace: globals.resolvedNamespace, key: key)
                if labels.isEmpty { return try await client.call(API.snapshotsStat, request).info }
                let info = SnapshotInfo(name: key, kind: .active, labels: labels, createdAt: "", updatedAt: "")
                let update = UpdateSnapshotRequest(snapshotter: options.snapshotter, namespace: globals.resolvedNamespace, info: info,
                                                   updateMask: labels.keys.sorted().map { "labels.\($0)" })
                return try await client.call(API.snapshotsUpdate, update).info
            }
            if globals.format == .json { try printJSON(info.labels) } else { print(formatLabels(info.labels)) }
        }
    }

    struct Mounts: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "mounts", abstract: "Print the mount command lines that mount a snapshot on TARGET.", aliases: ["m", "mount"])
        @OptionGroup var globals: GlobalOptions
        @OptionGroup var options: Options
        @Argument(help: "Where to mount.") var target: String
        @Argument(help: "The active or view snapshot's key.") var key: String

        func run() async throws {
            let mounts = try await globals.withClient { client in
                try await client.call(API.snapshotsMounts, SnapshotKeyRequest(snapshotter: options.snapshotter, namespace: globals.resolvedNamespace, key: key)).mounts
            }
            printMountCommands(mounts, target: target)
        }
    }
}

private func snapshotInfos(_ globals: GlobalOptions, _ options: SnapshotsCommand.Options, _ filters: [String]) async throws -> [SnapshotInfo] {
    try await globals.withClient { client in
        try await client.call(API.snapshotsList, ListSnapshotsRequest(snapshotter: options.snapshotter, namespace: globals.resolvedNamespace,
                                                                      filters: filters.isEmpty ? nil : filters)).info
    }
}

/// One `mount …` line per mount, runnable in a shell as ctr's are. An overlay whose
/// options exceed mount(2)'s page is printed in containerd's compact form: from the
/// layers' common directory, in a subshell, with relative paths.
func printMountCommands(_ mounts: [Mount], target: String) {
    for line in mountCommands(mounts, target: target) { print(line) }
}

func mountCommands(_ mounts: [Mount], target: String) -> [String] {
    let absolute = target.hasPrefix("/") ? target : currentDirectory() + "/" + target
    return mounts.map { m in
        let data = m.options.joined(separator: ",")
        if data.utf8.count > Mount.maxMountData, let (directory, relative) = m.relativeOverlayOptions() {
            return "(cd \(shellQuote(directory)) && mount -t \(shellQuote(m.type)) \(shellQuote(m.source)) \(shellQuote(absolute)) -o \(shellQuote(relative.joined(separator: ","))))"
        }
        let options = data.isEmpty ? "" : " -o " + shellQuote(data)
        return "mount -t \(shellQuote(m.type)) \(shellQuote(m.source)) \(shellQuote(target))" + options
    }
}

func shellQuote(_ word: String) -> String {
    let safe = word.unicodeScalars.allSatisfy { $0.properties.isAlphabetic || ("0"..."9").contains($0) || "/._-=,:+@%".unicodeScalars.contains($0) }
    return safe && !word.isEmpty ? word : "'" + word.replacingAll("'", with: "'\\''") + "'"
}

func currentDirectory() -> String {
    var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
    guard getcwd(&buffer, buffer.count) != nil else { return "." }
    return String(cString: buffer)
}

/// Sizes as ctr prints them (`4.0 KiB`).
func humanSize(_ bytes: Int64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"]
    var value = Double(bytes)
    var unit = 0
    while value >= 1024 && unit < units.count - 1 { value /= 1024; unit += 1 }
    if unit == 0 { return "\(bytes) B" }
    let tenths = Int((value * 10).rounded())
    return "\(tenths / 10).\(tenths % 10) \(units[unit])"
}

extension String {
    func replacingAll(_ target: Character, with replacement: String) -> String {
        var out = ""
        for c in self { if c == target { out += replacement } else { out.append(c) } }
        return out
    }
}
