import ArgumentParser
import BerthAPI
#if canImport(Glibc)
import Glibc
#endif

/// Options every berthctl command takes, as ctr's global flags.
public struct GlobalOptions: ParsableArguments {
    @Option(name: [.short, .long], help: "Address of berthd's socket (env BERTH_ADDRESS). Default: /run/berth/berthd.sock")
    var address: String?

    @Option(name: [.short, .long], help: "Namespace to use (env BERTH_NAMESPACE). Default: default")
    var namespace: String?

    @Option(help: "Seconds to wait for each call to berthd.")
    var timeout: Double = 10

    @Option(help: "Output format: table or json.")
    var format: OutputFormat = .table

    public init() {}

    static let defaultAddress = "/run/berth/berthd.sock"

    var resolvedAddress: String {
        address ?? environment("BERTH_ADDRESS") ?? Self.defaultAddress
    }

    var resolvedNamespace: String {
        namespace ?? environment("BERTH_NAMESPACE") ?? "default"
    }

    public mutating func validate() throws {
        guard timeout > 0 else { throw ValidationError("--timeout must be positive") }
    }

    /// Connects, runs `body`, and turns failures into one clear line and exit status 1.
    func withClient<T>(_ body: (BerthClient) async throws -> T) async throws -> T {
        let address = resolvedAddress
        let client: BerthClient
        do {
            client = try await BerthClient.connect(to: address, timeout: .milliseconds(Int64(timeout * 1000)))
        } catch {
            let cause = rootCause(error)
            if cause.contains("Permission denied") {
                printError("permission denied connecting to berthd at \(address): run as root or as a member of the socket's group")
            } else {
                printError("cannot connect to berthd at \(address): is berthd running? (\(cause))")
            }
            throw ExitCode.failure
        }
        defer { client.close() }
        do {
            return try await body(client)
        } catch let error as BerthError {
            printError(error.message)
            throw ExitCode.failure
        }
    }

    /// The connect error without the address, which the caller's line already names.
    private func rootCause(_ error: any Error) -> String {
        let text = "\(error)"
        let prefix = "cannot connect to berthd at \(resolvedAddress): "
        return text.hasPrefix(prefix) ? String(text.dropFirst(prefix.count)) : text
    }
}

public enum OutputFormat: String, ExpressibleByArgument, CaseIterable, Sendable {
    case table, json
}

func environment(_ name: String) -> String? {
    guard let value = getenv(name) else { return nil }
    let s = String(cString: value)
    return s.isEmpty ? nil : s
}

func printError(_ message: String) {
    var line = "berthctl: " + message + "\n"
    line.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
}

/// Parses `key=value` words; `key=` (empty value) is kept, meaning "remove" on update.
func parseLabels(_ words: [String]) throws -> [String: String] {
    var labels: [String: String] = [:]
    for word in words {
        guard let eq = word.firstIndex(of: "="), eq != word.startIndex else {
            throw ValidationError("label \"\(word)\" must be key=value")
        }
        labels[String(word[..<eq])] = String(word[word.index(after: eq)...])
    }
    return labels
}

extension GlobalOptions {
    /// Runs `body` for each of `items` on one connection, as the `rm` subcommands do:
    /// a failure is reported on a line of its own (after `item: ` when `naming`), the
    /// other items still run, and the exit status is 1 when any failed.
    func forEachReportingFailures(_ items: [String], naming: Bool = false,
                                  _ body: (BerthClient, String) async throws -> Void) async throws {
        var failed = false
        try await withClient { client in
            for item in items {
                do {
                    try await body(client, item)
                } catch let error as BerthError {
                    printError(naming ? "\(item): \(error.message)" : error.message)
                    failed = true
                }
            }
        }
        if failed { throw ExitCode.failure }
    }
}
