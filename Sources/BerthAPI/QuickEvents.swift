import BerthOCI

/// A shim's events as berthd reads them and the /tasks/* payloads it publishes, read and
/// written by hand: each task exit goes through berthd once, on the I/O thread between
/// the shim's socket and the subscribers', where JSONDecoder (the notification's head,
/// then its params) and JSONEncoder (the payload) took ~0.1 ms warm and ~0.25 ms on a
/// host that had gone idle. The payloads are written in `WireJSON`'s sorted key order,
/// so they are the bytes JSONEncoder writes; QuickEventsTests checks both directions
/// against Codable.

extension BerthClient.Notification {
    /// `decodeParams`, read by hand when the params are what `P` reads quickly.
    package func quickParams<P: QuickReadable>(_ type: P.Type) throws -> P {
        if let params: P = RPCMessage.quickParams(from: message) { return params }
        return try decodeParams(type)
    }
}

extension ShimEvent: QuickReadable {
    package init(quick r: QuickJSONReader) throws {
        var seq: UInt64?, timestamp: String?, topic: String?, payload: ShimEventPayload?
        try r.object { key in
            switch key {
            case "seq": seq = try r.integer(UInt64.self)
            case "timestamp": timestamp = try r.string()
            case "topic": topic = try r.string()
            case "payload": payload = try ShimEventPayload(quick: r)
            default: try r.skip()
            }
        }
        self.init(seq: try r.required(seq), timestamp: try r.required(timestamp), topic: try r.required(topic),
                  payload: try r.required(payload))
    }
}

extension ShimEventPayload: QuickReadable {
    package init(quick r: QuickJSONReader) throws {
        var containerID: String?, execID: String?, pid: Int32?, exitStatus: Int32?, exitedAt: String?
        try r.object { key in
            switch key {
            case "containerID": containerID = try r.string()
            case "execID": execID = try r.optional { try r.string() }
            case "pid": pid = try r.optional { try r.integer(Int32.self) }
            case "exitStatus": exitStatus = try r.optional { try r.integer(Int32.self) }
            case "exitedAt": exitedAt = try r.optional { try r.string() }
            default: try r.skip()
            }
        }
        self.init(containerID: try r.required(containerID), execID: execID, pid: pid, exitStatus: exitStatus, exitedAt: exitedAt)
    }
}

extension TaskStartEvent: QuickWritable {
    package func write(to w: inout QuickJSONWriter) {
        w.object { w in
            w.member("containerID", containerID)
            w.member("pid", pid)
        }
    }
}

extension TaskExitEvent: QuickWritable {
    package func write(to w: inout QuickJSONWriter) {
        writeProcessEnd(&w, containerID: containerID, exitStatus: exitStatus, exitedAt: exitedAt, id: id, pid: pid)
    }
}

extension TaskDeleteEvent: QuickWritable {
    package func write(to w: inout QuickJSONWriter) {
        writeProcessEnd(&w, containerID: containerID, exitStatus: exitStatus, exitedAt: exitedAt, id: id, pid: pid)
    }
}

/// `/tasks/exit` and `/tasks/delete` carry the same fields.
private func writeProcessEnd(_ w: inout QuickJSONWriter, containerID: String, exitStatus: UInt32, exitedAt: String,
                             id: String, pid: UInt32) {
    w.object { w in
        w.member("containerID", containerID)
        w.member("exitStatus", exitStatus)
        w.member("exitedAt", exitedAt)
        w.member("id", id)
        w.member("pid", pid)
    }
}

extension TaskExecAddedEvent: QuickWritable {
    package func write(to w: inout QuickJSONWriter) {
        w.object { w in
            w.member("containerID", containerID)
            w.member("execID", execID)
        }
    }
}

extension TaskExecStartedEvent: QuickWritable {
    package func write(to w: inout QuickJSONWriter) {
        w.object { w in
            w.member("containerID", containerID)
            w.member("execID", execID)
            w.member("pid", pid)
        }
    }
}

extension TaskOOMEvent: QuickWritable {
    package func write(to w: inout QuickJSONWriter) {
        w.object { $0.member("containerID", containerID) }
    }
}

extension TaskPausedEvent: QuickWritable {
    package func write(to w: inout QuickJSONWriter) {
        w.object { $0.member("containerID", containerID) }
    }
}

extension TaskResumedEvent: QuickWritable {
    package func write(to w: inout QuickJSONWriter) {
        w.object { $0.member("containerID", containerID) }
    }
}

/// What a subscriber reads: `events.event`'s params, read by hand in the client library
/// (`subscribeEvents`), where JSONDecoder's AnyJSON (a thrown error per wrong guess of a
/// value's type) was most of a subscriber's own share of an event's latency.
extension EventNotification: QuickReadable {
    package init(quick r: QuickJSONReader) throws {
        var subscription: UInt64?, event: Event?
        try r.object { key in
            switch key {
            case "subscription": subscription = try r.integer(UInt64.self)
            case "event": event = try Event(quick: r)
            default: try r.skip()
            }
        }
        self.init(subscription: try r.required(subscription), event: try r.required(event))
    }
}

extension Event: QuickReadable {
    package init(quick r: QuickJSONReader) throws {
        var seq: UInt64?, timestamp: String?, namespace: String?, topic: String?, payload: AnyJSON?
        try r.object { key in
            switch key {
            case "seq": seq = try r.integer(UInt64.self)
            case "timestamp": timestamp = try r.string()
            case "namespace": namespace = try r.string()
            case "topic": topic = try r.string()
            case "payload": payload = try AnyJSON(quick: r)
            default: try r.skip()
            }
        }
        self.init(seq: try r.required(seq), timestamp: try r.required(timestamp), namespace: try r.required(namespace),
                  topic: try r.required(topic), payload: try r.required(payload))
    }
}

extension AnyJSON: QuickReadable {
    /// As `init(from:)` reads it; a number with a fraction or an exponent is `Unsure`.
    package init(quick r: QuickJSONReader) throws {
        switch try r.nextByte() {
        case UInt8(ascii: "{"):
            var members: [String: AnyJSON] = [:]
            try r.object { key in members[key] = try AnyJSON(quick: r) }
            self = .object(members)
        case UInt8(ascii: "["):
            self = .array(try r.array { try AnyJSON(quick: r) })
        case UInt8(ascii: "\""):
            self = .string(try r.string())
        case UInt8(ascii: "t"), UInt8(ascii: "f"):
            self = .bool(try r.bool())
        case UInt8(ascii: "n"):
            _ = try r.optional { () -> Never in throw QuickJSONReader.Unsure() }
            self = .null
        default:
            let (signed, unsigned) = try r.wideInteger()
            if let signed { self = .integer(signed) } else { self = .unsigned(try r.required(unsigned)) }
        }
    }
}
