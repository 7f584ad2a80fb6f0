/// Where one subscription's notifications go: in the daemon, the client's connection.
///
/// A subscription does all its writing inside `execute`, which runs bodies one at a
/// time in submission order (a NIO event loop); `write`, `flush` and the writability
/// handlers belong to that context. `isWritable` may be read from any thread: it is
/// how the exchange tells a subscriber that is behind because it does not read from one
/// that is merely catching up.
public protocol EventTransport: Sendable {
    /// Runs `body` in the transport's serial context.
    func execute(_ body: @escaping @Sendable () -> Void)

    /// Whether the transport takes more without buffering past its bound (NIO: the
    /// channel's writability, i.e. its outbound buffer is under the high water mark).
    var isWritable: Bool { get }

    /// Queues one message (a frame's payload) without flushing.
    func write(_ message: [UInt8])

    /// Sends what `write` queued.
    func flush()

    /// Calls `body` (in the serial context) each time the transport becomes writable
    /// again; the returned token removes the handler.
    func addWritabilityHandler(_ body: @escaping @Sendable () -> Void) -> UInt64

    func removeWritabilityHandler(_ token: UInt64)

    /// Whether the caller runs in the transport's serial context now (NIO: on the
    /// channel's event loop): a subscription then writes at once instead of through
    /// `execute`, so that an event published on the subscriber's own I/O thread (a
    /// shim's, in berthd) is written before that thread wakes anyone else.
    var inContext: Bool { get }
}

extension EventTransport {
    public var inContext: Bool { false }
}
