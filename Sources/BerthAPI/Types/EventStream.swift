/// One event as subscribers receive it (DESIGN.md §4).
///
/// `seq` is daemon-wide: every event gets the next number, and a number is never used
/// twice, across restarts and crashes of `berthd` included. `payload` depends on
/// `topic` (`EventTopics`); decode it with `payload.decode(TaskExitEvent.self)`.
public struct Event: Codable, Sendable, Equatable {
    public var seq: UInt64
    /// RFC 3339 with nanoseconds, UTC (`2026-11-25T16:50:00.123456789Z`).
    public var timestamp: String
    public var namespace: String
    public var topic: String
    public var payload: AnyJSON

    public init(seq: UInt64, timestamp: String, namespace: String, topic: String, payload: AnyJSON) {
        self.seq = seq
        self.timestamp = timestamp
        self.namespace = namespace
        self.topic = topic
        self.payload = payload
    }
}

/// Params of `events.subscribe`.
public struct SubscribeEventsRequest: Codable, Sendable, Equatable {
    /// containerd filter expressions; an event is sent when any one matches. Empty or
    /// absent: every event.
    public var filters: [String]?
    /// Replay every matching event after this seq from the journal first, then go live
    /// with no gap and no duplicate. Absent: live events only.
    public var afterSeq: UInt64?

    public init(filters: [String]? = nil, afterSeq: UInt64? = nil) {
        self.filters = filters
        self.afterSeq = afterSeq
    }
}

/// Result of `events.subscribe`.
public struct SubscribeEventsResponse: Codable, Sendable, Equatable {
    /// Names the subscription in its notifications and in `events.unsubscribe`.
    public var subscription: UInt64

    public init(subscription: UInt64) {
        self.subscription = subscription
    }
}

/// Params of `events.unsubscribe`.
public struct UnsubscribeEventsRequest: Codable, Sendable, Equatable {
    public var subscription: UInt64

    public init(subscription: UInt64) {
        self.subscription = subscription
    }
}

/// Params of `events.publish`: an engine's own event.
public struct PublishEventRequest: Codable, Sendable, Equatable {
    /// Absent: `default`.
    public var namespace: String?
    /// `/`-separated identifiers, not under a prefix reserved for Berth's services.
    public var topic: String
    /// A JSON object.
    public var payload: AnyJSON

    public init(namespace: String? = nil, topic: String, payload: AnyJSON) {
        self.namespace = namespace
        self.topic = topic
        self.payload = payload
    }
}

/// Result of `events.publish`: the event's seq, once it is durable in the journal.
public struct PublishEventResponse: Codable, Sendable, Equatable {
    public var seq: UInt64

    public init(seq: UInt64) {
        self.seq = seq
    }
}

/// Params of the `events.event` notification.
public struct EventNotification: Codable, Sendable, Equatable {
    public var subscription: UInt64
    public var event: Event

    public init(subscription: UInt64, event: Event) {
        self.subscription = subscription
        self.event = event
    }
}

/// Params of the `events.overflow` notification: the subscription fell too far behind
/// and was dropped. Every matching event up to `lastSeq` was sent; subscribe again with
/// `afterSeq: lastSeq` to continue without a gap.
public struct OverflowNotification: Codable, Sendable, Equatable {
    public var subscription: UInt64
    public var lastSeq: UInt64

    public init(subscription: UInt64, lastSeq: UInt64) {
        self.subscription = subscription
        self.lastSeq = lastSeq
    }
}

/// Names of the events service's server-to-client notifications.
public enum EventNotificationMethod {
    public static let event = "events.event"
    public static let overflow = "events.overflow"
}
