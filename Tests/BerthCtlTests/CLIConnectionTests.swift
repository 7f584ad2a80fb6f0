import Foundation
import Testing

/// How berthctl finds berthd (flags, environment) and what it says when it cannot.
@Suite("berthctl connection and global flags", .timeLimit(.minutes(3)))
struct CLIConnectionTests {
    enum Absence: String, CaseIterable, CustomTestStringConvertible {
        case noFile = "no file at the address"
        case staleSocket = "a socket file nobody listens on"
        var testDescription: String { rawValue }
    }

    @Test("without berthd: one line on stderr naming the address and asking if berthd runs, exit 1, no stdout",
          arguments: Absence.allCases)
    func noDaemon(_ absence: Absence) async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let address = scratch("b.sock")
        if absence == .staleSocket { try UnixSocket.makeStale(at: address) }

        for command in [["version"], ["info"], ["namespaces", "ls"], ["namespaces", "create", "x"]] {
            let result = try await berthctl(command, env: ["BERTH_ADDRESS": address])
            #expect(result.status == 1, "\(command): \(result)")
            #expect(result.stdout.isEmpty, "\(command): \(result)")
            #expect(result.stderrLines.count == 1, "\(command): \(result)")
            #expect(result.stderr.contains(address), "\(command): \(result)")
            #expect(result.stderr.contains("is berthd running?"), "\(command): \(result)")
        }
    }

    @Test("-a/--address and -n/--namespace work after the subcommand; -a wins over BERTH_ADDRESS")
    func globalFlagsAfterSubcommand() async throws {
        try await withDaemon { daemon, scratch in
            let address = daemon.address
            #expect(try await berthctl("namespaces", "create", "build", address: address).status == 0)
            let nowhere = scratch("nowhere.sock")

            let short = try await berthctl(["namespaces", "ls", "-q", "-a", address])
            #expect(short.status == 0 && short.stdout == "build\n", "\(short)")
            let long = try await berthctl(["namespaces", "ls", "-q", "--address", address, "--namespace", "other"])
            #expect(long.status == 0 && long.stdout == "build\n", "\(long)")
            let withNamespace = try await berthctl(["namespaces", "ls", "-a", address, "-n", "other", "-q"])
            #expect(withNamespace.status == 0 && withNamespace.stdout == "build\n", "\(withNamespace)")

            let flagWins = try await berthctl(["version", "-a", address], env: ["BERTH_ADDRESS": nowhere])
            #expect(flagWins.status == 0, "\(flagWins)")

            let envOnly = try await berthctl(["namespaces", "ls", "-q"], env: ["BERTH_ADDRESS": address])
            #expect(envOnly.status == 0 && envOnly.stdout == "build\n", "\(envOnly)")

            let envWrong = try await berthctl(["namespaces", "ls"], env: ["BERTH_ADDRESS": nowhere])
            #expect(envWrong.status == 1 && envWrong.stderr.contains(nowhere), "\(envWrong)")
        }
    }

    @Test("--timeout must be positive: 0 and negative values are usage errors")
    func timeoutMustBePositive() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        for flags in [["--timeout", "0"], ["--timeout", "0.0"], ["--timeout=-1"]] {
            let result = try await berthctl(["version"] + flags, env: ["BERTH_ADDRESS": scratch("b.sock")])
            #expect(result.status == 64, "\(flags): \(result)")
            #expect(result.stderr.contains("--timeout must be positive"), "\(flags): \(result)")
            #expect(result.stdout.isEmpty, "\(flags): \(result)")
        }
    }
}
