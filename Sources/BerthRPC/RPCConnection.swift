import BerthAPI
import NIOCore
import Synchronization

/// One client connection as handlers see it: a way to send notifications to the client
/// and to learn when it goes away (to end its subscriptions).
public final class RPCConnection: Sendable {
    private let channel: any Channel
    private let closeHandlers = Mutex<[@Sendable () -> Void]?>([])

    init(channel: any Channel) {
        self.channel = channel
    }

    /// Sends a JSON-RPC notification. Returns false when the connection is gone.
    @discardableResult
    public func notify(method: String, params: some Encodable) -> Bool {
        guard channel.isActive, let bytes = try? RPCMessage.notification(method: method, params: params) else { return false }
        var buffer = channel.allocator.buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        channel.writeAndFlush(buffer, promise: nil)
        return true
    }

    /// Whether the socket can take more data now (NIO's writability: the outbound
    /// buffer is under its high-water mark). A subscriber that stays unwritable is slow.
    public var isWritable: Bool { channel.isWritable }

    /// Runs `body` once when the connection closes (at once if it already has).
    public func onClose(_ body: @escaping @Sendable () -> Void) {
        let runNow = closeHandlers.withLock { handlers -> Bool in
            guard handlers != nil else { return true }
            handlers!.append(body)
            return false
        }
        if runNow { body() }
    }

    func closed() {
        let handlers = closeHandlers.withLock { h -> [@Sendable () -> Void] in
            defer { h = nil }
            return h ?? []
        }
        handlers.forEach { $0() }
    }
}
