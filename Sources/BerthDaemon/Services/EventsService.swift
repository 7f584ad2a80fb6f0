import BerthAPI
import BerthRPC
import BerthEvents
import Synchronization

/// `events.subscribe|unsubscribe|publish` over the exchange (proto-docs/events.md).
///
/// Subscriptions belong to the connection that made them: their notifications go to
/// it, only it can unsubscribe them, and they end when it closes.
struct EventsService: Sendable {
    let exchange: Exchange

    /// Largest encoded payload `events.publish` takes.
    static let maxPayloadBytes = 256 << 10

    func register(_ router: inout Router) {
        let owners = SubscriptionOwners()

        router.register(API.eventsSubscribe) { params, context in
            guard let connection = context.connection else {
                throw BerthError.failedPrecondition("events.subscribe needs a client connection to send events on")
            }
            let filter: EventFilter
            do {
                filter = try EventFilter(parsing: params.filters ?? [])
            } catch {
                throw BerthError.invalidArgument("invalid filter: \(error)")
            }
            let subscription = try exchange.subscribe(filter: filter, afterSeq: params.afterSeq,
                                                      transport: ConnectionTransport(connection: connection))
            let id = subscription.id
            owners.add(id, connection: connection.id)
            let closeToken = connection.onClose { [exchange] in exchange.unsubscribe(id) }
            subscription.onEnd { // overflowed, unsubscribed or closed: forget it
                owners.remove(id)
                connection.removeCloseHandler(closeToken)
            }
            context.afterReply { subscription.start() }
            return SubscribeEventsResponse(subscription: id)
        }

        router.register(API.eventsUnsubscribe) { params, context in
            guard let connection = context.connection, owners.owner(of: params.subscription) == connection.id,
                  exchange.unsubscribe(params.subscription) else {
                throw BerthError.notFound("subscription \(params.subscription) not found on this connection")
            }
            return Empty()
        }

        router.register(API.eventsPublish) { params, _ in
            let namespace = params.namespace ?? "default"
            try Identifier.validate(namespace, what: "namespace")
            try TopicRules.validatePublished(params.topic)
            guard case .object = params.payload else {
                throw BerthError.invalidArgument("payload must be a JSON object")
            }
            let payload = try WireJSON.encode(params.payload)
            guard payload.count <= Self.maxPayloadBytes else {
                throw BerthError.invalidArgument("payload is \(payload.count) bytes encoded; at most \(Self.maxPayloadBytes) are allowed")
            }
            let seq = try await exchange.publishDurably(namespace: namespace, topic: params.topic, payloadJSON: payload)
            return PublishEventResponse(seq: seq)
        }
    }
}

/// Which connection made each live subscription.
private final class SubscriptionOwners: Sendable {
    private let owners = Mutex<[UInt64: UInt64]>([:])

    func add(_ subscription: UInt64, connection: UInt64) { owners.withLock { $0[subscription] = connection } }
    func remove(_ subscription: UInt64) { _ = owners.withLock { $0.removeValue(forKey: subscription) } }
    func owner(of subscription: UInt64) -> UInt64? { owners.withLock { $0[subscription] } }
}

/// A subscription's view of its connection.
struct ConnectionTransport: EventTransport {
    let connection: ClientConnection

    func execute(_ body: @escaping @Sendable () -> Void) { connection.execute(body) }
    var isWritable: Bool { connection.isWritable }
    func write(_ message: [UInt8]) { connection.write(message) }
    func flush() { connection.flush() }
    func addWritabilityHandler(_ body: @escaping @Sendable () -> Void) -> UInt64 { connection.addWritabilityHandler(body) }
    func removeWritabilityHandler(_ token: UInt64) { connection.removeWritabilityHandler(token) }
    var inContext: Bool { connection.eventLoop.inEventLoop }
}
