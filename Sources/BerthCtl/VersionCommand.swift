import ArgumentParser
import BerthAPI

struct VersionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "version", abstract: "Show the client and server versions.")

    @OptionGroup var globals: GlobalOptions

    func run() async throws {
        let server = try await globals.withClient { try await $0.version() }
        switch globals.format {
        case .json:
            struct Both: Encodable { let client: [String: String]; let server: VersionInfo }
            try printJSON(Both(client: ["apiVersion": "\(API.version)"], server: server))
        case .table:
            print("Client:\n  API version: \(API.version)\n")
            print("Server:\n  Version:     \(server.version)\n  Revision:    \(server.revision)\n  API version: \(server.apiVersion)")
        }
    }
}

struct InfoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "info", abstract: "Show what berthd runs on and what it found.")

    @OptionGroup var globals: GlobalOptions

    func run() async throws {
        let info = try await globals.withClient { try await $0.info() }
        switch globals.format {
        case .json:
            try printJSON(info)
        case .table:
            printTable(["KEY", "VALUE"], [
                ["version", "\(info.version.version) (\(info.version.revision), API \(info.version.apiVersion))"],
                ["pid", "\(info.pid)"],
                ["root", info.root],
                ["state", info.state],
                ["address", info.address],
                ["cgroups", info.cgroupMode],
                ["systemd", info.systemdBooted ? "booted" : "not booted"],
                ["seccomp", "libseccomp \(info.seccompVersion)"],
                ["runtimes", info.runtimes.map(\.name).joined(separator: ",")],
                ["snapshotters", info.snapshotters.joined(separator: ",")],
                ["max frame", "\(info.limits.maxFrameBytes) bytes"],
            ])
            print("")
            printTable(["TYPE", "ID", "STATUS"], info.plugins.map { [$0.type, $0.id, $0.error.map { "error: \($0)" } ?? $0.status] })
        }
    }
}
