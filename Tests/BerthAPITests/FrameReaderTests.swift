import BerthAPI
import NIOCore
import NIOEmbedded
import Testing

/// The frame reader on an in-memory channel: what comes out, and when it gives up.
@Suite struct FrameReaderTests {
    /// Collects what the reader fires: payloads and the error, if any.
    final class Sink: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        var payloads: [String] = []
        var error: FrameError?
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            payloads.append(String(buffer: unwrapInboundIn(data)))
        }
        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            self.error = error as? FrameError
        }
    }

    func makeChannel(max: Int = 64, deadline: TimeAmount? = nil) throws -> (EmbeddedChannel, Sink) {
        let sink = Sink()
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandlers([FrameReader(maxPayload: max, deadline: deadline), sink])
        return (channel, sink)
    }

    func frame(_ text: String) -> ByteBuffer {
        var buffer = ByteBuffer()
        Frame.write(Array(text.utf8), into: &buffer)
        return buffer
    }

    @Test func splitsFramesWhateverTheReadBoundaries() throws {
        let (channel, sink) = try makeChannel()
        var all = frame("{\"a\":1}")
        var second = frame("{\"b\":2}")
        all.writeBuffer(&second)
        // Feed one byte at a time: frames come out whole, in order.
        while let byte = all.readSlice(length: 1) {
            try channel.writeInbound(byte)
        }
        #expect(sink.payloads == ["{\"a\":1}", "{\"b\":2}"])
        #expect(sink.error == nil)
    }

    @Test func refusesAnOversizedHeaderBeforeTheBodyArrives() throws {
        let (channel, sink) = try makeChannel(max: 64)
        var header = ByteBuffer()
        header.writeInteger(UInt32.max, endianness: .big)
        try channel.writeInbound(header)
        #expect(sink.error == .tooLarge(declared: UInt32.max, limit: 64))
        // Later input is ignored: nothing more is fired.
        try channel.writeInbound(frame("{}"))
        #expect(sink.payloads.isEmpty)
    }

    @Test func acceptsAFrameOfExactlyTheLimit() throws {
        let (channel, sink) = try makeChannel(max: 8)
        try channel.writeInbound(frame("12345678"))
        #expect(sink.payloads == ["12345678"])
        try channel.writeInbound(frame("123456789"))
        #expect(sink.error == .tooLarge(declared: 9, limit: 8))
    }

    @Test func refusesLengthZero() throws {
        let (channel, sink) = try makeChannel()
        var header = ByteBuffer()
        header.writeInteger(UInt32(0), endianness: .big)
        try channel.writeInbound(header)
        #expect(sink.error == .empty)
    }

    @Test(arguments: [2, 4, 9])
    func reportsAFrameCutShortByEOF(bytesSent: Int) throws {
        let (channel, sink) = try makeChannel()
        var partial = frame("{\"x\":1}")
        try channel.writeInbound(partial.readSlice(length: bytesSent)!)
        try channel.close().wait()
        let need = bytesSent < 4 ? 4 : 4 + 7
        #expect(sink.error == .truncated(have: bytesSent, need: need))
    }

    @Test func closesAFrameThatStallsPastTheDeadline() throws {
        let (channel, sink) = try makeChannel(deadline: .seconds(5))
        var partial = frame("{\"x\":1}")
        try channel.writeInbound(partial.readSlice(length: 6)!)
        channel.embeddedEventLoop.advanceTime(by: .seconds(4))
        #expect(sink.error == nil)
        channel.embeddedEventLoop.advanceTime(by: .seconds(2))
        #expect(sink.error == .timedOut(have: 6, need: 11, seconds: 5))
    }

    @Test func theDeadlineRestartsWithEachFrame() throws {
        let (channel, sink) = try makeChannel(deadline: .seconds(5))
        // A slow but steady peer: each frame completes within the deadline.
        for _ in 0..<3 {
            var whole = frame("{}")
            try channel.writeInbound(whole.readSlice(length: 3)!)
            channel.embeddedEventLoop.advanceTime(by: .seconds(4))
            try channel.writeInbound(whole)
            channel.embeddedEventLoop.advanceTime(by: .seconds(4))
        }
        #expect(sink.error == nil)
        #expect(sink.payloads == ["{}", "{}", "{}"])
    }
}
