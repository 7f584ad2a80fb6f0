import BerthAPI

/// What a service publishes its events through: the one call every service makes after
/// a state change has been committed.
///
/// ```swift
/// events.publish(EventTopics.namespacesCreate, namespace: name, NamespaceCreateEvent(name: name, labels: labels))
/// ```
///
/// Publishing never blocks and never fails the caller: the event gets the next seq at
/// once and is journaled and delivered in the background (subscribers see it only once
/// it is durable). A payload that cannot be encoded is logged and dropped, since the
/// state change it reports has already happened. Events from one caller keep the order
/// of its calls.
public protocol EventPublisher: Sendable {
    /// Publishes `payload` on `topic` in `namespace`; returns the event's seq (nil only
    /// when the payload could not be encoded or the exchange is closed).
    @discardableResult
    func publish<Payload: Encodable & Sendable>(namespace: String, topic: String, payload: Payload) -> UInt64?

    /// Calls `body` once the event `seq` (and every one before it) is in the journal, for
    /// a caller that records elsewhere that it has published (berthd's `events.seq` per
    /// shim): a crash after that record must not lose the event. false when the journal
    /// refused the event's batch, or the exchange closed first. The exchange calls it in
    /// order, off the publisher's thread, on a queue of its own that it wakes only once
    /// the subscribers served by the committing thread have the event.
    func whenCommitted(through seq: UInt64, _ body: @escaping @Sendable (Bool) -> Void)

    /// The last `count` events in the journal, oldest first: berthd checks a reconnected
    /// shim's replay against them, so an event journaled just before a crash is not
    /// published twice.
    func journalTail(_ count: Int) -> [Event]

    /// The newest seq in the journal (0 without one).
    var lastSeq: UInt64 { get }
}

extension EventPublisher {
    /// Publishes on a built-in topic, whose payload type the topic fixes.
    @discardableResult
    public func publish<Payload>(_ topic: EventTopic<Payload>, namespace: String, _ payload: Payload) -> UInt64? {
        publish(namespace: namespace, topic: topic.name, payload: payload)
    }

    /// A publisher without a journal: publishing is all there is to wait for.
    public func whenCommitted(through seq: UInt64, _ body: @escaping @Sendable (Bool) -> Void) {
        body(true)
    }

    /// A publisher without a journal has nothing to read back.
    public func journalTail(_ count: Int) -> [Event] { [] }

    public var lastSeq: UInt64 { 0 }
}

/// Publishes nowhere: for tests of services that need a publisher and check no events.
public struct DiscardingPublisher: EventPublisher {
    public init() {}

    public func publish<Payload: Encodable & Sendable>(namespace: String, topic: String, payload: Payload) -> UInt64? {
        nil
    }
}
