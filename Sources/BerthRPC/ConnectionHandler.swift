import BerthAPI
import BerthSystem
import CBerthLinux
import Logging
import NIOCore
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Serves one client connection: checks the peer, decodes each frame's JSON-RPC head,
/// dispatches to the router, and writes responses in whatever order calls finish.
///
/// Protocol faults get their JSON-RPC codes and never end the connection; framing
/// faults (oversized, empty, truncated or stalled frames) and refused peers get one
/// error with `id: null`, then the connection closes.
final class ConnectionHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// Most calls one connection may have in flight; more get `ResourceExhausted`.
    static let maxInFlight = 1024

    private let router: Router
    private let access: AccessPolicy
    private let maxResponseBytes: Int
    private let logger: Logger
    private let inFlight = Counter()
    private var tasks: [UInt64: Task<Void, Never>] = [:]
    private var nextTask: UInt64 = 0
    private var peer: PeerCredentials?
    private var refused = false
    private var connection: ClientConnection?
    /// The event loop's executor for the methods registered `onEventLoop`, made at first use.
    private var loopExecutor: EventLoopTaskExecutor?

    init(router: Router, access: AccessPolicy, logger: Logger, maxResponseBytes: Int = Frame.defaultMaxPayload) {
        self.router = router
        self.maxResponseBytes = maxResponseBytes
        self.access = access
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        connection = ClientConnection(channel: context.channel)
    }

    func channelActive(context: ChannelHandlerContext) {
        // Reading the option on the channel's own loop completes at once, before any read.
        if let provider = context.channel as? SocketOptionProvider {
            let future: EventLoopFuture<berth_ucred> = provider.unsafeGetSocketOption(
                level: SocketOptionLevel(BERTH_SOL_SOCKET), name: SocketOptionName(BERTH_SO_PEERCRED))
            let box = NIOLoopBoundBox<berth_ucred?>(nil, eventLoop: context.eventLoop)
            future.whenSuccess { box.value = $0 }
            if let cred = box.value {
                peer = PeerCredentials(pid: cred.pid, uid: cred.uid, gid: cred.gid)
            }
        }
        if let reason = access.refusal(for: peer) {
            refused = true
            logger.warning("refused connection", metadata: ["peer.pid": "\(peer?.pid ?? -1)", "peer.uid": "\(peer?.uid ?? 0)"])
            reply(context, RPCMessage.error(id: nil, BerthError(.permissionDenied, reason)), thenClose: true)
        }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !refused else { return }
        let message = Array(buffer: unwrapInboundIn(data))
        let head: MessageHead
        switch RequestParser.parse(message) {
        case let .failure(id, error):
            return reply(context, RPCMessage.error(id: id, error))
        case let .success(parsed):
            head = parsed
        }
        let method = head.method!
        guard let handler = router.handler(for: method) else {
            let error = BerthError(.notImplemented, "method not found: \(method)", code: ProtocolErrorCode.methodNotFound)
            return head.hasID ? reply(context, RPCMessage.error(id: head.id, error)) : ()
        }
        if inFlight.increment() > Self.maxInFlight {
            inFlight.decrement()
            let error = BerthError(.resourceExhausted, "more than \(Self.maxInFlight) calls in flight on one connection")
            return head.hasID ? reply(context, RPCMessage.error(id: head.id, error)) : ()
        }
        let callContext = CallContext(peer: peer, method: method, logger: logger, connection: connection)
        let channel = context.channel
        let taskID = nextTask
        nextTask += 1
        let loop = context.eventLoop
        let maxResponse = maxResponseBytes
        var executor: EventLoopTaskExecutor?
        if router.runsOnEventLoop(method) {
            if loopExecutor == nil { loopExecutor = EventLoopTaskExecutor(loop) }
            executor = loopExecutor
        }
        tasks[taskID] = Task(executorPreference: executor) { [inFlight, logger] in
            let started = ContinuousClock.now
            var response: [UInt8]
            var succeeded = false
            do {
                let result = try await handler(message, callContext)
                response = head.hasID ? RPCMessage.response(id: head.id, resultJSON: result) : []
                succeeded = true
            } catch let error as BerthError {
                response = head.hasID ? RPCMessage.error(id: head.id, error) : []
            } catch {
                logger.error("method failed", metadata: ["rpc.method": "\(method)", "error": "\(error)"])
                response = head.hasID ? RPCMessage.error(id: head.id, .internal("\(method): \(error)")) : []
            }
            inFlight.decrement()
            if response.count > maxResponse {
                // Never send a frame the peer must refuse: the call fails, the connection lives.
                response = RPCMessage.error(id: head.id, BerthError(.resourceExhausted,
                    "\(method): response of \(response.count) bytes exceeds the frame limit of \(maxResponse) bytes"))
                succeeded = false
            }
            if !response.isEmpty {
                var buffer = channel.allocator.buffer(capacity: response.count)
                buffer.writeBytes(response)
                channel.writeAndFlush(buffer, promise: nil)
            }
            if succeeded { callContext.replyHooks.run(on: loop) } else { callContext.replyHooks.discard() }
            if logger.logLevel <= .debug {
                let elapsed = ContinuousClock.now - started
                let micros = elapsed.components.seconds * 1_000_000 + elapsed.components.attoseconds / 1_000_000_000_000
                logger.debug("call", metadata: ["rpc.method": "\(method)", "rpc.us": "\(micros)", "rpc.ok": "\(succeeded)"])
            }
            loop.execute { self.tasks[taskID] = nil }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let frameError = error as? FrameError {
            logger.notice("closing connection", metadata: ["reason": "\(frameError)"])
            let kind: ErrorKind = if case .tooLarge = frameError { .resourceExhausted } else { .invalidArgument }
            let code = if case .tooLarge = frameError { ErrorKind.resourceExhausted.code } else { ProtocolErrorCode.invalidRequest }
            reply(context, RPCMessage.error(id: nil, BerthError(kind, frameError.description, code: code)), thenClose: true)
        } else {
            context.close(promise: nil)
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        connection?.writabilityChanged()
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        connection?.closed()
        for task in tasks.values { task.cancel() }
        tasks.removeAll()
        context.fireChannelInactive()
    }

    private func reply(_ context: ChannelHandlerContext, _ bytes: [UInt8], thenClose: Bool = false) {
        var buffer = context.channel.allocator.buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        let written = context.writeAndFlush(wrapOutboundOut(buffer))
        if thenClose {
            let channel = context.channel
            written.whenComplete { _ in channel.close(promise: nil) }
        }
    }
}

/// Who may use the API socket: root, the daemon's own user, and members of the
/// configured group (by primary or supplementary gid).
struct AccessPolicy: Sendable {
    var group: UInt32?

    /// nil when the peer may connect; otherwise the reason it may not.
    func refusal(for peer: PeerCredentials?) -> String? {
        guard let peer else { return nil } // in-process or unknown transport: trust the socket's mode
        if peer.uid == 0 || peer.uid == getuid() { return nil }
        if let group, peer.gid == group || peer.supplementaryGroups().contains(group) { return nil }
        return "permission denied: uid \(peer.uid) is not root and not in the socket's group"
    }
}

/// A shared atomic count (an `Atomic` cannot be captured by escaping closures).
final class Counter: Sendable {
    private let value = Atomic<Int>(0)

    /// Adds one and returns the new count.
    @discardableResult
    func increment() -> Int { value.add(1, ordering: .relaxed).newValue }

    func decrement() { value.subtract(1, ordering: .relaxed) }
}

/// A task executor that runs jobs on one event loop: a call's task then starts on the
/// thread that read its request, and resumes there.
final class EventLoopTaskExecutor: TaskExecutor {
    let loop: any EventLoop

    init(_ loop: any EventLoop) {
        self.loop = loop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        loop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
