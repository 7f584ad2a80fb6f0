import BerthAPI
import BerthOCI
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// One committed event as the exchange keeps it: the envelope's JSON, built once and
/// shared by the journal, the cache and every subscriber, plus the fields filters read.
public final class EventRecord: Sendable, FilterAdaptor {
    public let seq: UInt64
    public let timestamp: String
    public let namespace: String
    public let topic: String
    /// The envelope, `{"namespace","payload","seq","timestamp","topic"}`, as the
    /// `event` member of an `events.event` notification carries it.
    public let json: [UInt8]
    /// The payload as a tree, parsed the first time a filter looks into it.
    private let payloadTree = Mutex<AnyJSON?>(nil)

    /// A fresh event around an encoded payload.
    init(seq: UInt64, timestamp: String, namespace: String, topic: String, payloadJSON: [UInt8]) {
        self.seq = seq
        self.timestamp = timestamp
        self.namespace = namespace
        self.topic = topic
        var out: [UInt8] = []
        out.reserveCapacity(payloadJSON.count + namespace.utf8.count + topic.utf8.count + 96)
        out += Array(#"{"namespace":"#.utf8)
        QuickJSONWriter.appendString(namespace, to: &out)
        out += Array(#","payload":"#.utf8)
        out += payloadJSON
        out += Array(#","seq":"#.utf8)
        out += Array(String(seq).utf8)
        out += Array(#","timestamp":"#.utf8)
        QuickJSONWriter.appendString(timestamp, to: &out)
        out += Array(#","topic":"#.utf8)
        QuickJSONWriter.appendString(topic, to: &out)
        out.append(UInt8(ascii: "}"))
        json = out
    }

    /// An event read back from the journal.
    init(seq: UInt64, json: [UInt8]) throws {
        struct Head: Decodable { let timestamp: String; let namespace: String; let topic: String }
        let head = try WireJSON.decode(Head.self, from: json)
        self.seq = seq
        self.timestamp = head.timestamp
        self.namespace = head.namespace
        self.topic = head.topic
        self.json = json
    }

    /// The envelope as the wire type.
    public var event: Event {
        get throws { try WireJSON.decode(Event.self, from: json) }
    }

    /// Payloads up to this size keep their parsed tree (for the next subscription's
    /// filter); larger ones are parsed each time, so the cache's memory stays near its
    /// byte budget.
    static let keepParsedBelow = 4096

    var payload: AnyJSON {
        guard json.count < Self.keepParsedBelow else { return Self.parsePayload(json) }
        return payloadTree.withLock { tree in
            if let tree { return tree }
            let parsed = Self.parsePayload(json)
            tree = parsed
            return parsed
        }
    }

    private static func parsePayload(_ json: [UInt8]) -> AnyJSON {
        (try? WireJSON.decode(AnyJSON.self, from: json))?["payload"] ?? .null
    }

    // MARK: filters

    /// `namespace`, `topic`, and `payload.<field>…` (also `event.<field>…`, containerd's
    /// name for the same thing).
    public func filterField(_ path: ArraySlice<String>) -> String? {
        guard let first = path.first else { return nil }
        switch first {
        case "namespace": return namespace.isEmpty ? nil : namespace
        case "topic": return topic.isEmpty ? nil : topic
        case "payload", "event": return Self.lookup(payload, path.dropFirst())
        default: return nil
        }
    }

    /// The text of the value at `path` under `value`. A key may itself hold dots (a
    /// label such as `io.kubernetes.pod`): `labels.io.kubernetes.pod` finds it.
    static func lookup(_ value: AnyJSON, _ path: ArraySlice<String>) -> String? {
        guard let first = path.first else { return text(of: value) }
        guard case let .object(members) = value else { return nil }
        var key = first
        var rest = path.dropFirst()
        while true {
            if let child = members[key], let found = lookup(child, rest) { return found }
            guard let next = rest.first else { return nil }
            key += "." + next
            rest = rest.dropFirst()
        }
    }

    /// Strings as they are, numbers and booleans as JSON writes them, objects and arrays
    /// as compact JSON; an empty string or null is absent.
    static func text(of value: AnyJSON) -> String? {
        switch value {
        case .null: return nil
        case let .string(s): return s.isEmpty ? nil : s
        case let .bool(b): return b ? "true" : "false"
        case let .integer(i): return String(i)
        case let .unsigned(u): return String(u)
        case .number, .array, .object:
            return (try? WireJSON.encode(value)).map { String(decoding: $0, as: UTF8.self) }
        }
    }
}
