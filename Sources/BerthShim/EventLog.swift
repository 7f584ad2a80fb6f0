/// The shim's events in its own sequence. berthd subscribes with the last seq it saw
/// and gets exactly what it missed, then live events, on one connection — so an exit
/// that happened while berthd was down is delivered once when it reconnects.
final class EventLog {
    /// Events kept for replay (a shim runs one container: a few per process).
    static let capacity = 4096

    private var events: [(seq: UInt64, message: JSON)] = []
    private var nextSeq: UInt64 = 1
    private var subscribers: [ObjectIdentifier: Connection] = [:]

    /// `payload` is the event's fields after `containerID`, in sorted order.
    func publish(_ topic: String, _ payload: JSON) {
        let seq = nextSeq
        nextSeq += 1
        let event = JSON.object([("payload", payload), ("seq", .int(seq)), ("timestamp", .string(timestampNow())),
                                 ("topic", .string(topic))])
        events.append((seq, event))
        if events.count > EventLog.capacity { events.removeFirst(events.count - EventLog.capacity) }
        for connection in subscribers.values { connection.notify("events.event", event) }
    }

    /// Replays everything after `afterSeq`, then keeps `connection` subscribed until it
    /// closes. The newest seq.
    func subscribe(_ connection: Connection, afterSeq: UInt64) -> UInt64 {
        for (seq, event) in events where seq > afterSeq { connection.notify("events.event", event) }
        let key = ObjectIdentifier(connection)
        if subscribers.updateValue(connection, forKey: key) == nil {
            connection.onClose { _ = self.subscribers.removeValue(forKey: key) }
        }
        return nextSeq - 1
    }
}

/// An event's payload (containerd's TaskCreate, TaskExit… fields), keys sorted.
func eventPayload(containerID: String, execID: String? = nil, pid: Int32? = nil, exitStatus: Int32? = nil,
                  exitedAt: String? = nil) -> JSON {
    var members: [(String, JSON)] = [("containerID", .string(containerID))]
    if let execID { members.append(("execID", .string(execID))) }
    if let exitStatus { members.append(("exitStatus", .int(exitStatus))) }
    if let exitedAt { members.append(("exitedAt", .string(exitedAt))) }
    if let pid { members.append(("pid", .int(pid))) }
    return .object(members)
}
