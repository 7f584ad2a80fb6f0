import BerthAPI
@testable import BerthDaemon
import Foundation

/// Helpers of the events tests.
enum EventsTestSupport {
    /// Publishes `count` events through `events.publish`, at most `window` in flight;
    /// returns their seqs in publication order of completion.
    static func publish(_ client: BerthClient, count: Int, window: Int = 64, topic: String = "/test/burst",
                        namespace: String = "default", pad: Int = 0) async throws -> [UInt64] {
        let padding = String(repeating: "p", count: pad)
        return try await withThrowingTaskGroup(of: UInt64.self) { group in
            var seqs: [UInt64] = []
            seqs.reserveCapacity(count)
            for n in 0..<count {
                if n >= window, let seq = try await group.next() { seqs.append(seq) }
                group.addTask {
                    try await client.call(API.eventsPublish, PublishEventRequest(
                        namespace: namespace, topic: topic,
                        payload: .object(["n": .integer(Int64(n)), "pad": .string(padding)]))).seq
                }
            }
            for try await seq in group { seqs.append(seq) }
            return seqs
        }
    }

    /// Reads `count` events (or until the subscription ends) from a subscription.
    static func collect(_ subscription: EventSubscription, count: Int) async throws -> [Event] {
        var events: [Event] = []
        for try await event in subscription {
            events.append(event)
            if events.count == count { break }
        }
        return events
    }

    /// The resident set size of this process, from /proc/self/status.
    static func residentBytes(pid: String = "self") -> Int {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }) else { return 0 }
        let kb = Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
        return kb * 1024
    }

    static func seconds(_ body: () async throws -> Void) async rethrows -> Double {
        let start = ContinuousClock.now
        try await body()
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }
}

extension RawConnection {
    /// Sends one request.
    func call(_ id: Int, _ method: String, _ params: String) {
        sendFrame(#"{"jsonrpc":"2.0","id":\#(id),"method":"\#(method)","params":\#(params)}"#)
    }

    /// The next frame as a JSON tree.
    func next() async throws -> JSONValue {
        guard let frame = await readFrame() else { throw POSIXError(.ECONNRESET) }
        return try WireJSON.decode(JSONValue.self, from: frame)
    }
}

extension JSONValue {
    var int: Int64? { if case let .integer(i) = self { i } else { nil } }
    var string: String? { if case let .string(s) = self { s } else { nil } }
}

/// Runs blocking work (waiting for a child process, reading its pipe) on a thread of
/// its own. Dispatch's global queues run only as many threads as there are cores, and
/// the other tests' `offload` reads need them.
func onOwnThread<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        let thread = Thread { continuation.resume(returning: work()) }
        thread.start()
    }
}
