import NIOCore
import NIOPosix

/// Calls `onRead` on the I/O thread each time `fd` has something to read (the bytes are
/// read and dropped): a descriptor that only signals, such as a signalfd, an eventfd or
/// an inotify descriptor, served by the shim's one I/O thread instead of a thread of its
/// own. The descriptor becomes NIO's, closed with the returned channel (or by NIO when
/// the watch cannot be set up).
func watchReadable(_ fd: Int32, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
                   onRead: @escaping @Sendable () -> Void) async throws -> any Channel {
    try await NIOPipeBootstrap(group: group)
        // Records are read whole (a signalfd's are 128 bytes): never a smaller buffer.
        .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 4096))
        .channelInitializer { channel in
            channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(ReadableHandler(onRead)) }
        }
        .takingOwnershipOfDescriptor(input: fd)
        .get()
}

private final class ReadableHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    let onRead: @Sendable () -> Void
    init(_ onRead: @escaping @Sendable () -> Void) { self.onRead = onRead }
    func channelRead(context: ChannelHandlerContext, data: NIOAny) { onRead() }
}
