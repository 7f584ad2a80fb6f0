import BerthAPI
import BerthSystem
import Logging

/// What a handler knows about the call it serves.
public struct CallContext: Sendable {
    /// The caller as the kernel saw it (SO_PEERCRED); nil for in-process callers.
    public let peer: PeerCredentials?
    public let method: String
    public let logger: Logger
    /// The connection the call arrived on, for handlers that send notifications on it
    /// later (event subscriptions); nil for in-process callers.
    public let connection: ClientConnection?
    let replyHooks = ReplyHooks()

    public init(peer: PeerCredentials?, method: String, logger: Logger, connection: ClientConnection? = nil) {
        self.peer = peer
        self.method = method
        self.logger = logger
        self.connection = connection
    }

    /// Runs `body` on the connection's event loop right after this call's successful
    /// response has been written, so that whatever it sends follows the response. It
    /// does not run if the call fails.
    public func afterReply(_ body: @escaping @Sendable () -> Void) {
        replyHooks.add(body)
    }
}

/// The daemon's method table: each `APIMethod` bound to a handler.
///
/// Built once at start from the plugin list, then read-only while serving. Handlers
/// receive decoded params and return a typed result; decoding and encoding, and
/// turning errors into JSON-RPC error objects, happen here so no service repeats them.
public struct Router: Sendable {
    typealias Handler = @Sendable (_ message: [UInt8], _ context: CallContext) async throws -> [UInt8]

    private var handlers: [String: Handler] = [:]
    private var eventLoopMethods: Set<String> = []

    public init() {}

    /// Binds `method` to `body`. Registering a name twice is a programming error.
    ///
    /// - Parameter onEventLoop: run the handler on the connection's I/O thread rather
    ///   than the shared task pool, one thread hop less per call. Only for handlers that
    ///   never block (they only await other I/O): a blocking one holds up its connection.
    public mutating func register<P, R>(_ method: APIMethod<P, R>, onEventLoop: Bool = false,
                                        _ body: @escaping @Sendable (P, CallContext) async throws -> R) {
        precondition(handlers[method.name] == nil, "\(method.name) registered twice")
        if onEventLoop { eventLoopMethods.insert(method.name) }
        handlers[method.name] = { message, context in
            let result = try await body(try Self.decodeParams(P.self, from: message), context)
            if let quick = result as? any QuickWritable { return RPCMessage.quickJSON(quick) }
            return try WireJSON.encode(result)
        }
    }

    /// Params read by hand when their type can be (`QuickReadable`: `tasks.kill`'s), else,
    /// and whenever the hand reader is unsure, by JSONDecoder, which has the error messages.
    static func decodeParams<P: Decodable>(_ type: P.Type, from message: [UInt8]) throws -> P {
        if let quickType = type as? any QuickReadable.Type,
           let params = RPCMessage.quickParams(quickType, from: message) as? P {
            return params
        }
        return try RPCMessage.decodeParams(type, from: message)
    }

    /// The names of every method served, sorted.
    public var methods: [String] { handlers.keys.sorted() }

    func handler(for method: String) -> Handler? { handlers[method] }

    func runsOnEventLoop(_ method: String) -> Bool { eventLoopMethods.contains(method) }
}
