import BerthAPI
import Synchronization

/// Collects the `events.event` notifications of one connection, in arrival order.
/// Create it before calling `events.subscribe`: a connection has one notification stream.
final class EventCollector: Sendable {
    private let received = Mutex<[ShimEvent]>([])
    private let undecodable = Mutex<[String]>([])

    init(_ client: BerthClient) {
        Task { [self] in
            for await notification in client.notifications where notification.method == "events.event" {
                do {
                    let event = try notification.decodeParams(ShimEvent.self)
                    received.withLock { $0.append(event) }
                } catch {
                    undecodable.withLock { $0.append(String(decoding: notification.message, as: UTF8.self)) }
                }
            }
        }
    }

    var events: [ShimEvent] { received.withLock { $0 } }
    /// Notifications whose params did not decode as a `ShimEvent`.
    var malformed: [String] { undecodable.withLock { $0 } }

    /// Waits until `condition` holds for the events so far (or `timeout`); returns them.
    @discardableResult
    func wait(timeout: Duration = .seconds(10), until condition: ([ShimEvent]) -> Bool) async -> [ShimEvent] {
        _ = await eventually(timeout: timeout) { condition(events) }
        return events
    }

    /// Waits until an event with `topic` (and `execID`, when given) has arrived.
    @discardableResult
    func wait(for topic: String, execID: String? = nil, timeout: Duration = .seconds(10)) async -> [ShimEvent] {
        await wait(timeout: timeout) { $0.contains { $0.topic == topic && (execID == nil || $0.payload.execID == execID) } }
    }
}

extension [ShimEvent] {
    var topics: [String] { map(\.topic) }
    var seqs: [UInt64] { map(\.seq) }
}
