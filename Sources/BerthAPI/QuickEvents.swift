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
        w.object { w in
            w.member("containerID", containerID)
            w.member("exitStatus", exitStatus)
            w.member("exitedAt", exitedAt)
            w.member("id", id)
            w.member("pid", pid)
        }
    }
}

extension TaskDeleteEvent: QuickWritable {
    package func write(to w: inout QuickJSONWriter) {
        w.object { w in
            w.member("containerID", containerID)
            w.member("exitStatus", exitStatus)
            w.member("exitedAt", exitedAt)
            w.member("id", id)
            w.member("pid", pid)
        }
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
