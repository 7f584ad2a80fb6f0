@testable import BerthAPI
import Foundation
import Testing

/// berthd reads its shims' events and writes the /tasks/* payloads by hand
/// (QuickEvents.swift). The payloads must be the very bytes JSONEncoder writes (they go
/// to the journal and to every subscriber), and a shim event must read as JSONDecoder
/// reads it, or not at all (JSONDecoder then).
@Suite struct QuickEventsTests {
    static func written(_ value: some QuickWritable) -> [UInt8] { RPCMessage.quickJSON(value) }

    static let texts = ["c1", "", "a\"b\\c", "tab\tnew\nline\r", "é/日本/😀", "2026-11-26T10:00:00.000000001Z",
                        String(repeating: "x", count: 300)]
    static let numbers: [UInt32] = [0, 1, 137, 255, UInt32(Int32.max), UInt32.max]

    /// Every payload both ways, over every text and number above.
    static func payloads() -> [any QuickWritable & Encodable] {
        var all: [any QuickWritable & Encodable] = []
        for (i, text) in texts.enumerated() {
            let other = texts[(i + 3) % texts.count]
            for number in numbers {
                all.append(TaskExitEvent(containerID: text, id: other, pid: number, exitStatus: number &+ 1, exitedAt: other))
                all.append(TaskDeleteEvent(containerID: other, id: text, pid: number, exitStatus: number / 2, exitedAt: text))
                all.append(TaskStartEvent(containerID: text, pid: number))
                all.append(TaskExecStartedEvent(containerID: text, execID: other, pid: number))
            }
            all.append(TaskExecAddedEvent(containerID: text, execID: other))
            all.append(TaskOOMEvent(containerID: text))
            all.append(TaskPausedEvent(containerID: text))
            all.append(TaskResumedEvent(containerID: text))
        }
        return all
    }

    @Test("the /tasks/* payloads written by hand are the bytes WireJSON writes")
    func payloadsAreWireJSONsBytes() throws {
        let all = Self.payloads()
        #expect(all.count > 150)
        for payload in all {
            let quick = Self.written(payload)
            let codable = try WireJSON.encode(payload)
            #expect(quick == codable, "\(String(decoding: quick, as: UTF8.self)) != \(String(decoding: codable, as: UTF8.self))")
        }
    }

    @Test("control characters are escaped as JSONEncoder escapes them")
    func controlCharacters() throws {
        let text = "bell\u{7}back\u{8}feed\u{c}nul\u{0}esc\u{1b}del\u{7f}us\u{1f}"
        let event = TaskExitEvent(containerID: text, id: text, pid: 1, exitStatus: 2, exitedAt: text)
        #expect(Self.written(event) == (try WireJSON.encode(event)))
        #expect(try JSONDecoder().decode(TaskExitEvent.self, from: Data(Self.written(event))) == event)
    }

    static func notification(_ event: ShimEvent) throws -> [UInt8] {
        try RPCMessage.notification(method: "events.event", params: event)
    }

    @Test("shim events read by hand are those JSONDecoder reads")
    func shimEvents() throws {
        var events: [ShimEvent] = []
        for (i, text) in Self.texts.enumerated() {
            let payload = ShimEventPayload(containerID: text, execID: i % 2 == 0 ? nil : text, pid: i % 3 == 0 ? nil : Int32(i * 1000),
                                           exitStatus: i % 4 == 0 ? nil : Int32(i) - 3, exitedAt: i % 5 == 0 ? nil : text)
            events.append(ShimEvent(seq: UInt64(i) * 0x1_0000_0001, timestamp: text, topic: "/tasks/exit", payload: payload))
        }
        events.append(ShimEvent(seq: UInt64.max, timestamp: "", topic: "", payload: ShimEventPayload(containerID: "")))
        for event in events {
            let message = try Self.notification(event)
            let quick: ShimEvent? = RPCMessage.quickParams(from: message)
            #expect(quick == event)
            #expect(quick == (try RPCMessage.decodeParams(ShimEvent.self, from: message)))
        }
        // Nulls and unknown members, as a newer shim might send them.
        let loose = #"{"jsonrpc":"2.0","method":"events.event","params":{"seq":3,"timestamp":"t","topic":"/tasks/start","#
            + #""payload":{"containerID":"c","execID":null,"pid":7,"future":{"a":[1,"2",false]}},"extra":true}}"#
        let quick: ShimEvent? = RPCMessage.quickParams(from: Array(loose.utf8))
        #expect(quick == ShimEvent(seq: 3, timestamp: "t", topic: "/tasks/start", payload: ShimEventPayload(containerID: "c", pid: 7)))
        #expect(quick == (try RPCMessage.decodeParams(ShimEvent.self, from: Array(loose.utf8))))
    }

    static let unsure = [
        #"{"jsonrpc":"2.0","method":"events.event","params":{"seq":1.5,"timestamp":"t","topic":"x","payload":{"containerID":"c"}}}"#,
        #"{"jsonrpc":"2.0","method":"events.event","params":{"seq":-1,"timestamp":"t","topic":"x","payload":{"containerID":"c"}}}"#,
        #"{"jsonrpc":"2.0","method":"events.event","params":{"seq":1,"timestamp":"t","topic":"x","payload":{}}}"#,
        #"{"jsonrpc":"2.0","method":"events.event","params":{"seq":1,"timestamp":"t","topic":"x","payload":{"containerID":"c","pid":4294967296}}}"#,
        #"{"jsonrpc":"2.0","method":"events.event","params":{"seq":1,"topic":"x","payload":{"containerID":"c"}}}"#,
        #"{"jsonrpc":"2.0","method":"events.event","params":{"seq":1,"seq":2,"timestamp":"t","topic":"x","payload":{"containerID":"c"}}}"#,
        #"{"jsonrpc":"2.0","method":"events.event"}"#,
        #"{"jsonrpc":"2.0","method":"events.event","params":{"seq":1,"timestamp":"t","topic":"x","payload":{"containerID":"c"}}} x"#,
    ]

    @Test("a shim event the reader is not sure of is left to JSONDecoder, which gives the error")
    func unsureShimEvents() throws {
        for text in Self.unsure {
            let quick: ShimEvent? = RPCMessage.quickParams(from: Array(text.utf8))
            #expect(quick == nil, "\(text)")
            let notification = BerthClient.Notification(method: "events.event", message: Array(text.utf8))
            if (try? notification.decodeParams(ShimEvent.self)) == nil {
                #expect(throws: (any Error).self) { try notification.quickParams(ShimEvent.self) }
            } else {
                #expect(try notification.quickParams(ShimEvent.self) == notification.decodeParams(ShimEvent.self))
            }
        }
    }

    /// Random JSON values of every kind AnyJSON holds, numbers with fractions aside.
    static func value(_ rng: inout some RandomNumberGenerator, depth: Int = 0) -> AnyJSON {
        switch Int.random(in: depth > 3 ? 0...5 : 0...7, using: &rng) {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &rng))
        case 2: return .integer(Int64.random(in: Int64.min...Int64.max, using: &rng) >> Int64.random(in: 0...63, using: &rng))
        case 3: return .unsigned(UInt64.random(in: (UInt64(Int64.max) + 1)...UInt64.max, using: &rng))
        case 4, 5: return .string(texts.randomElement(using: &rng)!)
        case 6: return .array((0..<Int.random(in: 0...4, using: &rng)).map { _ in value(&rng, depth: depth + 1) })
        default:
            var members: [String: AnyJSON] = [:]
            for _ in 0..<Int.random(in: 0...4, using: &rng) { members[texts.randomElement(using: &rng)!] = value(&rng, depth: depth + 1) }
            return .object(members)
        }
    }

    @Test("events.event notifications read by hand are those JSONDecoder reads, payloads of every kind included")
    func eventNotifications() throws {
        var rng = SystemRandomNumberGenerator()
        for n in 0..<500 {
            let event = Event(seq: UInt64(n) * 7919, timestamp: Self.texts[n % Self.texts.count], namespace: "default",
                              topic: "/tasks/exit", payload: Self.value(&rng))
            let message = try RPCMessage.notification(method: "events.event", params: EventNotification(subscription: UInt64(n), event: event))
            let quick: EventNotification? = RPCMessage.quickParams(from: message)
            let codable = try RPCMessage.decodeParams(EventNotification.self, from: message)
            #expect(quick == codable, "\(String(decoding: message, as: UTF8.self))")
            #expect(quick?.event == event)
        }
        // A fraction anywhere is left to JSONDecoder.
        let fraction = Array(#"{"jsonrpc":"2.0","method":"events.event","params":{"event":{"namespace":"n","payload":{"x":[1,2.5]},"seq":1,"timestamp":"t","topic":"/a"},"subscription":1}}"#.utf8)
        let quick: EventNotification? = RPCMessage.quickParams(from: fraction)
        #expect(quick == nil)
        #expect(try RPCMessage.decodeParams(EventNotification.self, from: fraction).event.payload == .object(["x": .array([.integer(1), .number(2.5)])]))
    }
}
