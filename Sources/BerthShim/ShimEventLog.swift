import BerthAPI
import BerthSystem
import BerthRPC
import Synchronization

/// The shim's events in its own sequence. berthd subscribes with the last seq it saw
/// and gets exactly what it missed, then live events, on one connection — so an exit
/// that happened while berthd was down is delivered once when it reconnects.
final class ShimEventLog: Sendable {
    private struct State {
        var events: [ShimEvent] = []
        var nextSeq: UInt64 = 1
        var subscribers: [ObjectIdentifier: ClientConnection] = [:]
    }

    /// Events kept for replay (a shim runs one container: a few per process).
    static let capacity = 4096

    private let state = Mutex(State())

    func publish(_ topic: String, _ payload: ShimEventPayload) {
        state.withLock { s in
            let event = ShimEvent(seq: s.nextSeq, timestamp: Timestamp.now(), topic: topic, payload: payload)
            s.nextSeq += 1
            s.events.append(event)
            if s.events.count > Self.capacity { s.events.removeFirst(s.events.count - Self.capacity) }
            for connection in s.subscribers.values { connection.notify(method: "events.event", params: event) }
        }
    }

    /// Replays everything after `afterSeq`, then keeps `connection` subscribed until it
    /// closes. Replay and registration happen under one lock: no gap, no duplicate.
    func subscribe(_ connection: ClientConnection, afterSeq: UInt64) -> UInt64 {
        let key = ObjectIdentifier(connection)
        let last = state.withLock { s -> UInt64 in
            for event in s.events where event.seq > afterSeq { connection.notify(method: "events.event", params: event) }
            s.subscribers[key] = connection
            return s.nextSeq - 1
        }
        connection.onClose { [weak self] in _ = self?.state.withLock { $0.subscribers.removeValue(forKey: key) } }
        return last
    }
}
