import BerthAPI
@testable import BerthDaemon
import Foundation
import Testing

/// events.* against an in-process berthd.
@Suite struct EventsServiceTests {
    @Test func namespacesPublishTheirEventsWithContiguousSeqs() async throws {
        try await withDaemon { daemon in
            let watcher = try await daemon.client()
            defer { watcher.close() }
            let subscription = try await watcher.subscribeEvents()
            let client = try await daemon.client()
            defer { client.close() }
            try await client.createNamespace("builds", labels: ["team": "ci"])
            try await client.labelNamespace("builds", ["owner": "me"])
            try await client.deleteNamespace("builds")
            let events = try await EventsTestSupport.collect(subscription, count: 3)
            #expect(events.map(\.topic) == ["/namespaces/create", "/namespaces/update", "/namespaces/delete"])
            #expect(events.map(\.seq) == [1, 2, 3])
            #expect(events.allSatisfy { $0.namespace == "builds" })
            #expect(try events[0].payload.decode(NamespaceCreateEvent.self) == NamespaceCreateEvent(name: "builds", labels: ["team": "ci"]))
            #expect(try events[1].payload.decode(NamespaceUpdateEvent.self) == NamespaceUpdateEvent(name: "builds", labels: ["owner": "me", "team": "ci"]))
            #expect(try events[2].payload.decode(NamespaceDeleteEvent.self) == NamespaceDeleteEvent(name: "builds"))
        }
    }

    @Test func aFailedChangePublishesNothing() async throws {
        try await withDaemon { daemon in
            let client = try await daemon.client()
            defer { client.close() }
            try await client.createNamespace("a")
            await #expect(throws: BerthError.self) { try await client.createNamespace("a") }
            await #expect(throws: BerthError.self) { try await client.deleteNamespace("nope") }
            let seq = try await client.publishEvent(topic: "/test/marker", payload: ["x": 1])
            #expect(seq == 2, "only the one successful create came before")
        }
    }

    /// The subscribe response comes before the first notification, even when a replay
    /// has events ready at once.
    @Test func theResponsePrecedesTheFirstNotification() async throws {
        try await withDaemon { daemon in
            let client = try await daemon.client()
            defer { client.close() }
            _ = try await EventsTestSupport.publish(client, count: 20)
            let raw = try daemon.raw()
            raw.call(7, "events.subscribe", #"{"afterSeq":0}"#)
            let first = try await raw.next()
            #expect(first["id"]?.int == 7)
            let subscription = try #require(first["result"]?["subscription"]?.int)
            for seq in 1...20 {
                let note = try await raw.next()
                #expect(note["method"]?.string == "events.event")
                #expect(note["params"]?["subscription"]?.int == subscription)
                #expect(note["params"]?["event"]?["seq"]?.int == Int64(seq))
            }
        }
    }

    /// Disconnect, more activity, resubscribe with afterSeq: exactly the missed events,
    /// then live ones.
    @Test func resubscribingAfterADisconnectDeliversExactlyWhatWasMissed() async throws {
        try await withDaemon { daemon in
            let client = try await daemon.client()
            defer { client.close() }
            let first = try await daemon.client()
            let subscription = try await first.subscribeEvents()
            _ = try await EventsTestSupport.publish(client, count: 10)
            let seen = try await EventsTestSupport.collect(subscription, count: 10)
            #expect(seen.map(\.seq) == Array(1...10))
            first.close()
            _ = try await EventsTestSupport.publish(client, count: 25) // missed: 11...35
            try await client.createNamespace("missed")                  // 36
            let second = try await daemon.client()
            defer { second.close() }
            let resumed = try await second.subscribeEvents(afterSeq: seen.last!.seq)
            let missed = try await EventsTestSupport.collect(resumed, count: 26)
            #expect(missed.map(\.seq) == Array(11...36))
            #expect(missed.last?.topic == "/namespaces/create")
            try await client.deleteNamespace("missed")
            let live = try await EventsTestSupport.collect(resumed, count: 1)
            #expect(live.map(\.seq) == [37])
        }
    }

    @Test func malformedFiltersAreRejectedWithTheirPosition() async throws {
        try await withDaemon { daemon in
            let client = try await daemon.client()
            defer { client.close() }
            for (filters, text) in [
                (["topic==/tasks/exit"], "filters[0]: parse error at byte 7"),
                (["namespace==a", "image~=,id"], "filters[1]: parse error at byte 7: [image~= >|,|< id]: expected value or quoted"),
                (["name=a"], "unsupported operator"),
                (["payload.x~=("], "invalid regular expression"),
            ] {
                do {
                    _ = try await client.call(API.eventsSubscribe, SubscribeEventsRequest(filters: filters))
                    Issue.record("\(filters) accepted")
                } catch let error as BerthError {
                    #expect(error.kind == .invalidArgument)
                    #expect(error.message.contains(text), "\(error.message)")
                }
            }
            #expect(try await stillServes(daemon))
        }
    }

    @Test func publishChecksNamespaceTopicAndPayload() async throws {
        try await withDaemon { daemon in
            let client = try await daemon.client()
            defer { client.close() }
            for request in [
                PublishEventRequest(topic: "/tasks/exit", payload: .object([:])),
                PublishEventRequest(topic: "engine/x", payload: .object([:])),
                PublishEventRequest(namespace: "../x", topic: "/engine/x", payload: .object([:])),
                PublishEventRequest(topic: "/engine/x", payload: .array([])),
                PublishEventRequest(topic: "/engine/x", payload: .object(["big": .string(String(repeating: "b", count: 300 << 10))])),
            ] {
                do {
                    _ = try await client.call(API.eventsPublish, request)
                    Issue.record("\(request.topic) accepted")
                } catch let error as BerthError {
                    #expect(error.kind == .invalidArgument, "\(error)")
                }
            }
            #expect(try await client.publishEvent(namespace: "k8s.io", topic: "/engine/x", payload: ["ok": true]) == 1)
        }
    }

    @Test func unsubscribeWorksOnlyOnTheOwningConnection() async throws {
        try await withDaemon { daemon in
            let owner = try await daemon.client()
            defer { owner.close() }
            let other = try await daemon.client()
            defer { other.close() }
            let id = try await owner.call(API.eventsSubscribe, SubscribeEventsRequest()).subscription
            await #expect(throws: BerthError.self) { try await other.unsubscribeEvents(id) }
            try await owner.unsubscribeEvents(id)
            do {
                try await owner.unsubscribeEvents(id)
                Issue.record("unsubscribed twice")
            } catch let error as BerthError {
                #expect(error.kind == .notFound)
            }
        }
    }

    @Test func aClosedConnectionEndsItsSubscriptions() async throws {
        try await withDaemon { daemon in
            let exchange = daemon.running.context.exchange
            let client = try await daemon.client()
            _ = try await client.subscribeEvents()
            _ = try await client.subscribeEvents(filters: ["namespace==x"])
            #expect(exchange.subscriptionCount == 2)
            client.close()
            #expect(await pollUntil { exchange.subscriptionCount == 0 })
        }
    }

    @Test func afterSeqAheadOfTheJournalIsFailedPrecondition() async throws {
        try await withDaemon { daemon in
            let client = try await daemon.client()
            defer { client.close() }
            do {
                _ = try await client.call(API.eventsSubscribe, SubscribeEventsRequest(afterSeq: 5))
                Issue.record("subscribed")
            } catch let error as BerthError {
                #expect(error.kind == .failedPrecondition && error.message.contains("ahead of the newest event"))
            }
        }
    }
}

/// Polls `condition` every 10 ms for up to `seconds`.
func pollUntil(_ seconds: Double = 20, _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return try await condition()
}
