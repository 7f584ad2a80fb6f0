@testable import BerthAPI
import Foundation
import Testing

/// `berthctl run`'s calls are written and read by hand (QuickCalls.swift). What they
/// write must be what Codable reads, and what they read must be what Codable reads, or
/// nothing (then Codable reads it).
@Suite struct QuickCallsTests {
    static func written(_ value: some QuickWritable) -> [UInt8] { RPCMessage.quickJSON(value) }

    static let texts = ["c1", "", "a\"b\\c", "tab\tnew\nline\u{1}", "é/日本/😀", "/tmp/berthctl-x/stdout"]

    @Test("task, create-task and container requests written by hand are read by JSONDecoder as they were")
    func requests() throws {
        for (i, text) in Self.texts.enumerated() {
            let namespace = i % 2 == 0 ? nil : text
            let task = TaskRequest(namespace: namespace, containerID: text, execID: i % 3 == 0 ? nil : text)
            #expect(try JSONDecoder().decode(TaskRequest.self, from: Data(Self.written(task))) == task)
            let io = i % 2 == 0 ? nil : TaskIO(stdin: text, stdout: text, stderr: nil, terminal: i % 4 == 1, logPath: i == 3 ? text : nil)
            let create = CreateTaskRequest(namespace: namespace, containerID: text, rootfs: i == 2 ? nil : text, io: io)
            #expect(try JSONDecoder().decode(CreateTaskRequest.self, from: Data(Self.written(create))) == create)
            let container = ContainerRequest(namespace: namespace, id: text)
            #expect(try JSONDecoder().decode(ContainerRequest.self, from: Data(Self.written(container))) == container)
        }
    }

    static func response(_ result: some Encodable) throws -> [UInt8] {
        RPCMessage.response(id: .number(7), resultJSON: try WireJSON.encode(result))
    }

    @Test("results read by hand are those JSONDecoder reads")
    func results() throws {
        for exit in [TaskExitResponse(pid: 1, exitStatus: 0, exitedAt: "2026-11-26T10:00:00.000000001Z"),
                     TaskExitResponse(pid: Int32.max, exitStatus: -1, exitedAt: "a\"\\b"), TaskExitResponse(pid: 0, exitStatus: 255, exitedAt: "")] {
            let message = try Self.response(exit)
            let quick: TaskExitResponse? = RPCMessage.quickResult(from: message)
            #expect(quick == (try RPCMessage.decodeResult(TaskExitResponse.self, from: message)))
            #expect(quick != nil)
        }
        let pidMessage = try Self.response(TaskPidResponse(pid: 4242))
        let pid: TaskPidResponse? = RPCMessage.quickResult(from: pidMessage)
        #expect(pid == TaskPidResponse(pid: 4242))
        let empty: Empty? = RPCMessage.quickResult(from: Array(#"{"id":1,"jsonrpc":"2.0","result":{"extra":[1,{"x":null}]}}"#.utf8))
        #expect(empty == Empty())
    }

    static let unsureResults = [
        #"{"id":1,"jsonrpc":"2.0","result":{"pid":1.5}}"#,
        #"{"id":1,"jsonrpc":"2.0","result":{"pid":4294967296}}"#,
        #"{"id":1,"jsonrpc":"2.0","result":{}}"#,
        #"{"id":1,"jsonrpc":"2.0","result":{"pid":"1"}}"#,
        #"{"id":1,"jsonrpc":"2.0"}"#,
        #"{"id":1,"jsonrpc":"2.0","result":{"pid":1}} trailing"#,
    ]

    @Test("a result the hand reader is not sure of is left to JSONDecoder", arguments: unsureResults)
    func unsure(_ text: String) {
        let quick: TaskPidResponse? = RPCMessage.quickResult(from: Array(text.utf8))
        #expect(quick == nil)
    }

    static let heads: [(String, Int64?, String?, Bool)] = [
        (#"{"id":3,"jsonrpc":"2.0","result":{"pid":1}}"#, 3, nil, false),
        (#"{"error":{"code":5,"message":"no such task","data":{"kind":"NotFound"}},"id":4,"jsonrpc":"2.0"}"#, 4, nil, true),
        (#"{"jsonrpc":"2.0","method":"events.event","params":{"subscription":1,"event":{"seq":9}}}"#, nil, "events.event", false),
        (#"{"error":{"code":-32600,"message":"frame too large"},"id":null,"jsonrpc":"2.0"}"#, nil, nil, true),
    ]

    @Test("a message's id, method and error are read by hand as MessageHead reads them; a string id is left to it")
    func messageHeads() throws {
        for (text, id, method, hasError) in Self.heads {
            let quick = try #require(RPCMessage.quickHead(Array(text.utf8)), "\(text)")
            #expect(quick.id == id && quick.method == method && quick.hasError == hasError, "\(text)")
            let head = try WireJSON.decode(MessageHead.self, from: Array(text.utf8))
            #expect(head.method == method && (head.error != nil) == hasError, "\(text)")
            if let id { #expect(head.id == .number(id)) }
        }
        #expect(RPCMessage.quickHead(Array(#"{"id":"s","jsonrpc":"2.0","result":{}}"#.utf8)) == nil)
    }

    static let requests = [
        #"{"jsonrpc":"2.0","id":7,"method":"tasks.kill","params":{"containerID":"web","signal":9}}"#,
        #"{"params":{"a":[1,2,{"b":null}],"c":"\u00e9\n"},"method":"tasks.create","id":-3,"jsonrpc":"2.0"}"#,
        #"{"jsonrpc":"2.0","id":null,"method":"system.version"}"#,
        #"{"jsonrpc":"2.0","method":"events.unsubscribe","params":{"subscription":4}}"#,
        #" { "jsonrpc" : "1.0" , "id" : 1 , "method" : "x" } "#,
        #"{"jsonrpc":"2.0","id":1,"method":""}"#,
        #"{"jsonrpc":"2.0","id":1}"#,
    ]

    /// Everything it is not sure of: JSONDecoder reads it (and words any error).
    static let unsureRequests = [
        #"{"jsonrpc":"2.0","id":"a","method":"x"}"#, // a string id
        #"{"jsonrpc":"2.0","id":1.5,"method":"x"}"#, // a fraction
        #"{"jsonrpc":"2.0","id":1,"method":"x","params":{"n":1e3}}"#, // an exponent in the params
        #"{"jsonrpc":"2.0","id":1,"method":"x","method":"y"}"#, // a key twice
        #"{"jsonrpc":"2.0","id":1,"method":"x","params":{"a":}}"#, // malformed params
        #"{"jsonrpc":"2.0","id":1,"method":"x"} {}"#, // trailing bytes
        #"[{"jsonrpc":"2.0","id":1,"method":"x"}]"#, // a batch
        #"{"jsonrpc":2,"id":1,"method":"x"}"#, // jsonrpc not a string
        #"{"jsonrpc":"2.0","id":1,"error":{"code":1,"message":"m"}}"#, // an error member
    ]

    @Test("a request's head read by hand is MessageHead's")
    func requestHeads() throws {
        for text in Self.requests {
            let quick = try #require(RPCMessage.quickRequestHead(Array(text.utf8)), "\(text)")
            let head = try WireJSON.decode(MessageHead.self, from: Array(text.utf8))
            #expect(quick.jsonrpc == head.jsonrpc && quick.id == head.id && quick.hasID == head.hasID
                    && quick.method == head.method && quick.error == nil && head.error == nil, "\(text)")
        }
    }

    @Test("a request the hand reader is not sure of is left to JSONDecoder", arguments: unsureRequests)
    func unsureRequestHead(_ text: String) {
        #expect(RPCMessage.quickRequestHead(Array(text.utf8)) == nil)
    }
}
