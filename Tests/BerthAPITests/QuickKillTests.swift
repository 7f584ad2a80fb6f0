@testable import BerthAPI
import Foundation
import Testing

/// berthd reads `tasks.kill` by hand and writes the `task.kill` it sends on by hand
/// (QuickCalls.swift): what it reads must be what JSONDecoder reads, or nothing (then
/// JSONDecoder reads it and gives the error), and what it writes must read back as it was.
@Suite struct QuickKillTests {
    static func request(_ params: String) -> [UInt8] {
        Array(#"{"id":1,"jsonrpc":"2.0","method":"tasks.kill","params":\#(params)}"#.utf8)
    }

    static let requests = [
        KillTaskRequest(containerID: "c1", signal: 9),
        KillTaskRequest(namespace: "ns", containerID: "a\"b\\c", execID: "e1", signal: 15, all: true),
        KillTaskRequest(namespace: "", containerID: "", execID: "é/日本", signal: Int32.min, all: false),
        KillTaskRequest(containerID: "x", signal: Int32.max),
    ]

    @Test("kill requests written by hand read back through JSONDecoder, and read by hand as JSONDecoder reads them")
    func bothWays() throws {
        for request in Self.requests {
            #expect(try JSONDecoder().decode(KillTaskRequest.self, from: Data(RPCMessage.quickJSON(request))) == request)
            let message = Self.request(String(decoding: try WireJSON.encode(request), as: UTF8.self))
            let quick: KillTaskRequest? = RPCMessage.quickParams(from: message)
            #expect(quick == request)
            #expect(RPCMessage.quickParams(KillTaskRequest.self, from: message) as? KillTaskRequest == request)
            let shim = ShimKillRequest(execID: request.execID, signal: request.signal, all: request.all)
            #expect(try JSONDecoder().decode(ShimKillRequest.self, from: Data(RPCMessage.quickJSON(shim))) == shim)
        }
        let loose = Self.request(#"{"namespace":null,"containerID":"c","signal":2,"all":null,"future":[{"a":"b"}]}"#)
        let quick: KillTaskRequest? = RPCMessage.quickParams(from: loose)
        #expect(quick == KillTaskRequest(containerID: "c", signal: 2))
        #expect(quick == (try RPCMessage.decodeParams(KillTaskRequest.self, from: loose)))
        #expect(RPCMessage.quickJSON(Empty()) == Array("{}".utf8))
    }

    static let unsure = [
        #"{"containerID":"c"}"#,
        #"{"containerID":"c","signal":9.5}"#,
        #"{"containerID":"c","signal":"9"}"#,
        #"{"containerID":null,"signal":9}"#,
        #"{"containerID":"c","signal":9,"signal":15}"#,
        #"{"containerID":"c","signal":2147483648}"#,
        #"{"containerID":"c","signal":9,"all":1}"#,
        #"["c",9]"#,
    ]

    @Test("a kill request the hand reader is not sure of is left to JSONDecoder", arguments: unsure)
    func unsureRequests(_ params: String) {
        let quick: KillTaskRequest? = RPCMessage.quickParams(from: Self.request(params))
        #expect(quick == nil)
    }
}
