import BerthAPI
@testable import BerthDaemon
import Foundation
import Testing

/// `berthctl events`, the built binary, against an in-process berthd.
@Suite struct EventsCLITests {
    static var berthctl: String? {
        guard let berthd = ChildBerthd.binary else { return nil }
        let path = URL(fileURLWithPath: berthd).deletingLastPathComponent().appendingPathComponent("berthctl").path
        return FileManager.default.isExecutableFile(atPath: path) ? path : nil
    }

    /// Runs berthctl until it has printed `lines` lines (then stops it), or until it exits.
    static func run(_ arguments: [String], address: String, lines: Int) async throws -> (out: [String], err: String, status: Int32) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: berthctl!)
        process.arguments = ["--address", address] + arguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let reader = out.fileHandleForReading
        let text = await onOwnThread { () -> String in
            var data = Data()
            while String(decoding: data, as: UTF8.self).filter({ $0 == "\n" }).count < lines {
                let chunk = reader.availableData
                if chunk.isEmpty { break }
                data += chunk
            }
            return String(decoding: data, as: UTF8.self)
        }
        if process.isRunning { process.terminate() }
        await onOwnThread { process.waitUntilExit() }
        let errText = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        return (text.split(separator: "\n").map(String.init), errText, process.terminationStatus)
    }

    @Test(.enabled(if: berthctl != nil, "build berthctl first"))
    func printsOneLinePerEventAndJSONOnRequest() async throws {
        try await withDaemon { daemon in
            let client = try await daemon.client()
            defer { client.close() }
            try await client.createNamespace("builds", labels: ["team": "ci"])
            try await client.publishEvent(namespace: "builds", topic: "/buildkit/done", payload: ["ref": "abc"])
            try await client.deleteNamespace("builds")

            let table = try await Self.run(["events", "--since", "0"], address: daemon.address, lines: 3)
            #expect(table.out.count == 3)
            let fields = table.out[0].split(separator: " ", maxSplits: 3).map(String.init)
            #expect(fields.count == 4 && fields[0].hasSuffix("Z") && fields[1] == "builds" && fields[2] == "/namespaces/create")
            #expect(fields[3] == #"{"labels":{"team":"ci"},"name":"builds"}"#)
            #expect(table.out[1].hasSuffix(#" builds /buildkit/done {"ref":"abc"}"#))

            let json = try await Self.run(["events", "--since", "1", "--format", "json", #"topic~="^/namespaces/""#],
                                          address: daemon.address, lines: 1)
            let event = try WireJSON.decode(Event.self, from: Array(try #require(json.out.first).utf8))
            #expect(event.seq == 3 && event.topic == "/namespaces/delete" && event.payload == .object(["name": .string("builds")]))
        }
    }

    @Test(.enabled(if: berthctl != nil, "build berthctl first"))
    func aBadFilterOrSinceFailsWithAMessage() async throws {
        try await withDaemon { daemon in
            let bad = try await Self.run(["events", "topic==/tasks/exit"], address: daemon.address, lines: 1)
            #expect(bad.status == 1 && bad.out.isEmpty)
            #expect(bad.err.contains("invalid filter: filters[0]: parse error at byte 7"), "\(bad.err)")
            let ahead = try await Self.run(["events", "--since", "9"], address: daemon.address, lines: 1)
            #expect(ahead.status == 1 && ahead.err.contains("ahead of the newest event"), "\(ahead.err)")
        }
    }

    /// A berthctl that stops reading (SIGSTOP) is dropped; when it runs again it prints
    /// what it was sent, says so on stderr, and exits 1.
    @Test(.enabled(if: berthctl != nil, "build berthctl first"))
    func aDroppedSubscriberExitsNonZeroSayingSo() async throws {
        try await withDaemon({ $0.eventsSubscriberQueue = 16 }) { daemon in
            let process = Process()
            process.executableURL = URL(fileURLWithPath: Self.berthctl!)
            process.arguments = ["--address", daemon.address, "events"]
            let out = Pipe()
            let err = Pipe()
            process.standardOutput = out
            process.standardError = err
            try process.run()
            defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } } // on a failure below
            let exchange = daemon.running.context.exchange
            #expect(await pollUntil { exchange.subscriptionCount == 1 })
            kill(process.processIdentifier, SIGSTOP)
            let client = try await daemon.client()
            defer { client.close() }
            _ = try await EventsTestSupport.publish(client, count: 3000, pad: 2000)
            #expect(exchange.subscriptionCount == 0)
            kill(process.processIdentifier, SIGCONT)
            let printed = await onOwnThread { out.fileHandleForReading.readDataToEndOfFile() }
            await onOwnThread { process.waitUntilExit() }
            let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            let lines = String(decoding: printed, as: UTF8.self).split(separator: "\n")
            #expect(process.terminationStatus == 1)
            #expect(stderr.contains("events dropped") && stderr.contains("--since \(lines.count)"), "\(stderr)")
            #expect(!lines.isEmpty && lines.count < 3000)
        }
    }
}
