#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import NIOCore
import NIOPosix
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A connection to a Berth socket (berthd's API socket, or a shim's), with typed calls
/// and a stream of the server's notifications.
///
/// Calls may be in flight together on one connection; each waits for the response with
/// its id. Every failure is a `BerthError`: the server's own error (its kind), or
/// `unavailable` when the connection fails, or `deadlineExceeded` when a call outlives
/// its timeout.
///
/// ```swift
/// let client = try await BerthClient.connect(to: "/run/berth/berthd.sock")
/// defer { client.close() }
/// let version = try await client.version()
/// try await client.call(API.namespacesCreate, CreateNamespaceRequest(name: "builds"))
/// ```
public final class BerthClient: Sendable {
    /// A server-to-client notification (e.g. `events.event`), with its raw params.
    public struct Notification: Sendable {
        public let method: String
        /// The whole message; decode its params with `decodeParams`.
        public let message: [UInt8]

        public init(method: String, message: [UInt8]) {
            self.method = method
            self.message = message
        }

        public func decodeParams<P: Decodable>(_ type: P.Type) throws -> P {
            try RPCMessage.decodeParams(type, from: message)
        }
    }

    public let address: String
    public let defaultTimeout: Duration?
    public let notifications: AsyncStream<Notification>

    private let channel: any Channel
    private let handler: ResponseRouter

    private init(address: String, channel: any Channel, handler: ResponseRouter, notifications: AsyncStream<Notification>, timeout: Duration?) {
        self.address = address
        self.channel = channel
        self.handler = handler
        self.notifications = notifications
        self.defaultTimeout = timeout
    }

    /// Connects to the UNIX socket at `address`.
    ///
    /// - Parameters:
    ///   - timeout: the default deadline of each call (nil: none); also bounds the connect.
    ///   - maxFrame: the largest frame accepted from the server.
    ///   - onNotification: when given, every notification is handed to it on the
    ///     connection's I/O thread as it is read, in order, instead of to
    ///     `notifications` (which then only ends when the connection closes). It must
    ///     not block: it is for a caller that forwards at once (berthd's shim events).
    /// - Throws: `BerthError` `unavailable` naming the address when nothing listens there.
    public static func connect(
        to address: String,
        timeout: Duration? = .seconds(30),
        maxFrame: Int = Frame.defaultMaxPayload,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        onNotification: (@Sendable (Notification) -> Void)? = nil
    ) async throws -> BerthClient {
        let (stream, continuation) = AsyncStream.makeStream(of: Notification.self, bufferingPolicy: .bufferingNewest(65536))
        let router = ResponseRouter(notifications: continuation, onNotification: onNotification)
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(timeout.map { TimeAmount.nanoseconds(Int64($0.nanoseconds)) } ?? .seconds(30))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers([
                        FrameWriter(), FrameReader(maxPayload: maxFrame), router,
                    ])
                }
            }
        do {
            let channel = try await bootstrap.connect(unixDomainSocketPath: address).get()
            return BerthClient(address: address, channel: channel, handler: router, notifications: stream, timeout: timeout)
        } catch {
            continuation.finish()
            throw BerthError.unavailable("cannot connect to berthd at \(address): \(Self.describe(error))")
        }
    }

    /// Calls `method` and decodes its result.
    @discardableResult
    public func call<P, R>(_ method: APIMethod<P, R>, _ params: P, timeout: Duration? = nil) async throws -> R {
        let response = try await callRaw(method.name, params: params, timeout: timeout)
        return try RPCMessage.decodeResult(R.self, from: response)
    }

    /// Calls `method` for its effect only: an error still throws, but the result is not
    /// decoded. (`containers.create` answers with the whole container, spec included:
    /// decoding a spec costs a fresh process ~1 ms of first use, for nothing when the
    /// caller has the container already.)
    public func callForEffect<P, R>(_ method: APIMethod<P, R>, _ params: P, timeout: Duration? = nil) async throws {
        _ = try await callRaw(method.name, params: params, timeout: timeout)
    }

    /// `callRaw` with params already encoded as JSON.
    public func callRaw(_ method: String, paramsJSON: [UInt8], timeout: Duration? = nil) async throws -> [UInt8] {
        let id = handler.nextID()
        return try await send(id: id, bytes: RPCMessage.request(id: id, method: method, paramsJSON: paramsJSON), method: method,
                              timeout: timeout ?? defaultTimeout)
    }

    /// Calls a method by name with any encodable params; returns the whole response
    /// message (for methods this library has no types for).
    public func callRaw(_ method: String, params: some Encodable & Sendable, timeout: Duration? = nil) async throws -> [UInt8] {
        let id = handler.nextID()
        let bytes = try RPCMessage.request(id: .number(id), method: method, params: params)
        return try await send(id: id, bytes: bytes, method: method, timeout: timeout ?? defaultTimeout)
    }

    private func send(id: Int64, bytes: [UInt8], method: String, timeout: Duration?) async throws -> [UInt8] {
        let channel = self.channel
        let handler = self.handler
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<[UInt8], any Error>) in
                guard handler.register(id: id, continuation: continuation) else { return }
                if let timeout {
                    let nanos = Int64(timeout.nanoseconds)
                    let scheduled = channel.eventLoop.scheduleTask(in: .nanoseconds(nanos)) {
                        handler.fail(id: id, BerthError(.deadlineExceeded, "\(method): no response within \(timeout)"))
                    }
                    handler.attach(timer: scheduled, to: id)
                }
                var buffer = channel.allocator.buffer(capacity: bytes.count)
                buffer.writeBytes(bytes)
                channel.writeAndFlush(buffer).whenFailure { error in
                    handler.fail(id: id, BerthError.unavailable("\(method): write failed: \(Self.describe(error))"))
                }
            }
        } onCancel: {
            handler.fail(id: id, BerthError(.cancelled, "\(method): cancelled"))
        }
    }

    /// Closes the connection; calls still waiting fail with `unavailable`.
    public func close() {
        channel.close(promise: nil)
    }

    static func describe(_ error: any Error) -> String {
        if let io = error as? IOError { return String(cString: strerror(io.errnoCode)) }
        return "\(error)"
    }
}

extension Duration {
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}

/// Matches responses to waiting calls by id and forwards notifications.
final class ResponseRouter: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer

    private struct Pending {
        var continuation: CheckedContinuation<[UInt8], any Error>
        var timer: Scheduled<Void>?
    }

    private struct State {
        var nextID: Int64 = 1
        var pending: [Int64: Pending] = [:]
        var closed: BerthError?
    }

    private let state = Mutex(State())
    private let notifications: AsyncStream<BerthClient.Notification>.Continuation
    private let onNotification: (@Sendable (BerthClient.Notification) -> Void)?

    init(notifications: AsyncStream<BerthClient.Notification>.Continuation,
         onNotification: (@Sendable (BerthClient.Notification) -> Void)? = nil) {
        self.notifications = notifications
        self.onNotification = onNotification
    }

    func nextID() -> Int64 {
        state.withLock { s in
            defer { s.nextID += 1 }
            return s.nextID
        }
    }

    /// Registers a waiting call; false (and the continuation already resumed) if closed.
    func register(id: Int64, continuation: CheckedContinuation<[UInt8], any Error>) -> Bool {
        let closed: BerthError? = state.withLock { s in
            if let closed = s.closed { return closed }
            s.pending[id] = Pending(continuation: continuation)
            return nil
        }
        if let closed { continuation.resume(throwing: closed) }
        return closed == nil
    }

    func attach(timer: Scheduled<Void>, to id: Int64) {
        let orphan = state.withLock { s -> Bool in
            guard s.pending[id] != nil else { return true }
            s.pending[id]!.timer = timer
            return false
        }
        if orphan { timer.cancel() }
    }

    func fail(id: Int64, _ error: BerthError) {
        take(id)?.continuation.resume(throwing: error)
    }

    private func take(_ id: Int64) -> Pending? {
        let pending = state.withLock { $0.pending.removeValue(forKey: id) }
        pending?.timer?.cancel()
        return pending
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = Array(buffer: unwrapInboundIn(data))
        // The usual answer (a number id, no error) read by hand: MessageHead's JSONDecoder
        // costs a fresh client ~0.3 ms at its first use.
        // Notifications too (a shim's events, on berthd's path from an exit to its subscribers).
        if let quick = RPCMessage.quickHead(bytes) {
            if let method = quick.method {
                return notify(.init(method: method, message: bytes))
            }
            if !quick.hasError, let id = quick.id {
                take(id)?.continuation.resume(returning: bytes)
                return
            }
        }
        guard let head = try? WireJSON.decode(MessageHead.self, from: bytes) else { return }
        if let method = head.method {
            return notify(.init(method: method, message: bytes))
        }
        guard case let .number(id)? = head.id else {
            // An error with id null: the server refused the connection or a frame.
            if let error = head.error { failAll(error.berthError) }
            return
        }
        guard let pending = take(id) else { return }
        if let error = head.error {
            pending.continuation.resume(throwing: error.berthError)
        } else {
            pending.continuation.resume(returning: bytes)
        }
    }

    private func notify(_ notification: BerthClient.Notification) {
        if let onNotification {
            onNotification(notification)
        } else {
            notifications.yield(notification)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        failAll(.unavailable("connection to berthd failed: \(BerthClient.describe(error))"))
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(.unavailable("connection to berthd closed"))
        notifications.finish()
        context.fireChannelInactive()
    }

    private func failAll(_ error: BerthError) {
        let pending = state.withLock { s -> [Pending] in
            if s.closed == nil { s.closed = error }
            defer { s.pending.removeAll() }
            return Array(s.pending.values)
        }
        for p in pending {
            p.timer?.cancel()
            p.continuation.resume(throwing: error)
        }
    }
}
