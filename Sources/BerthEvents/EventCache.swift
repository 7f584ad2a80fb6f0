import NIOCore
import Synchronization

/// The most recent committed events, in memory, shared by every subscription: a
/// subscription that keeps up reads here; one that is behind (or replaying) reads the
/// journal instead. Bounded by a count and a byte budget, whichever is hit first.
final class EventCache: Sendable {
    private struct State {
        var events = CircularBuffer<EventRecord>()
        var bytes = 0
        /// Every seq at or below this is not (or no longer) in the cache.
        var evictedThrough: UInt64
    }

    let maxEvents: Int
    let maxBytes: Int
    private let state: Mutex<State>

    /// - Parameter after: the newest seq committed before the cache existed (those are
    ///   only in the journal).
    init(maxEvents: Int, maxBytes: Int, after: UInt64) {
        self.maxEvents = max(1, maxEvents)
        self.maxBytes = maxBytes
        state = Mutex(State(evictedThrough: after))
    }

    func append(_ records: [EventRecord]) {
        state.withLock { s in
            for record in records {
                s.events.append(record)
                s.bytes += record.json.count
            }
            while s.events.count > maxEvents || (s.bytes > maxBytes && s.events.count > 1) {
                let old = s.events.removeFirst()
                s.bytes -= old.json.count
                s.evictedThrough = old.seq
            }
        }
    }

    /// Events with `after < seq <= through`, oldest first, at most `limit`; nil when
    /// some of that range may have left the cache already (read the journal then).
    func events(after: UInt64, through: UInt64, limit: Int) -> [EventRecord]? {
        state.withLock { s -> [EventRecord]? in
            guard after >= s.evictedThrough else { return nil }
            // Binary search for the first event after `after`.
            var low = 0
            var high = s.events.count
            while low < high {
                let mid = (low + high) / 2
                if s.events[s.events.index(s.events.startIndex, offsetBy: mid)].seq <= after { low = mid + 1 } else { high = mid }
            }
            var out: [EventRecord] = []
            var i = low
            while i < s.events.count, out.count < limit {
                let record = s.events[s.events.index(s.events.startIndex, offsetBy: i)]
                if record.seq > through { break }
                out.append(record)
                i += 1
            }
            return out
        }
    }
}
