import BerthAPI
import BerthSystem
@testable import BerthEvents
import Foundation
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite struct ExchangeTests {
    static func open(_ dir: TemporaryDirectory, queue: Int = 1024, cacheEvents: Int = 4096,
                     maxBytes: Int = 64 << 20, segmentBytes: Int? = nil) throws -> Exchange {
        try Exchange(options: .init(journal: .init(directory: dir.path, maxBytes: maxBytes, segmentBytes: segmentBytes),
                                    subscriberQueue: queue, cacheEvents: cacheEvents), logger: quietLogger)
    }

    static func subscribe(_ exchange: Exchange, _ filters: [String] = [], after: UInt64? = nil,
                          transport: FakeTransport = FakeTransport()) throws -> (Subscription, FakeTransport) {
        let subscription = try exchange.subscribe(filter: EventFilter(parsing: filters), afterSeq: after, transport: transport)
        subscription.start()
        return (subscription, transport)
    }

    @Test func seqsStartAtOneAndEveryEventReachesASubscriberInOrder() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let exchange = try Self.open(dir)
        defer { exchange.close() }
        let (_, transport) = try Self.subscribe(exchange)
        for n in 1...5000 { exchange.publish(namespace: "default", topic: "/test/burst", payload: Sample(n: n)) }
        #expect(await eventually { transport.delivered.count == 5000 })
        let events = try transport.received().events
        #expect(events.map(\.seq) == Array(1...5000))
        #expect(try events.map { try $0.payload.decode(Sample.self).n } == Array(1...5000))
        #expect(events.allSatisfy { $0.topic == "/test/burst" && $0.namespace == "default" })
        #expect(exchange.lastSeq == 5000 && exchange.journal.lastSeq == 5000)
    }

    @Test func theEnvelopeIsTheWireEvent() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let exchange = try Self.open(dir)
        defer { exchange.close() }
        let (_, transport) = try Self.subscribe(exchange)
        let labels = ["quote\"d": "new\nline", "uni": "牛"]
        exchange.publish(EventTopics.namespacesCreate, namespace: "k8s.io", NamespaceCreateEvent(name: "k8s.io", labels: labels))
        #expect(await eventually { transport.delivered.count == 1 })
        let message = try WireJSON.decode(AnyJSON.self, from: transport.delivered[0])
        #expect(message["jsonrpc"] == .string("2.0") && message["method"] == .string("events.event"))
        let event = try transport.received().events[0]
        #expect(event.seq == 1 && event.namespace == "k8s.io" && event.topic == "/namespaces/create")
        #expect(try event.payload.decode(NamespaceCreateEvent.self) == NamespaceCreateEvent(name: "k8s.io", labels: labels))
        #expect(event.timestamp.count == 30 && event.timestamp.hasSuffix("Z"))
    }

    @Test func durablePublishReturnsTheSeqOnceTheEventIsInTheJournal() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let exchange = try Self.open(dir)
        defer { exchange.close() }
        let seq = try await exchange.publishDurably(namespace: "default", topic: "/engine/x", payloadJSON: Array(#"{"a":1}"#.utf8))
        #expect(seq == 1)
        #expect(exchange.journal.lastSeq == 1 && exchange.lastSeq == 1)
        let seqs = try await withThrowingTaskGroup(of: UInt64.self) { group in
            for n in 0..<200 {
                group.addTask { try await exchange.publishDurably(namespace: "default", topic: "/engine/x", payloadJSON: Array(#"{"n":\#(n)}"#.utf8)) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(seqs.sorted() == Array(2...201))
    }

    /// `whenCommitted` (berthd's shim event forwarder) waited for.
    static func committed(_ exchange: Exchange, through seq: UInt64) async -> Bool {
        await withCheckedContinuation { continuation in
            exchange.whenCommitted(through: seq) { continuation.resume(returning: $0) }
        }
    }

    /// berthd records a shim's last forwarded event only once the exchange says it is
    /// committed: it must say so only once the journal holds the event, and always answer.
    @Test func committedThroughReturnsOnceTheJournalHoldsTheEvent() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let exchange = try Self.open(dir)
        #expect(await Self.committed(exchange, through: 0)) // nothing to wait for
        let inJournal = try await withThrowingTaskGroup(of: Bool.self) { group in
            for n in 0..<300 {
                let seq = try #require(exchange.publish(namespace: "default", topic: "/test/c", payload: Sample(n: n)))
                group.addTask {
                    let ok = await Self.committed(exchange, through: seq)
                    return ok && exchange.journal.lastSeq >= seq && exchange.lastSeq >= seq
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(inJournal.count == 300 && inJournal.allSatisfy { $0 })
        // A seq that never comes: the wait ends when the exchange closes.
        let waiter = Task { await Self.committed(exchange, through: 1_000_000) }
        try await Task.sleep(for: .milliseconds(50))
        exchange.close()
        #expect(await waiter.value == false)
    }

    /// An event the journal cannot take (its file system is full) is reported as not
    /// committed, so berthd does not record a shim's event as published when it was lost.
    @Test func committedThroughIsFalseForABatchTheJournalRefused() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        try #require(mount("tmpfs", dir.path, "tmpfs", 0, "size=64k") == 0, "mount tmpfs: errno \(errno)")
        defer { umount2(dir.path, 0) }
        let exchange = try Self.open(dir)
        defer { exchange.close() }
        let first = try #require(exchange.publish(namespace: "default", topic: "/test/full", payload: Sample(n: 0)))
        #expect(await Self.committed(exchange, through: first))
        let big = String(repeating: "x", count: 16 << 10)
        var last: UInt64 = 0
        for n in 1...12 { // 192 KiB into 64 KiB
            last = try #require(exchange.publish(namespace: "default", topic: "/test/full", payload: ["n": "\(n)", "fill": big]))
        }
        #expect(await Self.committed(exchange, through: last) == false, "an event past the journal's capacity was reported committed")
        #expect(await Self.committed(exchange, through: last) == false, "asked again after the failure")
        #expect(exchange.journal.lastSeq < last)
    }

    /// Subscribe with afterSeq while events keep coming: the replay and the live stream
    /// meet with no gap and no duplicate.
    @Test(arguments: [4096, 50]) // 50: the replay comes from the journal, not the cache
    func replayThenLiveHasNoGapAndNoDuplicate(cacheEvents: Int) async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let exchange = try Self.open(dir, cacheEvents: cacheEvents, segmentBytes: 16 << 10)
        defer { exchange.close() }
        for n in 1...3000 { exchange.publish(namespace: "default", topic: "/test/a", payload: Sample(n: n)) }
        _ = try await exchange.publishDurably(namespace: "default", topic: "/test/a", payloadJSON: Array(#"{"n":3001}"#.utf8))
        let publisher = Task.detached {
            for n in 3002...6000 {
                exchange.publish(namespace: "default", topic: "/test/a", payload: Sample(n: n))
                if n % 500 == 0 { try? await Task.sleep(for: .milliseconds(1)) }
            }
        }
        let (_, transport) = try Self.subscribe(exchange, after: 1000)
        await publisher.value
        #expect(await eventually { transport.delivered.count == 5000 })
        let seqs = try transport.received().events.map(\.seq)
        #expect(seqs == Array(1001...6000))
    }

    @Test func filtersSelectEventsAndReplayAppliesThemToo() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let exchange = try Self.open(dir)
        defer { exchange.close() }
        for n in 1...100 {
            exchange.publish(namespace: n % 2 == 0 ? "even" : "odd", topic: n % 5 == 0 ? "/test/five" : "/test/other", payload: Sample(n: n))
        }
        _ = try await exchange.publishDurably(namespace: "x", topic: "/test/sync", payloadJSON: Array("{}".utf8))
        let (_, replayed) = try Self.subscribe(exchange, [#"namespace==even,topic=="/test/five""#, "payload.n==7"], after: 0)
        #expect(await eventually { replayed.delivered.count == 11 })
        #expect(try replayed.received().events.map(\.seq) == [7, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100])
    }

    @Test func afterSeqOutsideTheJournalFailsNamingTheOldestAvailable() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let exchange = try Self.open(dir, maxBytes: 64 << 10, segmentBytes: 4 << 10)
        defer { exchange.close() }
        for n in 1...2000 {
            _ = try await exchange.publishDurably(namespace: "default", topic: "/test/a", payloadJSON: Array(#"{"n":\#(n),"pad":"................................................"}"#.utf8))
        }
        let gone = exchange.journal.deletedThrough
        #expect(gone > 0)
        do {
            _ = try exchange.subscribe(filter: .everything, afterSeq: gone - 1, transport: FakeTransport())
            Issue.record("subscribed")
        } catch let error as BerthError {
            #expect(error.kind == .failedPrecondition)
            #expect(error.message.contains("oldest available is seq \(gone + 1)"), "\(error.message)")
        }
        do {
            _ = try exchange.subscribe(filter: .everything, afterSeq: 2001, transport: FakeTransport())
            Issue.record("subscribed")
        } catch let error as BerthError {
            #expect(error.kind == .failedPrecondition && error.message.contains("ahead of the newest event (seq 2000)"))
        }
        let (_, transport) = try Self.subscribe(exchange, after: gone)
        #expect(await eventually { transport.delivered.count == Int(2000 - gone) })
        #expect(try transport.received().events.map(\.seq) == Array((gone + 1)...2000))
    }

    /// A subscriber that stops reading gets one overflow notice naming the last seq it
    /// was sent, and is dropped; a reading subscriber beside it misses nothing.
    @Test func aSubscriberThatDoesNotReadOverflowsAlone() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let exchange = try Self.open(dir, queue: 100)
        defer { exchange.close() }
        let (stalled, stalledTransport) = try Self.subscribe(exchange, transport: FakeTransport(highWaterMark: 4 << 10, reading: false))
        let (_, fast) = try Self.subscribe(exchange)
        #expect(exchange.subscriptionCount == 2)
        for n in 1...3000 {
            _ = try await exchange.publishDurably(namespace: "default", topic: "/test/a", payloadJSON: Array(#"{"n":\#(n)}"#.utf8))
        }
        #expect(stalled.isEnded)
        #expect(exchange.subscriptionCount == 1)
        #expect(stalledTransport.handlerCount == 0)
        stalledTransport.setReading(true)
        #expect(await eventually { (try? stalledTransport.received().overflow) != nil })
        let (events, overflow) = try stalledTransport.received()
        #expect(!events.isEmpty && events.count < 3000)
        #expect(events.map(\.seq) == Array(1...UInt64(events.count)))
        #expect(overflow == OverflowNotification(subscription: stalled.id, lastSeq: UInt64(events.count)))
        #expect(stalledTransport.delivered.count == events.count + 1, "nothing after the overflow notice")
        #expect(await eventually { fast.delivered.count == 3000 })
        #expect(try fast.received().events.map(\.seq) == Array(1...3000))
    }

    @Test func aBurstDoesNotOverflowASubscriberThatReads() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let exchange = try Self.open(dir, queue: 16, cacheEvents: 64)
        defer { exchange.close() }
        let (subscription, transport) = try Self.subscribe(exchange)
        for n in 1...10_000 { exchange.publish(namespace: "default", topic: "/test/burst", payload: Sample(n: n)) }
        #expect(await eventually { transport.delivered.count == 10_000 })
        #expect(!subscription.isEnded)
        #expect(try transport.received().events.map(\.seq) == Array(1...10_000))
    }

    @Test func unsubscribeStopsTheStreamAndRunsEndHandlersOnce() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let exchange = try Self.open(dir)
        defer { exchange.close() }
        let (subscription, transport) = try Self.subscribe(exchange)
        let ends = Counter()
        subscription.onEnd { ends.add() }
        _ = try await exchange.publishDurably(namespace: "d", topic: "/t/a", payloadJSON: Array("{}".utf8))
        #expect(await eventually { transport.delivered.count == 1 })
        #expect(exchange.unsubscribe(subscription.id))
        #expect(!exchange.unsubscribe(subscription.id))
        _ = try await exchange.publishDurably(namespace: "d", topic: "/t/a", payloadJSON: Array("{}".utf8))
        try await Task.sleep(for: .milliseconds(50))
        #expect(transport.delivered.count == 1)
        #expect(ends.value == 1)
        subscription.onEnd { ends.add() } // already ended: runs at once
        #expect(ends.value == 2)
    }

    @Test func nothingIsWrittenBeforeStart() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let exchange = try Self.open(dir)
        defer { exchange.close() }
        let transport = FakeTransport()
        let subscription = try exchange.subscribe(filter: .everything, afterSeq: 0, transport: transport)
        _ = try await exchange.publishDurably(namespace: "d", topic: "/t/a", payloadJSON: Array("{}".utf8))
        try await Task.sleep(for: .milliseconds(30))
        #expect(transport.delivered.isEmpty)
        subscription.start()
        #expect(await eventually { transport.delivered.count == 1 })
    }

    @Test func numberingContinuesAfterReopening() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        do {
            let exchange = try Self.open(dir)
            for n in 1...10 { exchange.publish(namespace: "d", topic: "/t/a", payload: Sample(n: n)) }
            exchange.close() // writes what is pending
        }
        let exchange = try Self.open(dir)
        defer { exchange.close() }
        #expect(exchange.lastSeq == 10)
        #expect(try await exchange.publishDurably(namespace: "d", topic: "/t/a", payloadJSON: Array("{}".utf8)) == 11)
        let (_, transport) = try Self.subscribe(exchange, after: 8)
        #expect(await eventually { transport.delivered.count == 3 })
        #expect(try transport.received().events.map(\.seq) == [9, 10, 11])
    }

    @Test func aClosedExchangeRefusesEvents() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let exchange = try Self.open(dir)
        exchange.close()
        #expect(exchange.publish(namespace: "d", topic: "/t/a", payload: Sample(n: 1)) == nil)
        await #expect(throws: BerthError.self) {
            try await exchange.publishDurably(namespace: "d", topic: "/t/a", payloadJSON: Array("{}".utf8))
        }
    }

    @Test(arguments: [
        ("/engine/build/done", nil),
        ("/buildkit.v1/solve-step/x_y", nil),
        ("", "must not be empty"),
        ("engine/x", "must start with '/'"),
        ("/", "at least one component"),
        ("/engine//x", "must not be empty"),
        ("/engine/x/", "must not be empty"),
        ("/engine/a b", "is invalid"),
        ("/tasks/exit", "reserved"),
        ("/namespaces/create", "reserved"),
        ("/snapshot/prepare", "reserved"),
        ("/content", "reserved"),
    ] as [(String, String?)])
    func publishedTopicsFollowTheRules(_ topic: String, _ error: String?) {
        do {
            try TopicRules.validatePublished(topic)
            #expect(error == nil, "\(topic) accepted")
        } catch let e as BerthError {
            #expect(e.kind == .invalidArgument)
            #expect(error.map { e.message.contains($0) } == true, "\(topic): \(e.message)")
        } catch {
            Issue.record("\(error)")
        }
    }
}

final class Counter: Sendable {
    private let count = Mutex(0)
    func add() { count.withLock { $0 += 1 } }
    var value: Int { count.withLock { $0 } }
}

extension ExchangeTests {
    /// A full transport holds back only events that must be written: the cursor passes
    /// the ones the filter rejects, so they do not count against the subscriber.
    @Test func eventsAFilterRejectsDoNotCountWhileTheTransportIsFull() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let exchange = try Self.open(dir, queue: 100)
        defer { exchange.close() }
        let transport = FakeTransport(highWaterMark: 1 << 10, reading: false)
        let (subscription, _) = try Self.subscribe(exchange, [#"topic=="/test/rare""#], transport: transport)
        // Fill the transport with matching events, each of them written.
        var rare: UInt64 = 0
        while transport.isWritable {
            rare = try await exchange.publishDurably(namespace: "d", topic: "/test/rare", payloadJSON: Array(#"{"pad":"................................................................................"}"#.utf8))
            #expect(await eventually(5) { subscription.lastSeq == rare })
        }
        for _ in 1...2000 {
            _ = try await exchange.publishDurably(namespace: "d", topic: "/test/common", payloadJSON: Array("{}".utf8))
        }
        #expect(await eventually { subscription.lastSeq == rare + 2000 })
        #expect(!subscription.isEnded)
        transport.setReading(true)
        let last = try await exchange.publishDurably(namespace: "d", topic: "/test/rare", payloadJSON: Array("{}".utf8))
        #expect(await eventually { transport.delivered.count == Int(rare) + 1 })
        #expect(try transport.received().events.map(\.seq) == Array(1...rare) + [last])
    }
}

extension ExchangeTests {
    /// A burst larger than one commit is committed in bounded batches, so no segment
    /// grows far past its size however fast services publish.
    @Test func aBurstIsCommittedInBoundedBatches() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let exchange = try Self.open(dir, maxBytes: 1 << 30, segmentBytes: 64 << 10)
        defer { exchange.close() }
        let pad = String(repeating: "z", count: 2000)
        for n in 1...6000 { exchange.publish(namespace: "d", topic: "/t/burst", payload: Sample(n: n, text: pad)) }
        _ = try await exchange.publishDurably(namespace: "d", topic: "/t/burst", payloadJSON: Array("{}".utf8))
        let biggest = exchange.journal.segments.map(\.size).max() ?? 0
        #expect(biggest <= (64 << 10) + Exchange.maxBatchBytes + (16 << 10), "a segment of \(biggest) bytes")
        #expect(exchange.journal.segments.count > 3)
        let (_, transport) = try Self.subscribe(exchange, after: 0)
        #expect(await eventually { transport.delivered.count == 6001 })
        #expect(try transport.received().events.map(\.seq) == Array(1...6001))
    }
}
