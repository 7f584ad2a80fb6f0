import BerthAPI
@testable import BerthEvents
import Dispatch
import Foundation
import Logging
import Synchronization

/// A transport that behaves like a NIO channel: writes pile up in an outbound buffer
/// while the reader does not read, and the transport is unwritable while that buffer
/// is over its high water mark.
final class FakeTransport: EventTransport, Sendable {
    private let queue = DispatchQueue(label: "fake-transport")
    private let writable = Atomic<Bool>(true)
    private let highWaterMark: Int

    private struct State {
        var written: [[UInt8]] = []      // queued by write, not flushed
        var buffered: [[UInt8]] = []     // flushed, not read by the peer
        var bufferedBytes = 0
        var delivered: [[UInt8]] = []    // read by the peer
        var reading = true
        var handlers: [UInt64: @Sendable () -> Void] = [:]
        var nextToken: UInt64 = 1
    }
    private let state = Mutex(State())

    init(highWaterMark: Int = 64 << 10, reading: Bool = true) {
        self.highWaterMark = highWaterMark
        state.withLock { $0.reading = reading }
    }

    func execute(_ body: @escaping @Sendable () -> Void) { queue.async(execute: body) }

    var isWritable: Bool { writable.load(ordering: .acquiring) }

    func write(_ message: [UInt8]) {
        dispatchPrecondition(condition: .onQueue(queue))
        state.withLock { s in
            s.written.append(message)
            s.bufferedBytes += message.count
            if s.bufferedBytes > highWaterMark && !s.reading { writable.store(false, ordering: .releasing) }
        }
    }

    func flush() {
        dispatchPrecondition(condition: .onQueue(queue))
        state.withLock { s in
            if s.reading {
                s.delivered += s.written
                s.bufferedBytes = 0
            } else {
                s.buffered += s.written
            }
            s.written = []
        }
    }

    func addWritabilityHandler(_ body: @escaping @Sendable () -> Void) -> UInt64 {
        state.withLock { s in
            defer { s.nextToken += 1 }
            s.handlers[s.nextToken] = body
            return s.nextToken
        }
    }

    func removeWritabilityHandler(_ token: UInt64) {
        _ = state.withLock { $0.handlers.removeValue(forKey: token) }
    }

    /// The peer starts (or stops) reading.
    func setReading(_ reading: Bool) {
        queue.async { [self] in
            let handlers = state.withLock { s -> [@Sendable () -> Void] in
                s.reading = reading
                guard reading else { return [] }
                s.delivered += s.buffered
                s.buffered = []
                s.bufferedBytes = 0
                return Array(s.handlers.values)
            }
            if reading {
                writable.store(true, ordering: .releasing)
                for handler in handlers { handler() }
            }
        }
    }

    var delivered: [[UInt8]] { state.withLock { $0.delivered } }
    var handlerCount: Int { state.withLock { $0.handlers.count } }

    /// Events and the overflow notice (if any) the peer has read, in order.
    func received() throws -> (events: [Event], overflow: OverflowNotification?) {
        var events: [Event] = []
        var overflow: OverflowNotification?
        for message in delivered {
            let head = try WireJSON.decode(MessageHead.self, from: message)
            switch head.method {
            case "events.event": events.append(try RPCMessage.decodeParams(EventNotification.self, from: message).event)
            case "events.overflow": overflow = try RPCMessage.decodeParams(OverflowNotification.self, from: message)
            default: throw TestFailure("unexpected message \(String(decoding: message, as: UTF8.self))")
            }
        }
        return (events, overflow)
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Polls `condition` until it holds or `seconds` pass.
@discardableResult
func eventually(_ seconds: Double = 20, _ condition: () throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
    while ContinuousClock.now < deadline {
        if try condition() { return true }
        try? await Task.sleep(for: .milliseconds(5))
    }
    return try condition()
}

/// A private temporary directory, removed by `remove()`.
struct TemporaryDirectory {
    let path: String

    init() {
        var template = Array("/tmp/bet-XXXXXX".utf8CString)
        path = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}

let quietLogger: Logger = {
    var logger = Logger(label: "events-test")
    logger.logLevel = .critical
    return logger
}()

struct Sample: Codable, Sendable, Equatable {
    var n: Int
    var text = "x"
}
