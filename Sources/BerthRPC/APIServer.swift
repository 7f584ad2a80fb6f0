import BerthAPI
import BerthSystem
import Logging
import NIOCore
import NIOPosix
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The API socket: a UNIX path socket (mode 0660 in a 0711 directory), or one handed
/// over by systemd socket activation, serving the framed JSON-RPC protocol.
public final class APIServer: Sendable {
    public struct Options: Sendable {
        public var path: String
        public var maxFrameBytes: Int
        public var frameTimeout: Duration
        public var maxConnections: Int
        public var group: UInt32?

        public init(path: String, maxFrameBytes: Int = Frame.defaultMaxPayload, frameTimeout: Duration = .seconds(30),
                    maxConnections: Int = 1024, group: UInt32? = nil) {
            self.path = path
            self.maxFrameBytes = maxFrameBytes
            self.frameTimeout = frameTimeout
            self.maxConnections = maxConnections
            self.group = group
        }
    }

    public let options: Options
    private let router: Router
    private let logger: Logger
    private let group: any EventLoopGroup
    private let channel: Mutex<(any Channel)?> = Mutex(nil)
    private let connections = Counter()
    private let activated = Atomic<Bool>(false)

    public init(options: Options, router: Router, logger: Logger, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.options = options
        self.router = router
        self.logger = logger
        self.group = group
    }

    /// Starts listening: on `listenFD` when given (socket activation: the file is
    /// systemd's and is left alone), otherwise on `options.path`, replacing a stale
    /// socket file but refusing one that a live server still answers on.
    public func start(listenFD: Int32? = nil) async throws {
        let bootstrap = makeBootstrap()
        let channel: any Channel
        if let listenFD {
            activated.store(true, ordering: .relaxed)
            channel = try await bootstrap.withBoundSocket(listenFD).get()
        } else {
            try FileSystem.makeDirectory(FileSystem.parentDirectory(of: options.path), mode: 0o711, enforceMode: false)
            try Self.removeStaleSocket(options.path)
            // berthd runs with umask 077 (set in main), so the socket is born 0600; the
            // mode is then widened to 0660 for the group. (No umask here: it is
            // process-wide, and a library must not change it under other threads.)
            channel = try await bootstrap.bind(unixDomainSocketPath: options.path).get()
            try retryingEINTR("chmod \(options.path)") { chmod(options.path, 0o660) }
            if let gid = options.group {
                try retryingEINTR("chown \(options.path)") { chown(options.path, UInt32.max, gid) }
            }
        }
        self.channel.withLock { $0 = channel }
    }

    /// Stops accepting, closes every connection, and removes the socket file (unless
    /// it came from systemd).
    public func stop() async {
        guard let channel = self.channel.withLock({ c -> (any Channel)? in defer { c = nil }; return c }) else { return }
        try? await channel.close()
        if !activated.load(ordering: .relaxed) { unlink(options.path) }
    }

    private func makeBootstrap() -> ServerBootstrap {
        let options = self.options
        let router = self.router
        let logger = self.logger
        let access = AccessPolicy(group: options.group)
        let deadline = TimeAmount.nanoseconds(Int64(options.frameTimeout.nanosecondsValue))
        let connections = self.connections
        return ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 512)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelInitializer { channel in
                let count = connections.increment()
                channel.closeFuture.whenComplete { _ in connections.decrement() }
                return channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(FrameWriter())
                    if count > options.maxConnections {
                        try sync.addHandler(Refuser(message: RPCMessage.error(id: nil, BerthError(
                            .resourceExhausted, "too many connections (limit \(options.maxConnections))"))))
                        return
                    }
                    try sync.addHandler(FrameReader(maxPayload: options.maxFrameBytes, deadline: deadline))
                    try sync.addHandler(ConnectionHandler(router: router, access: access, logger: logger, maxResponseBytes: options.maxFrameBytes))
                }
            }
    }

    /// Removes a socket file left by a daemon that died; refuses when a live server
    /// answers on it or when the path is not a socket.
    static func removeStaleSocket(_ path: String) throws {
        guard let type = FileSystem.fileType(path) else { return }
        guard type == S_IFSOCK else {
            throw SystemError(errno: EEXIST, stage: "\(path) exists and is not a socket; refusing to replace it")
        }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SystemError(errno: errno, stage: "socket") }
        defer { close(fd) }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            let bytes = Array(path.utf8.prefix(raw.count - 1))
            raw.copyBytes(from: bytes)
        }
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        if rc == 0 {
            throw SystemError(errno: EADDRINUSE, stage: "another server answers on \(path); refusing to replace it")
        }
        unlink(path)
    }
}

/// Answers a connection over the limit with one error, then closes it.
private final class Refuser: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    let message: [UInt8]

    init(message: [UInt8]) { self.message = message }

    func channelActive(context: ChannelHandlerContext) {
        var buffer = context.channel.allocator.buffer(capacity: message.count)
        buffer.writeBytes(message)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(buffer)).whenComplete { _ in channel.close(promise: nil) }
    }
}

extension Duration {
    var nanosecondsValue: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
