import BerthAPI
@testable import BerthDaemon
import Foundation
import Testing

/// proto-docs/events.md documents every topic with a payload example that decodes into
/// its Swift type, and its notification examples decode into the notification types.
@Suite struct EventsProtoDocsTests {
    static let page = ProtoDocsTests.docsDirectory.appendingPathComponent("events.md")

    /// The first plain ```json block after each `#### \`/topic\`` heading.
    static func topicExamples() throws -> [String: String] {
        let text = try String(contentsOf: page, encoding: .utf8)
        var examples: [String: String] = [:]
        var topic: String?
        var block: [String]?
        for line in text.components(separatedBy: "\n") {
            if var open = block {
                if line.hasPrefix("```") {
                    if let t = topic, examples[t] == nil { examples[t] = open.joined(separator: "\n") }
                    block = nil
                } else {
                    open.append(line)
                    block = open
                }
            } else if line.hasPrefix("#### `/"), line.hasSuffix("`") {
                topic = String(line.dropFirst(6).dropLast())
            } else if line.hasPrefix("## ") || line.hasPrefix("### ") {
                topic = nil
            } else if line == "```json", topic != nil {
                block = []
            }
        }
        return examples
    }

    /// Plain ```json blocks anywhere on the page, one JSON document per line.
    static func plainJSONLines() throws -> [String] {
        let text = try String(contentsOf: page, encoding: .utf8)
        var lines: [String] = []
        var inBlock = false
        for line in text.components(separatedBy: "\n") {
            if inBlock {
                if line.hasPrefix("```") { inBlock = false } else if !line.isEmpty { lines.append(line) }
            } else if line == "```json" {
                inBlock = true
            }
        }
        return lines
    }

    @Test func everyTopicIsDocumentedWithAPayloadThatRoundTrips() throws {
        let examples = try Self.topicExamples()
        for topic in EventTopics.all {
            let example = try #require(examples[topic.name], "proto-docs/events.md has no example for \(topic.name)")
            let bytes = Array(example.utf8)
            let roundTrip = try topic.roundTripPayload(bytes)
            #expect(try WireJSON.decode(JSONValue.self, from: roundTrip) == WireJSON.decode(JSONValue.self, from: bytes),
                    "\(topic.name): the example does not match \(String(decoding: roundTrip, as: UTF8.self))")
        }
        let documented = Set(examples.keys)
        #expect(documented == Set(EventTopics.all.map(\.name)), "documented topics that do not exist: \(documented.subtracting(EventTopics.all.map(\.name)))")
    }

    @Test func notificationAndEnvelopeExamplesDecode() throws {
        var notifications = 0
        for line in try Self.plainJSONLines() {
            let bytes = Array(line.utf8)
            guard let value = try? WireJSON.decode(JSONValue.self, from: bytes) else { continue }
            func same<T: Codable>(_ type: T.Type, _ json: JSONValue) throws {
                let encoded = try WireJSON.encode(json)
                let again = try WireJSON.encode(WireJSON.decode(T.self, from: encoded))
                #expect(try WireJSON.decode(JSONValue.self, from: again) == json, "\(line)")
            }
            switch value["method"] {
            case .string("events.event")?:
                try same(EventNotification.self, try #require(value["params"]))
                notifications += 1
            case .string("events.overflow")?:
                try same(OverflowNotification.self, try #require(value["params"]))
                notifications += 1
            default:
                if value["seq"] != nil { try same(Event.self, value) }
            }
        }
        #expect(notifications >= 3)
    }
}
