import Synchronization

/// What subscriptions read from: committed events, recent ones in memory, all of them
/// in the journal, and the newest committed seq.
final class EventFeed: Sendable {
    let journal: Journal
    let cache: EventCache
    /// The newest seq that is durable and visible to subscribers.
    let committed: Atomic<UInt64>

    init(journal: Journal, cache: EventCache, committed: UInt64) {
        self.journal = journal
        self.cache = cache
        self.committed = Atomic(committed)
    }
}

/// One subscriber: a cursor over the seq space and a filter, writing matching events to
/// its transport as fast as the transport takes them.
///
/// The subscription owns no queue of its own. Everything after its cursor is committed
/// and readable, from the shared cache or the journal, so a replay (`afterSeq`) and the
/// live stream are one walk from the cursor forward: no gap and no duplicate by
/// construction, and a subscriber costs the same memory however far behind it is.
///
/// A subscriber is *behind* when more than `limit` events were committed after its
/// cursor (counted from when it subscribed, so a long replay does not count) while its
/// transport is not writable, i.e. it is not reading. Events the filter rejects never
/// hold the cursor back. A subscriber behind gets one final `events.overflow`
/// notification naming its cursor and is dropped; nothing it does slows the publishers
/// or other subscribers.
public final class Subscription: Sendable {
    public let id: UInt64
    let filter: EventFilter
    let transport: any EventTransport
    let limit: Int
    /// The committed seq when it subscribed: lag is counted from here.
    let liveFrom: UInt64
    private let feed: EventFeed

    /// Every matching event up to this seq has been written to the transport.
    private let cursor: Atomic<UInt64>
    private let ended = Atomic<Bool>(false)

    private struct Flags {
        var started = false
        /// A pump is queued or running in the transport's context.
        var scheduled = false
        var writabilityToken: UInt64?
        var onEnd: [@Sendable () -> Void] = []
    }
    private let flags = Mutex(Flags())
    /// State touched only inside the transport's serial context.
    private let local: ContextConfined

    private final class ContextConfined: @unchecked Sendable {
        var backlog: ArraySlice<EventRecord> = []
        var journalCursor: JournalCursor?
    }

    private let messagePrefix = Array(#"{"jsonrpc":"2.0","method":"events.event","params":{"event":"#.utf8)
    private let messageSuffix: [UInt8]

    /// Events examined per turn of the pump before it yields the transport's context.
    static let turn = 512
    /// Events fetched from the cache or journal at a time.
    static let fetch = 256

    init(id: UInt64, filter: EventFilter, after cursor: UInt64, liveFrom: UInt64, limit: Int, feed: EventFeed, transport: any EventTransport) {
        self.id = id
        self.filter = filter
        self.transport = transport
        self.limit = limit
        self.liveFrom = liveFrom
        self.feed = feed
        self.cursor = Atomic(cursor)
        self.local = ContextConfined()
        self.messageSuffix = Array(#","subscription":\#(id)}}"#.utf8)
    }

    /// The seq through which every matching event has been written.
    public var lastSeq: UInt64 { cursor.load(ordering: .acquiring) }

    public var isEnded: Bool { ended.load(ordering: .acquiring) }

    /// Starts writing (call it once the subscribe response has been sent, so that it
    /// precedes the first notification).
    public func start() {
        let token = transport.addWritabilityHandler { [weak self] in self?.wake() }
        let keep = flags.withLock { f -> Bool in
            f.started = true
            f.writabilityToken = token
            return !ended.load(ordering: .acquiring)
        }
        if !keep { transport.removeWritabilityHandler(token) }
        wake()
    }

    /// Runs `body` once when the subscription ends, however it ends (at once if it has).
    public func onEnd(_ body: @escaping @Sendable () -> Void) {
        let already = flags.withLock { f -> Bool in
            if isEnded { return true }
            f.onEnd.append(body)
            return false
        }
        if already { body() }
    }

    /// Stops without a notice (unsubscribe, connection closed). Idempotent.
    func end() {
        let (token, handlers) = flags.withLock { f -> (UInt64?, [@Sendable () -> Void]) in
            guard !ended.exchange(true, ordering: .acquiringAndReleasing) else { return (nil, []) }
            defer {
                f.writabilityToken = nil
                f.onEnd = []
            }
            return (f.writabilityToken, f.onEnd)
        }
        if let token { transport.removeWritabilityHandler(token) }
        for body in handlers { body() }
    }

    /// Ends the subscription with an `events.overflow` notice after what was written.
    func overflow() {
        guard !isEnded else { return }
        end()
        let id = self.id
        transport.execute { [self] in
            // In the serial context, after any pump turn: the cursor is final.
            let message = #"{"jsonrpc":"2.0","method":"events.overflow","params":{"lastSeq":\#(lastSeq),"subscription":\#(id)}}"#
            transport.write(Array(message.utf8))
            transport.flush()
        }
    }

    /// After a commit up to `head`: true when the subscription is (now) ended and can be
    /// forgotten; otherwise makes sure a pump will run.
    func committed(through head: UInt64) -> Bool {
        if isEnded { return true }
        let from = max(lastSeq, liveFrom)
        if head > from, head - from > UInt64(limit), !transport.isWritable {
            overflow()
            return true
        }
        wake()
        return false
    }

    private func wake() {
        let schedule = flags.withLock { f -> Bool in
            guard f.started, !f.scheduled, !ended.load(ordering: .acquiring) else { return false }
            f.scheduled = true
            return true
        }
        guard schedule else { return }
        if transport.inContext { pump() } else { transport.execute { [self] in pump() } }
    }

    /// Clears `scheduled` unless there is more to do; true when the pump should go on.
    private func idle() -> Bool {
        flags.withLock { f -> Bool in
            if local.backlog.isEmpty, feed.committed.load(ordering: .acquiring) > lastSeq { return true }
            f.scheduled = false
            return false
        }
    }

    /// Waits for the transport's writability handler (which runs in the same context, so
    /// it cannot fire between the check and this).
    private func pause() {
        flags.withLock { $0.scheduled = false }
    }

    /// Writes what it can, in the transport's context.
    private func pump() {
        var examined = 0
        var wrote = false
        defer { if wrote { transport.flush() } }
        while !isEnded {
            if local.backlog.isEmpty {
                let after = lastSeq
                let head = feed.committed.load(ordering: .acquiring)
                if after >= head {
                    if idle() { continue }
                    return
                }
                if examined >= Self.turn {
                    transport.execute { [self] in pump() } // yield; `scheduled` stays set
                    return
                }
                do {
                    let records = try fetch(after: after, through: head)
                    if records.isEmpty { // nothing in range: seqs lost to a failed write
                        cursor.store(head, ordering: .releasing)
                        continue
                    }
                    local.backlog = records[...]
                } catch {
                    overflow() // its notice is written after this turn's events
                    return
                }
            }
            // Events that do not match are passed even while the transport is full:
            // only one that must be written waits for it.
            while let record = local.backlog.first, !isEnded {
                if filter.matches(record) {
                    guard transport.isWritable else { return pause() }
                    transport.write(messagePrefix + record.json + messageSuffix)
                    wrote = true
                }
                local.backlog.removeFirst()
                cursor.store(record.seq, ordering: .releasing)
                examined += 1
            }
        }
    }

    /// The next events after `after`: from the cache, or else the journal.
    private func fetch(after: UInt64, through head: UInt64) throws -> [EventRecord] {
        if let records = feed.cache.events(after: after, through: head, limit: Self.fetch) {
            local.journalCursor = nil
            return records
        }
        let journal = feed.journal
        guard after >= journal.deletedThrough else { throw ReplayGap() }
        if local.journalCursor == nil { local.journalCursor = JournalCursor(journal: journal) }
        let records = try local.journalCursor!.read(after: after, through: head, limit: Self.fetch)
        if let first = records.first, first.seq > after + 1, after < journal.deletedThrough { throw ReplayGap() }
        return records
    }

    /// Retention deleted events this subscription had not read yet.
    struct ReplayGap: Error {}
}
