import BerthAPI
import NIOCore
import Synchronization

/// The client connection a call arrived on, for handlers that talk back on it after
/// they return (event subscriptions): write notifications, watch writability, and learn
/// when the connection closes.
///
/// `write` and `flush` must run on `eventLoop` (inside `execute`); writes go through
/// the connection's pipeline, so each message becomes one frame.
public final class ClientConnection: Sendable {
    public let id: UInt64
    private let channel: any Channel

    private struct Handlers {
        var closed = false
        var onClose: [UInt64: @Sendable () -> Void] = [:]
        var onWritable: [UInt64: @Sendable () -> Void] = [:]
        var nextToken: UInt64 = 1
    }
    private let handlers = Mutex(Handlers())

    private static let ids = Atomic<UInt64>(1)

    init(channel: any Channel) {
        self.channel = channel
        self.id = Self.ids.wrappingAdd(1, ordering: .relaxed).oldValue
    }

    public var eventLoop: any EventLoop { channel.eventLoop }

    /// Runs `body` on the connection's event loop.
    public func execute(_ body: @escaping @Sendable () -> Void) {
        channel.eventLoop.execute(body)
    }

    /// Whether the outbound buffer is under its high water mark. Safe from any thread.
    public var isWritable: Bool { channel.isWritable }

    /// Queues one message as a frame; on the event loop only.
    public func write(_ message: [UInt8]) {
        channel.eventLoop.preconditionInEventLoop()
        var buffer = channel.allocator.buffer(capacity: message.count)
        buffer.writeBytes(message)
        channel.write(buffer, promise: nil)
    }

    /// Sends one JSON-RPC notification from any thread. False when the connection is
    /// gone or the params do not encode.
    @discardableResult
    public func notify(method: String, params: some Encodable) -> Bool {
        guard channel.isActive, let bytes = try? RPCMessage.notification(method: method, params: params) else { return false }
        var buffer = channel.allocator.buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        channel.writeAndFlush(buffer, promise: nil)
        return true
    }

    /// Sends what `write` queued; on the event loop only.
    public func flush() {
        channel.flush()
    }

    /// Runs `body` once when the connection closes (at once if it already has); the
    /// returned token removes it.
    @discardableResult
    public func onClose(_ body: @escaping @Sendable () -> Void) -> UInt64 {
        let token = handlers.withLock { h -> UInt64? in
            if h.closed { return nil }
            defer { h.nextToken += 1 }
            h.onClose[h.nextToken] = body
            return h.nextToken
        }
        guard let token else {
            body()
            return 0
        }
        return token
    }

    public func removeCloseHandler(_ token: UInt64) {
        _ = handlers.withLock { $0.onClose.removeValue(forKey: token) }
    }

    /// Runs `body` on the event loop each time the connection becomes writable again.
    public func addWritabilityHandler(_ body: @escaping @Sendable () -> Void) -> UInt64 {
        handlers.withLock { h in
            defer { h.nextToken += 1 }
            if !h.closed { h.onWritable[h.nextToken] = body }
            return h.nextToken
        }
    }

    public func removeWritabilityHandler(_ token: UInt64) {
        _ = handlers.withLock { $0.onWritable.removeValue(forKey: token) }
    }

    // MARK: from ConnectionHandler, on the event loop

    func writabilityChanged() {
        guard channel.isWritable else { return }
        let bodies = handlers.withLock { Array($0.onWritable.values) }
        for body in bodies { body() }
    }

    func closed() {
        let bodies = handlers.withLock { h -> [@Sendable () -> Void] in
            h.closed = true
            h.onWritable.removeAll()
            defer { h.onClose.removeAll() }
            return Array(h.onClose.values)
        }
        for body in bodies { body() }
    }
}

/// Work a handler asks to run right after its call's response has been written: what
/// it then sends on the connection (a subscription's first event) follows the response.
final class ReplyHooks: Sendable {
    private let hooks = Mutex<[@Sendable () -> Void]>([])

    func add(_ body: @escaping @Sendable () -> Void) {
        hooks.withLock { $0.append(body) }
    }

    /// Runs the hooks on `loop`, after anything already queued there (the response).
    func run(on loop: any EventLoop) {
        let bodies = hooks.withLock { h -> [@Sendable () -> Void] in
            defer { h.removeAll() }
            return h
        }
        guard !bodies.isEmpty else { return }
        loop.execute { for body in bodies { body() } }
    }

    /// The call failed: nothing runs.
    func discard() {
        hooks.withLock { $0.removeAll() }
    }
}
