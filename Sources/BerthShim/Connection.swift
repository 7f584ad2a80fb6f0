import CBerthShim

/// One request read from a connection: its method, its params (an object; `{}` when
/// absent) and where its answer goes.
struct Request {
    let method: String
    let params: JSON
    let reply: Reply
}

/// The answer to one request; it may come later (a runtime command, a wait). Answering
/// twice, or on a connection that closed, does nothing.
final class Reply {
    private(set) var connection: Connection?
    let id: JSON

    init(connection: Connection, id: JSON) {
        self.connection = connection
        self.id = id
    }

    func ok(_ result: JSON) {
        connection?.send(.object([("id", id), ("jsonrpc", .string("2.0")), ("result", result)]))
        connection = nil
    }

    func fail(_ error: ShimError) {
        connection?.send(Connection.errorMessage(id: id, error))
        connection = nil
    }
}

/// A client of the shim's socket (berthd, or a test): frames of a 4-byte big-endian
/// length and one JSON-RPC 2.0 message (PROTOCOL.md), read and written without
/// blocking on the loop.
final class Connection {
    static let maxPayload = 4 << 20

    let fd: Int32
    private let loop: EventLoop
    private let dispatch: (Request) -> Void
    private var input: [UInt8] = []
    private var output: [UInt8] = []
    private var waitingToWrite = false
    private(set) var isClosed = false
    private var closeAfterFlush = false
    private var closeHandlers: [() -> Void] = []
    /// When the frame now partly read began (monotonic ms; 0: none), for `frameTimeoutMs`.
    private var partialSince: Int64 = 0

    /// A frame must arrive whole within this (as berthd's server has it): a peer that
    /// stops half-way gets an error and the connection closes.
    static let frameTimeoutMs: Int64 = 5000

    init(fd: Int32, loop: EventLoop, dispatch: @escaping (Request) -> Void) {
        self.fd = fd
        self.loop = loop
        self.dispatch = dispatch
        loop.watch(fd) { events in self.ready(events) }
    }

    var hasPendingOutput: Bool { !output.isEmpty }

    func onClose(_ handler: @escaping () -> Void) { closeHandlers.append(handler) }

    private func ready(_ events: UInt32) {
        if events & EventLoop.writable != 0 { flush() }
        if events & ~EventLoop.writable != 0 { readAvailable() }
    }

    private func readAvailable() {
        var chunk = [UInt8](repeating: 0, count: 16384)
        while !isClosed {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n > 0 {
                // After a refused frame the connection only flushes its error and closes:
                // what the peer still sends is dropped, not kept.
                if !closeAfterFlush {
                    input.append(contentsOf: chunk[0..<n])
                    processFrames()
                    watchForStall()
                }
                continue
            }
            if n < 0 && lastErrno == EINTR { continue }
            if n < 0 && (lastErrno == EAGAIN || lastErrno == EWOULDBLOCK) { return }
            close() // end of file or an error
        }
    }

    private func processFrames() {
        while !isClosed && !closeAfterFlush && input.count >= 4 {
            let length = Connection.frameLength(input)
            if length == 0 {
                return refuse(ShimError(.invalidArgument, "invalid request: an empty frame", code: ShimError.invalidRequest))
            }
            if length > Connection.maxPayload {
                return refuse(ShimError(.resourceExhausted, "a frame of \(length) bytes exceeds the limit of \(Connection.maxPayload)"))
            }
            guard input.count >= 4 + length else { return }
            let message = Array(input[4..<(4 + length)])
            input.removeFirst(4 + length)
            partialSince = 0 // the next frame, if any has begun, has its own clock
            handle(message)
        }
    }

    /// Starts the clock for a frame that has begun to arrive, and stops it when none is
    /// partly read.
    private func watchForStall() {
        guard !input.isEmpty, !isClosed, !closeAfterFlush else {
            partialSince = 0
            return
        }
        guard partialSince == 0 else { return }
        let began = monotonicMilliseconds()
        partialSince = began
        loop.after(milliseconds: Connection.frameTimeoutMs) {
            guard !self.isClosed, !self.closeAfterFlush, self.partialSince == began else { return }
            self.refuse(ShimError(.invalidArgument, "invalid request: a frame did not arrive whole within \(Connection.frameTimeoutMs / 1000) s",
                                  code: ShimError.invalidRequest))
        }
    }

    /// A fault of the framing: one error with `id: null`, then the connection closes.
    private func refuse(_ error: ShimError) {
        input = []
        send(Connection.errorMessage(id: .null, error))
        closeAfterFlush = true
        if output.isEmpty { close() }
    }

    private func handle(_ message: [UInt8]) {
        let value: JSON
        do throws(ShimError) {
            value = try JSON.parse(message)
        } catch {
            return send(Connection.errorMessage(id: .null, error))
        }
        guard case .object = value else {
            let first = message.first { $0 != 0x20 && $0 != 0x0a && $0 != 0x0d && $0 != 0x09 }
            let text = first == UInt8(ascii: "[") ? "batch requests are not supported; send one request per frame" : "a request must be a JSON object"
            return send(Connection.errorMessage(id: .null, ShimError(.invalidArgument, "invalid request: " + text, code: ShimError.invalidRequest)))
        }
        let id = value["id"] ?? .null
        switch id {
        case .null, .number, .string: break
        default:
            return send(Connection.errorMessage(id: .null, ShimError(.invalidArgument, "invalid request: an id must be an integer or a string", code: ShimError.invalidRequest)))
        }
        guard value["jsonrpc"]?.string == "2.0" else {
            return send(Connection.errorMessage(id: id, ShimError(.invalidArgument, "invalid request: \"jsonrpc\" must be \"2.0\"", code: ShimError.invalidRequest)))
        }
        guard let method = value["method"]?.string, !method.isEmpty else {
            return send(Connection.errorMessage(id: id, ShimError(.invalidArgument, "invalid request: \"method\" is missing", code: ShimError.invalidRequest)))
        }
        let params = value["params"] ?? .emptyObject
        guard params.isObject else {
            return send(Connection.errorMessage(id: id, ShimError.invalidParams("params must be an object")))
        }
        guard value["id"] != nil else { return } // a notification: nothing the shim takes
        dispatch(Request(method: method, params: params, reply: Reply(connection: self, id: id)))
    }

    static func errorMessage(id: JSON, _ error: ShimError) -> JSON {
        .object([
            ("error", .object([("code", .int(error.code)), ("data", .object([("kind", .string(error.kind.name))])),
                               ("message", .string(error.message))])),
            ("id", id), ("jsonrpc", .string("2.0")),
        ])
    }

    /// A notification (no id): the shim's events.
    func notify(_ method: String, _ params: JSON) {
        send(.object([("jsonrpc", .string("2.0")), ("method", .string(method)), ("params", params)]))
    }

    func send(_ message: JSON) {
        guard !isClosed else { return }
        output.append(contentsOf: Connection.frame(message))
        if !waitingToWrite { flush() }
    }

    /// A message as a frame: its length, 4 bytes big-endian, then the JSON.
    static func frame(_ message: JSON) -> [UInt8] {
        let payload = message.bytes
        let n = payload.count
        return [UInt8(truncatingIfNeeded: n >> 24), UInt8(truncatingIfNeeded: n >> 16),
                UInt8(truncatingIfNeeded: n >> 8), UInt8(truncatingIfNeeded: n)] + payload
    }

    /// The payload length a frame's first 4 bytes give.
    static func frameLength(_ header: [UInt8]) -> Int {
        Int(header[0]) << 24 | Int(header[1]) << 16 | Int(header[2]) << 8 | Int(header[3])
    }

    private func flush() {
        while !output.isEmpty {
            let n = output.withUnsafeBytes { CBerthShim.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n > 0 { output.removeFirst(n); continue }
            if n < 0 && lastErrno == EINTR { continue }
            if n < 0 && (lastErrno == EAGAIN || lastErrno == EWOULDBLOCK) {
                if !waitingToWrite {
                    waitingToWrite = true
                    loop.change(fd, events: EventLoop.readable | EventLoop.writable)
                }
                return
            }
            output = []
            close()
            return
        }
        if waitingToWrite {
            waitingToWrite = false
            loop.change(fd, events: EventLoop.readable)
        }
        if closeAfterFlush { close() }
    }

    func close() {
        guard !isClosed else { return }
        isClosed = true
        loop.unwatch(fd)
        _ = CBerthShim.close(fd)
        let handlers = closeHandlers
        closeHandlers = []
        for handler in handlers { handler() }
    }
}

/// The listening socket (descriptor 3): each accepted client becomes a `Connection`.
final class Server {
    private let listener: Int32
    private let loop: EventLoop
    private let dispatch: (Request) -> Void
    private(set) var connections: [ObjectIdentifier: Connection] = [:]

    init(listener: Int32, loop: EventLoop, dispatch: @escaping (Request) -> Void) {
        self.listener = listener
        self.loop = loop
        self.dispatch = dispatch
        _ = berth_shim_set_nonblocking(listener)
        loop.watch(listener) { _ in self.acceptAll() }
    }


    private func acceptAll() {
        while true {
            let fd = berth_shim_accept(listener, 1)
            if fd == -EMFILE || fd == -ENFILE {
                // Out of descriptors: the pending connection stays readable, so stop
                // watching for 100 ms rather than spin.
                loop.unwatch(listener)
                loop.after(milliseconds: 100) { self.loop.watch(self.listener) { _ in self.acceptAll() } }
                return
            }
            if fd < 0 { return }
            let connection = Connection(fd: fd, loop: loop, dispatch: dispatch)
            let key = ObjectIdentifier(connection)
            connections[key] = connection
            connection.onClose { _ = self.connections.removeValue(forKey: key) }
        }
    }

    /// Whether every answer and event has been written out.
    var isFlushed: Bool { connections.values.allSatisfy { !$0.hasPendingOutput } }
}
