import ArgumentParser
import BerthAPI
#if canImport(Glibc)
import Glibc
#endif

/// `berthctl events`: prints events as they happen, like `ctr events`.
struct EventsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events",
        abstract: "Print events as they happen, until interrupted.",
        discussion: """
            Each FILTER is a containerd filter (topic=="/tasks/exit",namespace==default); an \
            event is printed when any FILTER matches, every event without one. --since SEQ \
            first replays the journal's events after SEQ. One line per event: timestamp, \
            namespace, topic, payload JSON; with --format json one envelope per line. If \
            berthd drops the subscription for falling behind, berthctl says so on stderr \
            and exits with status 1.
            """,
        aliases: ["event"]
    )

    @OptionGroup var globals: GlobalOptions
    @Option(help: "Replay the events after this seq first, then follow.") var since: UInt64?
    @Argument(help: "Filters, any of which selects an event.") var filters: [String] = []

    func run() async throws {
        let json = globals.format == .json
        try await globals.withClient { client in
            let subscription = try await client.subscribeEvents(filters: filters, afterSeq: since)
            do {
                for try await event in subscription {
                    print(try Self.line(event, json: json))
                    fflush(nil)
                }
            } catch let overflow as EventsOverflowError {
                printError("events dropped: berthd dropped this subscriber for falling behind after seq \(overflow.lastSeq); "
                    + "run again with --since \(overflow.lastSeq) to continue")
                throw ExitCode.failure
            }
        }
    }

    /// `timestamp namespace topic payload`, or the envelope as one line of JSON.
    static func line(_ event: Event, json: Bool) throws -> String {
        if json { return String(decoding: try WireJSON.encode(event), as: UTF8.self) }
        let payload = String(decoding: try WireJSON.encode(event.payload), as: UTF8.self)
        return "\(event.timestamp) \(event.namespace) \(event.topic) \(payload)"
    }
}
