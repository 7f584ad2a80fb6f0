import BerthAPI
@testable import BerthDaemon
import Foundation
import Testing

/// Bursts, slow subscribers, and the daemon's memory.
@Suite(.serialized) struct EventsLoadTests {
    /// 10,000 events through events.publish reach a subscriber that reads, in order.
    @Test func aTenThousandEventBurstArrivesInOrder() async throws {
        try await withDaemon { daemon in
            let watcher = try await daemon.client()
            defer { watcher.close() }
            let subscription = try await watcher.subscribeEvents(filters: [#"topic=="/test/burst""#])
            let client = try await daemon.client()
            defer { client.close() }
            async let received = EventsTestSupport.collect(subscription, count: 10_000)
            let seqs = try await EventsTestSupport.publish(client, count: 10_000, window: 128)
            let events = try await received
            #expect(Set(seqs).count == 10_000)
            #expect(events.map(\.seq) == Array(1...10_000))
            #expect(daemon.running.context.exchange.subscriptionCount == 1, "the reading subscriber was not dropped")
        }
    }

    /// A subscriber that never reads: its overflow notice arrives (after the events it
    /// was sent, naming the last one), publishers are not slowed, the reading subscriber
    /// beside it misses nothing.
    @Test func aSubscriberThatNeverReadsIsDroppedWithoutSlowingOthers() async throws {
        try await withDaemon { daemon in
            let client = try await daemon.client()
            defer { client.close() }
            let watcher = try await daemon.client()
            defer { watcher.close() }
            let exchange = daemon.running.context.exchange
            let count = 2500
            let pad = 200

            // Without a stalled subscriber.
            let fast1 = try await watcher.subscribeEvents()
            async let got1 = EventsTestSupport.collect(fast1, count: count)
            let baseline = try await EventsTestSupport.seconds {
                _ = try await EventsTestSupport.publish(client, count: count, pad: pad)
            }
            #expect(try await got1.count == count)
            try await watcher.unsubscribeEvents(fast1.id)

            // With one.
            let stalled = try daemon.raw()
            stalled.call(1, "events.subscribe", "{}")
            let response = try await stalled.next()
            let stalledID = try #require(response["result"]?["subscription"]?.int)
            let watcher2 = try await daemon.client()
            defer { watcher2.close() }
            let fast2 = try await watcher2.subscribeEvents()
            async let got2 = EventsTestSupport.collect(fast2, count: count)
            let rssBefore = EventsTestSupport.residentBytes()
            let loaded = try await EventsTestSupport.seconds {
                _ = try await EventsTestSupport.publish(client, count: count, pad: pad)
            }
            let events2 = try await got2
            #expect(events2.map(\.seq) == Array(UInt64(count + 1)...UInt64(2 * count)))
            #expect(exchange.subscriptionCount == 1, "the stalled one was dropped, the reading one kept")
            #expect(loaded < 3 * baseline + 0.5, "publishing took \(loaded)s beside a stalled subscriber, \(baseline)s without")
            let rssGrowth = EventsTestSupport.residentBytes() - rssBefore
            #expect(rssGrowth < 64 << 20, "RSS grew by \(rssGrowth >> 20) MiB")

            // Now read what the stalled one was sent: events in order, then the notice.
            var last: Int64 = Int64(count)
            var overflow: JSONValue?
            while overflow == nil {
                let message = try await stalled.next()
                switch message["method"]?.string {
                case "events.event":
                    let seq = try #require(message["params"]?["event"]?["seq"]?.int)
                    #expect(seq == last + 1)
                    last = seq
                case "events.overflow":
                    overflow = message["params"]
                default:
                    Issue.record("unexpected \(message)")
                    return
                }
            }
            #expect(overflow?["subscription"]?.int == stalledID)
            #expect(overflow?["lastSeq"]?.int == last)
            #expect(last < Int64(2 * count), "it did fall behind")
            print("events.load publish_s_baseline=\(baseline) publish_s_with_stalled=\(loaded) stalled_last_seq=\(last) rss_growth_mib=\(rssGrowth >> 20)")
        }
    }

    /// However far a stalled subscriber falls behind, the daemon holds no more for it.
    /// Measured on a berthd child process, so other tests' allocations do not count.
    @Test(.enabled(if: ChildBerthd.binary != nil, "build berthd first (.build/debug/berthd or BERTH_BIN_DIR)"))
    func memoryStaysBoundedBesideAStalledSubscriber() async throws {
        let dir = makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let daemon = try await ChildBerthd.start(in: dir)
        do {
            let client = try await daemon.client()
            defer { client.close() }
            let stalled = try RawConnection(path: daemon.address)
            stalled.call(1, "events.subscribe", "{}")
            _ = try await stalled.next()
            // Warm up the allocator with the same traffic, then measure.
            _ = try await EventsTestSupport.publish(client, count: 500, pad: 16 << 10)
            let before = EventsTestSupport.residentBytes(pid: "\(daemon.pid)")
            _ = try await EventsTestSupport.publish(client, count: 3000, pad: 16 << 10) // 48 MiB of events
            let after = EventsTestSupport.residentBytes(pid: "\(daemon.pid)")
            let growth = after - before
            #expect(before > 0 && after > 0)
            #expect(growth < 40 << 20, "berthd's RSS grew by \(growth >> 20) MiB for 48 MiB of events")
            // The stalled subscriber was dropped: its notice is in its stream.
            var overflowed = false
            while !overflowed, let message = try? await stalled.next() {
                overflowed = message["method"]?.string == "events.overflow"
            }
            #expect(overflowed)
            print("events.memory berthd_rss_before_mib=\(before >> 20) growth_mib=\(growth >> 20) for 3000 x 16 KiB events")
        } catch {
            await daemon.stop()
            throw error
        }
        await daemon.stop()
    }
}
