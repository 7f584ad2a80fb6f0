import ArgumentParser
import BerthAPI
import Dispatch
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// `berth-bench events`: events per second delivered to K subscribers, and the latency
/// from `events.publish` to delivery.
///
/// The subscribers are plain blocking sockets on threads of their own that only find
/// each frame's seq and send time, so the figures are berthd's, not a client library's.
struct EventsBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events",
        abstract: "Events/s delivered to K subscribers, and publish-to-delivery latency.")

    @Option var address: String
    @Option(help: "Events per throughput run.") var count = 20000
    @Option(help: "Subscriber counts to measure, comma-separated.") var subscribers = "1,10"
    @Option(help: "events.publish calls in flight.") var window = 256
    @Option(help: "Sequential publishes for the latency run.") var latencyCount = 2000

    func run() async throws {
        let publisher = try await BerthClient.connect(to: address)
        defer { publisher.close() }
        for k in subscribers.split(separator: ",").compactMap({ Int($0) }) {
            try await throughput(publisher, subscribers: k)
        }
        try await latency(publisher)
    }

    /// Publishes `count` events with `window` in flight; times until every subscriber
    /// has all of them. The publisher is a raw socket too (pre-built requests, responses
    /// only counted): a client library's JSON work would compete with berthd for the
    /// machine's cores.
    func throughput(_ publisher: BerthClient, subscribers k: Int) async throws {
        let topic = "/bench/throughput-\(k)"
        let subs = try (0..<k).map { _ in try RawSubscriber(address: address, filter: #"topic=="\#(topic)""#, expect: count) }
        let raw = try RawPublisher(address: address)
        let start = monotonicMicros()
        await offloaded { raw.publish(topic: topic, count: count, window: window) }
        let published = monotonicMicros()
        if let problem = raw.problem { throw ValidationError("publisher: \(problem)") }
        for sub in subs { sub.wait() }
        let done = monotonicMicros()
        var latencies: [Double] = []
        for sub in subs {
            if let problem = sub.problem { throw ValidationError("subscriber: \(problem)") }
            latencies += sub.latencies
        }
        latencies.sort()
        let seconds = (done - start) / 1e6
        print("events.throughput subscribers=\(k) events=\(count) window=\(window) "
            + "publish_per_s=\(Int(Double(count) / ((published - start) / 1e6))) "
            + "delivered_per_s_per_subscriber=\(Int(Double(count) / seconds)) "
            + "delivered_per_s_total=\(Int(Double(count * k) / seconds)) "
            + "latency_under_load_p50_us=\(fmt(pct(latencies, 0.5))) latency_under_load_p99_us=\(fmt(pct(latencies, 0.99)))")
    }

    /// One event at a time: the time from sending events.publish to the event's arrival
    /// at a subscriber (the proxy for kill → /tasks/exit until tasks exist).
    func latency(_ publisher: BerthClient) async throws {
        let topic = "/bench/latency"
        let sub = try RawSubscriber(address: address, filter: #"topic=="\#(topic)""#, expect: latencyCount)
        for _ in 0..<latencyCount {
            let before = sub.received
            try await publisher.call(API.eventsPublish, PublishEventRequest(
                topic: topic, payload: .object(["t": .integer(Int64(monotonicMicros()))])))
            while sub.received == before { usleep(20) } // wait for delivery before the next
        }
        sub.wait()
        if let problem = sub.problem { throw ValidationError("subscriber: \(problem)") }
        let latencies = sub.latencies.sorted()
        print("events.latency subscribers=1 count=\(latencyCount) publish_to_delivery_p50_us=\(fmt(pct(latencies, 0.5))) "
            + "p99_us=\(fmt(pct(latencies, 0.99))) max_us=\(fmt(latencies.last ?? 0))")
    }

}

/// Runs blocking work on a thread of its own and awaits it.
func offloaded(_ work: @escaping @Sendable () -> Void) async {
    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
        startThread {
            work()
            continuation.resume()
        }
    }
}

/// `events.publish` over a blocking socket: requests written by one thread with at most
/// `window` unanswered, responses counted by another.
final class RawPublisher: Sendable {
    let fd: Int32
    private let answered = Atomic<Int>(0)
    private let failure = Mutex<String?>(nil)

    init(address: String) throws {
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { $0.copyBytes(from: Array(address.utf8)) }
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard rc == 0 else { throw ValidationError("connect \(address): errno \(errno)") }
    }

    var problem: String? { failure.withLock { $0 } }

    func publish(topic: String, count: Int, window: Int) {
        let slots = DispatchSemaphore(value: window)
        let finished = DispatchSemaphore(value: 0)
        let fd = self.fd
        startThread { [self] in
            var reader = FrameSplitter(fd: fd)
            while answered.load(ordering: .relaxed) < count, let frame = reader.next() {
                if frame.firstRange(of: Array(#""error""#.utf8)) != nil {
                    failure.withLock { $0 = $0 ?? String(decoding: frame, as: UTF8.self) }
                }
                answered.add(1, ordering: .relaxed)
                slots.signal()
            }
            finished.signal()
        }
        for n in 0..<count {
            slots.wait()
            let body = Array(#"{"jsonrpc":"2.0","id":\#(n),"method":"events.publish","params":{"payload":{"t":\#(Int64(monotonicMicros()))},"topic":"\#(topic)"}}"#.utf8)
            var frame = [UInt8(body.count >> 24), UInt8((body.count >> 16) & 0xff), UInt8((body.count >> 8) & 0xff), UInt8(body.count & 0xff)]
            frame += body
            var offset = 0
            while offset < frame.count {
                let sent = frame.withUnsafeBytes { send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
                if sent <= 0 { failure.withLock { $0 = "send failed" }; return }
                offset += sent
            }
        }
        finished.wait()
        close(fd)
    }
}

func pct(_ sorted: [Double], _ p: Double) -> Double {
    sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
}

func monotonicMicros() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) * 1e6 + Double(ts.tv_nsec) / 1e3
}

/// A subscriber on a blocking socket read by a thread of its own.
final class RawSubscriber: Sendable {
    private struct State {
        var latencies: [Double] = []
        var lastSeq: Int64 = -1
        var problem: String?
    }
    private let state = Mutex(State())
    private let count = Atomic<Int>(0)
    private let done = DispatchSemaphore(value: 0)
    let expect: Int

    init(address: String, filter: String, expect: Int) throws {
        self.expect = expect
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { $0.copyBytes(from: Array(address.utf8)) }
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard rc == 0 else { throw ValidationError("connect \(address): errno \(errno)") }
        let escaped = filter.replacingQuotes()
        let request = Array(#"{"jsonrpc":"2.0","id":1,"method":"events.subscribe","params":{"filters":["\#(escaped)"]}}"#.utf8)
        var frame = [UInt8(request.count >> 24), UInt8((request.count >> 16) & 0xff), UInt8((request.count >> 8) & 0xff), UInt8(request.count & 0xff)]
        frame += request
        _ = frame.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        // The response first, so no event is published before the subscription exists.
        var reader = FrameSplitter(fd: fd)
        guard let response = reader.next(), String(decoding: response, as: UTF8.self).contains("\"subscription\"") else {
            close(fd)
            throw ValidationError("events.subscribe failed")
        }
        // A thread of its own: blocking reads on Dispatch's global queues would starve
        // them (they run only as many threads as there are cores).
        startThread(ReaderThread(reader: reader, subscriber: self).run)
    }

    var received: Int { count.load(ordering: .acquiring) }
    var latencies: [Double] { state.withLock { $0.latencies } }
    var problem: String? { state.withLock { $0.problem } }

    func wait() { done.wait() }

    fileprivate func got(_ frame: ArraySlice<UInt8>) -> Bool {
        let now = monotonicMicros()
        guard let seq = Self.number(after: Array(#""seq":"#.utf8), in: frame),
              let sent = Self.number(after: Array(#""payload":{"t":"#.utf8), in: frame) else {
            if String(decoding: frame, as: UTF8.self).contains("events.overflow") {
                state.withLock { $0.problem = "dropped by events.overflow after \(count.load(ordering: .relaxed)) events" }
                done.signal()
                return false
            }
            return true
        }
        state.withLock { s in
            if s.lastSeq >= 0 && seq != s.lastSeq + 1 && s.problem == nil {
                // Filtered streams need not be contiguous, but they must increase.
                if seq <= s.lastSeq { s.problem = "seq \(seq) after \(s.lastSeq)" }
            }
            s.lastSeq = seq
            s.latencies.append(now - Double(sent))
        }
        if count.add(1, ordering: .releasing).newValue == expect {
            done.signal()
            return false
        }
        return true
    }

    static func number(after key: [UInt8], in bytes: ArraySlice<UInt8>) -> Int64? {
        guard let range = bytes.firstRange(of: key) else { return nil }
        var value: Int64 = 0
        var i = range.upperBound
        while i < bytes.endIndex, bytes[i] >= 48, bytes[i] <= 57 {
            value = value * 10 + Int64(bytes[i] - 48)
            i += 1
        }
        return value
    }
}

private final class ReaderThread: @unchecked Sendable {
    var reader: FrameSplitter
    let subscriber: RawSubscriber

    init(reader: FrameSplitter, subscriber: RawSubscriber) {
        self.reader = reader
        self.subscriber = subscriber
    }

    func run() {
        while let frame = reader.next(), subscriber.got(frame[...]) {}
        close(reader.fd)
    }
}

/// Runs `body` on a new detached pthread.
func startThread(_ body: @escaping @Sendable () -> Void) {
    final class Box { let body: @Sendable () -> Void; init(_ body: @escaping @Sendable () -> Void) { self.body = body } }
    let context = Unmanaged.passRetained(Box(body)).toOpaque()
    var thread = pthread_t()
    let rc = pthread_create(&thread, nil, { raw in
        let box = Unmanaged<AnyObject>.fromOpaque(raw!).takeRetainedValue() as! Box
        box.body()
        return nil
    }, context)
    precondition(rc == 0, "pthread_create: \(rc)")
    pthread_detach(thread)
}

/// Splits a blocking socket's bytes into frames.
struct FrameSplitter {
    let fd: Int32
    private var buffer: [UInt8] = []
    private var start = 0
    private var chunk = [UInt8](repeating: 0, count: 256 << 10)

    init(fd: Int32) { self.fd = fd }

    mutating func next() -> [UInt8]? {
        while true {
            if buffer.count - start >= 4 {
                let n = Int(buffer[start]) << 24 | Int(buffer[start + 1]) << 16 | Int(buffer[start + 2]) << 8 | Int(buffer[start + 3])
                if buffer.count - start >= 4 + n {
                    let frame = Array(buffer[(start + 4)..<(start + 4 + n)])
                    start += 4 + n
                    if start > 1 << 20 { buffer.removeFirst(start); start = 0 }
                    return frame
                }
            }
            let got = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if got <= 0 { return nil }
            buffer += chunk[0..<got]
        }
    }
}

extension String {
    /// For embedding in a JSON string literal.
    func replacingQuotes() -> String {
        var out = ""
        for c in self {
            if c == "\"" || c == "\\" { out.append("\\") }
            out.append(c)
        }
        return out
    }
}
