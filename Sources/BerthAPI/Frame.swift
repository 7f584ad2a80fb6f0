import NIOCore

/// The framing every Berth socket speaks (proto-docs/PROTOCOL.md):
///
///     +--------------------------+-------------------------------------+
///     | length: uint32, big end  | payload: `length` bytes, UTF-8 JSON |
///     +--------------------------+-------------------------------------+
///
/// One frame carries one JSON-RPC 2.0 object.
public enum Frame {
    public static let headerSize = 4
    /// The default largest payload (4 MiB); a daemon may configure another.
    public static let defaultMaxPayload = 4 << 20

    /// The header of a frame of `count` payload bytes, for code that writes frames
    /// without NIO (a spare shim before it serves).
    public static func header(_ count: Int) -> [UInt8] {
        let length = UInt32(count)
        return [UInt8(length >> 24), UInt8(length >> 16 & 0xff), UInt8(length >> 8 & 0xff), UInt8(length & 0xff)]
    }

    /// The payload length a frame's header declares.
    public static func length(_ header: [UInt8]) -> Int {
        header.prefix(headerSize).reduce(0) { $0 << 8 | Int($1) }
    }

    /// Writes `payload` as one frame into `buffer`.
    public static func write(_ payload: some Collection<UInt8>, into buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt32(payload.count), endianness: .big)
        buffer.writeBytes(payload)
    }
}

/// Why a stream of frames could not be read. Each ends the connection.
public enum FrameError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The header declared more than the limit; nothing was allocated for it.
    case tooLarge(declared: UInt32, limit: Int)
    /// The header declared zero bytes.
    case empty
    /// The peer closed its side with a frame half read.
    case truncated(have: Int, need: Int)
    /// A frame started but did not complete within the read deadline.
    case timedOut(have: Int, need: Int, seconds: Double)

    public var description: String {
        switch self {
        case let .tooLarge(declared, limit): "frame of \(declared) bytes exceeds the limit of \(limit) bytes"
        case .empty: "frame of length 0 is invalid"
        case let .truncated(have, need): "connection closed inside a frame: \(have) of \(need) bytes"
        case let .timedOut(have, need, seconds): "frame not completed within \(seconds)s: \(have) of \(need) bytes"
        }
    }
}

/// Splits inbound bytes into frame payloads (one `ByteBuffer` each).
///
/// Refuses a declared length over `maxPayload` (or 0) from the header alone, before any
/// allocation; fails a frame that stays incomplete for longer than `deadline` (a read
/// deadline against peers that stall mid-frame); and reports a frame cut short by EOF.
/// After a failure it fires `FrameError` down the pipeline and ignores further input.
public final class FrameReader: ChannelInboundHandler, RemovableChannelHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = ByteBuffer

    private let maxPayload: Int
    private let deadline: TimeAmount?
    private var buffer: ByteBuffer?
    private var timer: Scheduled<Void>?
    private var failed = false

    public init(maxPayload: Int = Frame.defaultMaxPayload, deadline: TimeAmount? = nil) {
        self.maxPayload = maxPayload
        self.deadline = deadline
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !failed else { return }
        var incoming = unwrapInboundIn(data)
        if buffer == nil { buffer = incoming } else { buffer!.writeBuffer(&incoming) }
        drain(context: context)
    }

    private func drain(context: ChannelHandlerContext) {
        while !failed, var buf = buffer, let length = buf.getInteger(at: buf.readerIndex, endianness: .big, as: UInt32.self) {
            if length == 0 { return fail(context, .empty) }
            if Int(length) > maxPayload { return fail(context, .tooLarge(declared: length, limit: maxPayload)) }
            guard buf.readableBytes >= Frame.headerSize + Int(length) else { break }
            buf.moveReaderIndex(forwardBy: Frame.headerSize)
            let payload = buf.readSlice(length: Int(length))!
            buffer = buf.readableBytes == 0 ? nil : buf
            cancelTimer()
            context.fireChannelRead(wrapInboundOut(payload))
        }
        if let buf = buffer {
            if buf.readableBytes == 0 { buffer = nil } else { armTimer(context) }
        }
        if buffer == nil { cancelTimer() }
    }

    private var pending: (have: Int, need: Int) {
        guard let buf = buffer else { return (0, 0) }
        let length = buf.getInteger(at: buf.readerIndex, endianness: .big, as: UInt32.self).map { Int($0) + Frame.headerSize }
        return (buf.readableBytes, length ?? Frame.headerSize)
    }

    private func armTimer(_ context: ChannelHandlerContext) {
        guard timer == nil, let deadline else { return }
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(in: deadline) {
            let (handler, context) = loopBound.value
            handler.timer = nil
            let (have, need) = handler.pending
            handler.fail(context, .timedOut(have: have, need: need, seconds: Double(deadline.nanoseconds) / 1e9))
        }
    }

    private func cancelTimer() {
        timer?.cancel()
        timer = nil
    }

    private func fail(_ context: ChannelHandlerContext, _ error: FrameError) {
        failed = true
        buffer = nil
        cancelTimer()
        context.fireErrorCaught(error)
    }

    public func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event, !failed, buffer != nil {
            let (have, need) = pending
            fail(context, .truncated(have: have, need: need))
        }
        context.fireUserInboundEventTriggered(event)
    }

    public func channelInactive(context: ChannelHandlerContext) {
        if !failed, buffer != nil {
            let (have, need) = pending
            fail(context, .truncated(have: have, need: need))
        }
        cancelTimer()
        context.fireChannelInactive()
    }
}

/// Prefixes each outbound payload with its length.
public final class FrameWriter: ChannelOutboundHandler, RemovableChannelHandler {
    public typealias OutboundIn = ByteBuffer
    public typealias OutboundOut = ByteBuffer

    public init() {}

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let payload = unwrapOutboundIn(data)
        var framed = context.channel.allocator.buffer(capacity: Frame.headerSize + payload.readableBytes)
        framed.writeInteger(UInt32(payload.readableBytes), endianness: .big)
        framed.writeImmutableBuffer(payload)
        context.write(wrapOutboundOut(framed), promise: promise)
    }
}
