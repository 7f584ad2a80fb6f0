import BerthOCI

/// The calls of `berthctl run` (tasks.create, start, wait, delete; containers.delete)
/// encoded and read by hand, as `CreateContainerRequest.quickJSON` is: in a fresh
/// process the first JSONEncoder or JSONDecoder use of each type builds its metadata
/// (0.2–0.4 ms each here), on the critical path between one answer and the next call.
/// Anything the quick reader is not sure of goes to JSONDecoder, which keeps every error
/// message. QuickCallsTests checks both directions against Codable.
package protocol QuickWritable: Encodable & Sendable {
    func write(to w: inout QuickJSONWriter)
}

package protocol QuickReadable: Decodable & Sendable {
    init(quick r: QuickJSONReader) throws
}

extension BerthClient {
    /// `call` with params written and the result read by hand.
    package func quickCall<P: QuickWritable, R: QuickReadable>(_ method: APIMethod<P, R>, _ params: P,
                                                              timeout: Duration? = nil) async throws -> R {
        let response = try await callRaw(method.name, paramsJSON: RPCMessage.quickJSON(params), timeout: timeout)
        if let result: R = RPCMessage.quickResult(from: response) { return result }
        return try RPCMessage.decodeResult(R.self, from: response)
    }
}

extension RPCMessage {
    /// The `result` of a response, read by hand; nil when unsure.
    package static func quickResult<R: QuickReadable>(from message: [UInt8]) -> R? {
        let r = QuickJSONReader(message)
        var result: R?
        do {
            try r.object { key in
                if key == "result" { result = try R(quick: r) } else { try r.skip() }
            }
        } catch {
            return nil
        }
        return r.atEnd() ? result : nil
    }

    /// The `params` of a request or notification, read by hand; nil when unsure
    /// (`decodeParams` then, which has the error messages).
    package static func quickParams<P: QuickReadable>(from message: [UInt8]) -> P? {
        let r = QuickJSONReader(message)
        var params: P?
        do {
            try r.object { key in
                if key == "params" { params = try P(quick: r) } else { try r.skip() }
            }
        } catch {
            return nil
        }
        return r.atEnd() ? params : nil
    }

    /// `quickParams` for a type known only at run time (berthd's router).
    package static func quickParams(_ type: any QuickReadable.Type, from message: [UInt8]) -> (any QuickReadable)? {
        func read<P: QuickReadable>(_: P.Type) -> P? { quickParams(from: message) }
        return read(type)
    }

    /// A value written by hand.
    package static func quickJSON(_ value: any QuickWritable) -> [UInt8] {
        var w = QuickJSONWriter()
        value.write(to: &w)
        return w.bytes
    }

    /// A request's head read by hand (`jsonrpc`, a number or null `id`, `method`; the
    /// params only skipped over, checked for shape); nil when unsure (a string id, a
    /// fraction, a key twice, an `error`, anything malformed): `MessageHead`'s
    /// JSONDecoder then, which also words the errors. JSONDecoder read every call's head
    /// at ~3% of berthd's I/O thread in a profile of tasks.kill.
    package static func quickRequestHead(_ message: [UInt8]) -> MessageHead? {
        let r = QuickJSONReader(message)
        var jsonrpc: String?, id: RPCID?, hasID = false, method: String?
        do {
            try r.object { key in
                switch key {
                case "jsonrpc": jsonrpc = try r.string()
                case "id":
                    hasID = true
                    id = try r.optional { RPCID.number(try r.integer(Int64.self)) }
                case "method": method = try r.string()
                case "error": throw QuickJSONReader.Unsure()
                default: try r.skip()
                }
            }
        } catch {
            return nil
        }
        guard r.atEnd() else { return nil }
        return MessageHead(jsonrpc: jsonrpc, id: id, hasID: hasID, method: method, error: nil)
    }

    /// A response's `id` and `method`, and whether it has an `error`, read by hand;
    /// nil when unsure (a string id, a fraction anywhere): `MessageHead` then.
    static func quickHead(_ message: [UInt8]) -> (id: Int64?, method: String?, hasError: Bool)? {
        let r = QuickJSONReader(message)
        var id: Int64?, method: String?, hasError = false
        do {
            try r.object { key in
                switch key {
                case "id": id = try r.optional { try r.integer(Int64.self) }
                case "method": method = try r.string()
                case "error": hasError = true; try r.skip()
                default: try r.skip()
                }
            }
        } catch {
            return nil
        }
        return r.atEnd() ? (id, method, hasError) : nil
    }
}

extension TaskRequest: QuickWritable {
    package func write(to w: inout QuickJSONWriter) {
        w.object { w in
            w.member("namespace", namespace)
            w.member("containerID", containerID)
            w.member("execID", execID)
        }
    }
}

extension CreateTaskRequest: QuickWritable {
    package func write(to w: inout QuickJSONWriter) {
        w.object { w in
            w.member("namespace", namespace)
            w.member("containerID", containerID)
            w.member("rootfs", rootfs)
            w.member("io", io) { w, io in
                w.object { w in
                    w.member("stdin", io.stdin)
                    w.member("stdout", io.stdout)
                    w.member("stderr", io.stderr)
                    w.member("terminal", io.terminal)
                    w.member("logPath", io.logPath)
                }
            }
        }
    }
}

extension ContainerRequest: QuickWritable {
    package func write(to w: inout QuickJSONWriter) {
        w.object { w in
            w.member("namespace", namespace)
            w.member("id", id)
        }
    }
}

extension TaskPidResponse: QuickReadable {
    package init(quick r: QuickJSONReader) throws {
        var pid: Int32?
        try r.object { key in
            if key == "pid" { pid = try r.integer(Int32.self) } else { try r.skip() }
        }
        self.init(pid: try r.required(pid))
    }
}

extension TaskExitResponse: QuickReadable {
    package init(quick r: QuickJSONReader) throws {
        var pid: Int32?, status: Int32?, at: String?
        try r.object { key in
            switch key {
            case "pid": pid = try r.integer(Int32.self)
            case "exitStatus": status = try r.integer(Int32.self)
            case "exitedAt": at = try r.string()
            default: try r.skip()
            }
        }
        self.init(pid: try r.required(pid), exitStatus: try r.required(status), exitedAt: try r.required(at))
    }
}

extension Empty: QuickReadable {
    package init(quick r: QuickJSONReader) throws {
        try r.object { _ in try r.skip() }
        self.init()
    }
}

extension Empty: QuickWritable {
    package func write(to w: inout QuickJSONWriter) {
        w.object { _ in }
    }
}

/// `tasks.kill` as berthd reads it and the `task.kill` it sends on: issue 7's kill →
/// `/tasks/exit` latency goes through both.
extension KillTaskRequest: QuickReadable, QuickWritable {
    package init(quick r: QuickJSONReader) throws {
        var namespace: String?, containerID: String?, execID: String?, signal: Int32?, all: Bool?
        try r.object { key in
            switch key {
            case "namespace": namespace = try r.optional { try r.string() }
            case "containerID": containerID = try r.string()
            case "execID": execID = try r.optional { try r.string() }
            case "signal": signal = try r.integer(Int32.self)
            case "all": all = try r.optional { try r.bool() }
            default: try r.skip()
            }
        }
        self.init(namespace: namespace, containerID: try r.required(containerID), execID: execID,
                  signal: try r.required(signal), all: all)
    }

    package func write(to w: inout QuickJSONWriter) {
        w.object { w in
            w.member("namespace", namespace)
            w.member("containerID", containerID)
            w.member("execID", execID)
            w.member("signal", signal)
            w.member("all", all)
        }
    }
}

extension ShimKillRequest: QuickWritable {
    package func write(to w: inout QuickJSONWriter) {
        w.object { w in
            w.member("execID", execID)
            w.member("signal", signal)
            w.member("all", all)
        }
    }
}
