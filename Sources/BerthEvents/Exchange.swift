import BerthAPI
import BerthSystem
import Dispatch
#if canImport(Glibc)
import Glibc
#endif
import Logging
import Synchronization

/// berthd's event exchange: numbers events, journals them, and feeds subscriptions.
///
/// `publish` assigns the next seq under a lock (so seqs follow publication order) and
/// hands the event to a writer thread. The writer takes everything published meanwhile
/// as one batch, appends it to the journal and waits for it to be durable (group
/// commit: a burst costs one `fdatasync` per batch, not per event), then puts it in the
/// shared cache, advances the committed seq and wakes the subscriptions. No subscriber
/// can see an event before it is on disk, and after a crash the journal's last record
/// tells the next start where numbering resumes, so a seq is never reused.
public final class Exchange: EventPublisher {
    public struct Options: Sendable {
        public var journal: Journal.Options
        /// How far (in events) a subscriber that is not reading may fall behind before
        /// it is dropped with `events.overflow`.
        public var subscriberQueue: Int
        /// Recent events kept in memory for subscribers that keep up.
        public var cacheEvents: Int
        public var cacheBytes: Int

        public init(journal: Journal.Options, subscriberQueue: Int = 1024, cacheEvents: Int = 4096, cacheBytes: Int = 8 << 20) {
            self.journal = journal
            self.subscriberQueue = subscriberQueue
            self.cacheEvents = cacheEvents
            self.cacheBytes = cacheBytes
        }
    }

    private struct PendingEvent {
        let seq: UInt64
        let timestamp: String
        let namespace: String
        let topic: String
        let payload: [UInt8]
    }

    private struct Waiter {
        let seq: UInt64
        let continuation: CheckedContinuation<UInt64, any Error>
    }

    private struct Pending {
        var nextSeq: UInt64
        var events: [PendingEvent] = []
        var waiters: [Waiter] = []
        /// The writer is draining (a drain is queued or running).
        var writing = false
        var closed = false
    }

    /// Bounds of one commit.
    static let maxBatchEvents = 4096
    static let maxBatchBytes = 4 << 20

    public let options: Options
    public let journal: Journal
    private let feed: EventFeed
    private let pending: Mutex<Pending>
    private let subscriptions = Mutex<[UInt64: Subscription]>([:])
    /// Callers of `whenCommitted` waiting for the journal.
    private let commitWaiters = Mutex<CommitWaiters>(CommitWaiters())

    private struct CommitWaiters {
        var waiting: [(UInt64, @Sendable (Bool) -> Void)] = []
        /// Seq ranges of batches the journal refused (the latest few), for waiters that
        /// come after the failure.
        var failed: [ClosedRange<UInt64>] = []
    }
    private let nextSubscription = Atomic<UInt64>(1)
    private let writer = DispatchQueue(label: "berth.events.journal")
    /// Runs `whenCommitted` callbacks in order: not the writer's queue, whose drain loop
    /// can run for as long as events keep coming, and not the publisher's thread. They
    /// are queued after the subscribers on the committing thread have the batch.
    private let committedCallbacks = DispatchQueue(label: "berth.events.committed")
    private let logger: Logger

    /// Opens (and recovers) the journal; numbering resumes after its last seq.
    public init(options: Options, logger: Logger) throws {
        self.options = options
        self.logger = logger
        let journal = try Journal(options.journal)
        self.journal = journal
        let last = journal.recovery.lastSeq
        feed = EventFeed(journal: journal, cache: EventCache(maxEvents: options.cacheEvents, maxBytes: options.cacheBytes, after: last), committed: last)
        pending = Mutex(Pending(nextSeq: last + 1))
        if journal.recovery.skipped > 0 {
            logger.warning("event journal: the machine restarted since berthd last stopped cleanly; numbering resumes after the reserved seqs", metadata: [
                "events.skipped": "\(journal.recovery.skipped)", "events.last_seq": "\(last)",
            ])
        }
        if journal.recovery.truncatedBytes > 0 {
            logger.warning("event journal: truncated a torn record at the end", metadata: [
                "events.truncated_bytes": "\(journal.recovery.truncatedBytes)", "events.last_seq": "\(last)",
            ])
        }
    }

    /// The newest seq that subscribers can see.
    public var lastSeq: UInt64 { feed.committed.load(ordering: .acquiring) }

    public var subscriptionCount: Int { subscriptions.withLock { $0.count } }

    // MARK: publishing

    @discardableResult
    public func publish<Payload: Encodable & Sendable>(namespace: String, topic: String, payload: Payload) -> UInt64? {
        let json: [UInt8]
        do {
            if let quick = payload as? any QuickWritable {
                // The /tasks/* payloads: the same bytes, without JSONEncoder (QuickEvents.swift).
                json = RPCMessage.quickJSON(quick)
            } else {
                json = try WireJSON.encode(payload)
            }
        } catch {
            logger.error("event payload cannot be encoded; event dropped", metadata: ["events.topic": "\(topic)", "error": "\(error)"])
            return nil
        }
        return enqueue(namespace: namespace, topic: topic, payloadJSON: json, waiter: nil)
    }

    public func whenCommitted(through seq: UInt64, _ body: @escaping @Sendable (Bool) -> Void) {
        let resume: @Sendable (Bool) -> Void = { [committedCallbacks] committed in committedCallbacks.async { body(committed) } }
        // committed is stored before the writer takes this lock: a waiter either sees
        // the new value here or is found by the writer.
        let ready = commitWaiters.withLock { w -> Bool? in
            if w.failed.contains(where: { $0.contains(seq) }) { return false }
            if feed.committed.load(ordering: .acquiring) >= seq { return true }
            if pending.withLock({ $0.closed }) { return false }
            w.waiting.append((seq, resume))
            return nil
        }
        if let ready { resume(ready) }
    }

    public func journalTail(_ count: Int) -> [Event] {
        let head = lastSeq
        guard head > 0, count > 0 else { return [] }
        let after = head > UInt64(count) ? head - UInt64(count) : 0
        let records = (try? JournalCursor(journal: journal).read(after: after, through: head, limit: count)) ?? []
        return records.compactMap { try? $0.event }
    }

    /// Publishes an already encoded payload (a JSON value) and returns its seq once the
    /// event is durable and handed to every subscription.
    ///
    /// - Throws: `BerthError` `unavailable` when the exchange is closed or the journal
    ///   cannot be written.
    public func publishDurably(namespace: String, topic: String, payloadJSON: [UInt8]) async throws -> UInt64 {
        try await withCheckedThrowingContinuation { continuation in
            if enqueue(namespace: namespace, topic: topic, payloadJSON: payloadJSON, waiter: continuation) == nil {
                continuation.resume(throwing: BerthError.unavailable("the event exchange is closed"))
            }
        }
    }

    private func enqueue(namespace: String, topic: String, payloadJSON: [UInt8], waiter: CheckedContinuation<UInt64, any Error>?) -> UInt64? {
        let (seq, schedule) = pending.withLock { p -> (UInt64?, Bool) in
            guard !p.closed else { return (nil, false) }
            let seq = p.nextSeq
            p.nextSeq += 1
            p.events.append(PendingEvent(seq: seq, timestamp: Timestamp.now(), namespace: namespace, topic: topic, payload: payloadJSON))
            if let waiter { p.waiters.append(Waiter(seq: seq, continuation: waiter)) }
            defer { p.writing = true }
            return (seq, !p.writing)
        }
        // An idle exchange commits on the publisher's own thread: no hop to the writer
        // before the journal write, and none after it when the subscriber's connection
        // is served by that thread (berthd's shim events arrive on its I/O thread).
        if schedule { commitInline() }
        return seq
    }

    /// One batch on the publisher's thread: written and handed to the subscriptions;
    /// its `fdatasync`, and any batch published meanwhile, go to the writer queue.
    /// `writing` stays set until the writer is done, so appends and syncs never overlap.
    private func commitInline() {
        guard let (records, waiters) = takeBatch() else { return }
        // A batch that renews the journal's reservation or starts a segment waits on the
        // disk (fdatasync, a directory fsync): the writer queue's work, not a publisher's.
        guard journal.appendIsOnlyAWrite(through: records.last!.seq) else {
            writer.async { [self] in
                if write(records, waiters) { sync(records, waiters) }
                drain()
            }
            return
        }
        let written = write(records, waiters)
        writer.async { [self] in
            if written { sync(records, waiters) }
            drain()
        }
    }

    /// The writer: commits batches until nothing is pending.
    private func drain() {
        while let (records, waiters) = takeBatch() {
            if write(records, waiters) { sync(records, waiters) }
        }
    }

    /// Everything pending, up to a batch's bounds (so one commit cannot make a segment
    /// arbitrarily large), or nil (and `writing` cleared) when nothing is.
    private func takeBatch() -> ([EventRecord], [Waiter])? {
        let taken = pending.withLock { p -> ([PendingEvent], [Waiter])? in
            guard !p.events.isEmpty else {
                p.writing = false
                return nil
            }
            var count = 0
            var bytes = 0
            while count < p.events.count, count < Self.maxBatchEvents, bytes < Self.maxBatchBytes {
                let event = p.events[count]
                bytes += event.payload.count + event.namespace.utf8.count + event.topic.utf8.count + 100 // + envelope, record header
                count += 1
            }
            if count == p.events.count {
                defer {
                    p.events.removeAll(keepingCapacity: true)
                    p.waiters.removeAll(keepingCapacity: true)
                }
                return (p.events, p.waiters)
            }
            let events = Array(p.events.prefix(count))
            p.events.removeFirst(count)
            let last = events[count - 1].seq
            let waiters = p.waiters.filter { $0.seq <= last }
            p.waiters.removeAll { $0.seq <= last }
            return (events, waiters)
        }
        guard let (events, waiters) = taken else { return nil }
        let records = events.map {
            EventRecord(seq: $0.seq, timestamp: $0.timestamp, namespace: $0.namespace, topic: $0.topic, payloadJSON: $0.payload)
        }
        return (records, waiters)
    }

    /// Appends a batch to the journal and hands it to the subscriptions. False when the
    /// journal refused it (its events are lost, their waiters told).
    private func write(_ records: [EventRecord], _ waiters: [Waiter]) -> Bool {
        do {
            try journal.append(records)
        } catch {
            logger.error("event journal write failed; events lost", metadata: [
                "events.first_seq": "\(records.first!.seq)", "events.count": "\(records.count)", "error": "\(error)",
            ])
            let failure = BerthError.unavailable("the event journal cannot be written: \(error)")
            for waiter in waiters { waiter.continuation.resume(throwing: failure) }
            let lost = records.first!.seq...records.last!.seq
            commitWaiters.withLock { w in
                w.failed.append(lost)
                if w.failed.count > 64 { w.failed.removeFirst() }
            }
            resumeCommitWaiters(with: false) { lost.contains($0) }
            return false
        }
        feed.cache.append(records)
        let head = records.last!.seq
        feed.committed.store(head, ordering: .releasing)
        // Subscribers first: resuming a waiter wakes a thread of the task pool, which
        // then competes with the subscriber for the CPU.
        wakeSubscriptions(through: head)
        resumeCommitWaiters(with: true) { $0 <= head }
        return true
    }

    /// Durable after delivery, not before: the batch is in the page cache (a killed
    /// berthd loses none of it), the journal's reservation keeps a machine crash in
    /// between from reusing its seqs, and no subscriber waits for the disk. Then the
    /// callers of `publishDurably` get their seqs.
    private func sync(_ records: [EventRecord], _ waiters: [Waiter]) {
        do {
            try journal.sync()
        } catch {
            logger.error("event journal sync failed; events may not survive a machine crash", metadata: [
                "events.first_seq": "\(records.first!.seq)", "events.count": "\(records.count)", "error": "\(error)",
            ])
            let failure = BerthError.unavailable("the event journal cannot be synced: \(error)")
            for waiter in waiters { waiter.continuation.resume(throwing: failure) }
            return
        }
        for waiter in waiters { waiter.continuation.resume(returning: waiter.seq) }
    }

    private func wakeSubscriptions(through head: UInt64) {
        let all = subscriptions.withLock { Array($0.values) }
        var gone: [UInt64] = []
        for subscription in all where subscription.committed(through: head) {
            gone.append(subscription.id)
        }
        guard !gone.isEmpty else { return }
        subscriptions.withLock { map in
            for id in gone { map[id] = nil }
        }
        for id in gone {
            logger.notice("subscriber dropped: it fell behind", metadata: ["events.subscription": "\(id)"])
        }
    }

    // MARK: subscribing

    /// Registers a subscription; it writes nothing until `start()`.
    ///
    /// - Parameter afterSeq: replay every matching event after this seq first. Absent:
    ///   only events committed from now on.
    /// - Throws: `BerthError` `failedPrecondition` when `afterSeq` is older than the
    ///   journal keeps (naming the oldest seq available) or newer than the newest event.
    public func subscribe(filter: EventFilter, afterSeq: UInt64?, transport: any EventTransport) throws -> Subscription {
        let head = lastSeq
        var cursor = head
        if let afterSeq {
            guard afterSeq <= head else {
                throw BerthError.failedPrecondition(
                    "afterSeq \(afterSeq) is ahead of the newest event (seq \(head)): this daemon's journal never held it")
            }
            let gone = journal.deletedThrough
            guard afterSeq >= gone else {
                throw BerthError.failedPrecondition(
                    "events after seq \(afterSeq) are no longer in the journal; the oldest available is seq \(gone + 1) (subscribe with afterSeq \(gone) or later)")
            }
            cursor = afterSeq
        }
        let id = nextSubscription.wrappingAdd(1, ordering: .relaxed).oldValue
        let subscription = Subscription(id: id, filter: filter, after: cursor, liveFrom: head, limit: options.subscriberQueue,
                                        feed: feed, transport: transport)
        subscriptions.withLock { $0[id] = subscription }
        return subscription
    }

    /// Ends a subscription without a notice; false when there is none with that id.
    @discardableResult
    public func unsubscribe(_ id: UInt64) -> Bool {
        guard let subscription = subscriptions.withLock({ $0.removeValue(forKey: id) }) else { return false }
        subscription.end()
        return true
    }

    /// Refuses new events, writes what is pending, ends every subscription and closes
    /// the journal.
    public func close() {
        pending.withLock { $0.closed = true }
        // After the commit in progress, if any: on the writer queue, or inline on a
        // publisher's thread (which then hands its sync to the writer).
        while true {
            writer.sync {}
            if !pending.withLock({ $0.writing }) { break }
            usleep(500)
        }
        let all = subscriptions.withLock { map -> [Subscription] in
            defer { map.removeAll() }
            return Array(map.values)
        }
        for subscription in all { subscription.end() }
        resumeCommitWaiters(with: false) { _ in true }
        journal.close()
    }

    private func resumeCommitWaiters(with result: Bool, where ready: (UInt64) -> Bool) {
        let due = commitWaiters.withLock { w -> [@Sendable (Bool) -> Void] in
            guard !w.waiting.isEmpty else { return [] }
            var due: [@Sendable (Bool) -> Void] = []
            w.waiting.removeAll { entry in
                guard ready(entry.0) else { return false }
                due.append(entry.1)
                return true
            }
            return due
        }
        for resume in due { resume(result) }
    }
}
