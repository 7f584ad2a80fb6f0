/// Typed calls of the events service, and a subscription as an async sequence.
extension BerthClient {
    /// Subscribes to events and returns them as an async sequence.
    ///
    /// The sequence ends with `EventsOverflowError` when the daemon dropped the
    /// subscription for falling behind (resubscribe with `afterSeq: error.lastSeq` to
    /// continue without a gap), and with `BerthError` `unavailable` when the connection
    /// closes. It reads the client's `notifications`, so use one event subscription per
    /// client.
    ///
    /// - Parameters:
    ///   - filters: containerd filter expressions, any of which selects an event.
    ///   - afterSeq: replay the journal's matching events after this seq first.
    public func subscribeEvents(filters: [String] = [], afterSeq: UInt64? = nil) async throws -> EventSubscription {
        let id = try await call(API.eventsSubscribe, SubscribeEventsRequest(filters: filters, afterSeq: afterSeq)).subscription
        let notifications = self.notifications
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: Event.self, bufferingPolicy: .unbounded)
        let reader = Task {
            for await note in notifications {
                switch note.method {
                case EventNotificationMethod.event:
                    guard let params = try? note.quickParams(EventNotification.self), params.subscription == id else { continue }
                    continuation.yield(params.event)
                case EventNotificationMethod.overflow:
                    guard let params = try? note.decodeParams(OverflowNotification.self), params.subscription == id else { continue }
                    continuation.finish(throwing: EventsOverflowError(subscription: id, lastSeq: params.lastSeq))
                    return
                default:
                    continue
                }
            }
            continuation.finish(throwing: BerthError.unavailable("connection to berthd closed"))
        }
        continuation.onTermination = { _ in reader.cancel() }
        return EventSubscription(id: id, stream: stream)
    }

    /// Ends a subscription made on this connection.
    public func unsubscribeEvents(_ subscription: UInt64) async throws {
        try await call(API.eventsUnsubscribe, UnsubscribeEventsRequest(subscription: subscription))
    }

    /// Publishes an engine's own event (see `events.publish` for the topic rules) and
    /// returns its seq once it is durable.
    @discardableResult
    public func publishEvent(namespace: String? = nil, topic: String, payload: some Encodable) async throws -> UInt64 {
        try await call(API.eventsPublish, PublishEventRequest(namespace: namespace, topic: topic, payload: AnyJSON(encoding: payload))).seq
    }
}

/// The events of one subscription, in seq order.
public struct EventSubscription: AsyncSequence, Sendable {
    public typealias Element = Event
    public let id: UInt64
    let stream: AsyncThrowingStream<Event, any Error>

    public func makeAsyncIterator() -> AsyncThrowingStream<Event, any Error>.AsyncIterator {
        stream.makeAsyncIterator()
    }
}

/// The daemon dropped a subscription that fell behind (`events.overflow`).
public struct EventsOverflowError: Error, Sendable, Equatable, CustomStringConvertible {
    public let subscription: UInt64
    /// Every matching event up to this seq was sent.
    public let lastSeq: UInt64

    public var description: String {
        "the subscription fell behind and was dropped after seq \(lastSeq); subscribe again with afterSeq \(lastSeq) to continue"
    }
}
