import BerthAPI
import Foundation
import Testing

extension ShimTests {
    /// Protocol faults on the shim socket get JSON-RPC errors; the shim keeps serving.
    @Suite("Bad input")
    struct BadInputTests {
        struct NoParams: Encodable, Sendable {}
        struct StdioWrongType: Encodable, Sendable { let stdio = "yes" }

        @Test("unknown method is -32601, create without stdio is -32602, and the shim keeps serving")
        func protocolErrors() async throws {
            try await withShim(["true"]) { shim in
                let client = try await shim.connect()
                await expectError(.notImplemented, code: ProtocolErrorCode.methodNotFound, "task.nosuch") {
                    _ = try await client.callRaw("task.nosuch", params: NoParams())
                }
                await expectError(.invalidArgument, code: ProtocolErrorCode.invalidParams, "task.create without stdio") {
                    _ = try await client.callRaw("task.create", params: NoParams())
                }
                await expectError(.invalidArgument, code: ProtocolErrorCode.invalidParams, "task.create with stdio a string") {
                    _ = try await client.callRaw("task.create", params: StdioWrongType())
                }
                // Neither created anything, on the same connection or a new one.
                await expectError(.notFound, "state after the refused creates") {
                    try await client.call(ShimAPI.state, ShimProcessRequest())
                }
                let other = try await shim.connect()
                #expect(try await other.call(ShimAPI.connect, Empty()).taskPid == 0)
            }
        }

        @Test("invalid UTF-8 and nesting past 64 levels are parse errors; escapes in strings are decoded")
        func jsonEdges() async throws {
            try await withShim(["true"]) { shim in
                let raw = try RawSocket(shim.address)
                raw.send([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]) // {"\xff\xfe":1}
                #expect(raw.receive()?.errorCode == ProtocolErrorCode.parseError)
                raw.send(String(repeating: "[", count: 65) + String(repeating: "]", count: 65))
                #expect(raw.receive()?.errorCode == ProtocolErrorCode.parseError)
                raw.send(#"{"jsonrpc":"2.0","id":3,"method":"task.connect","params":{}} x"#)
                #expect(raw.receive()?.errorCode == ProtocolErrorCode.parseError)
                // A log path written with \u escapes (one a surrogate pair) and escaped
                // quotes: the file the shim creates has the decoded name.
                let name = "l\u{f6}g \"\u{1F600}\".log"
                let escaped = #"l\u00f6g \"\ud83d\ude00\".log"#
                let path = shim.directory + "/" + name
                raw.send(#"{"jsonrpc":"2.0","id":4,"method":"task.create","params":{"stdio":{"logPath":"\#(shim.directory)/\#(escaped)"}}}"#)
                let created = raw.receive()
                #expect((created?["result"] as? [String: Any])?["pid"] != nil, "create: \(String(describing: created))")
                #expect(FileManager.default.fileExists(atPath: path), "no log file named \(name)")
                // The connection still serves.
                raw.send(#"{"jsonrpc":"2.0","id":5,"method":"task.connect","params":{}}"#)
                #expect((raw.receive()?["result"] as? [String: Any])?["shimPid"] as? Int == shim.shimPid.map(Int.init))
            }
        }

        @Test("a frame that stops half-way is refused after 5 s and its connection closed; others are served meanwhile")
        func stalledFrame() async throws {
            try await withShim(["true"]) { shim in
                let stalled = try RawSocket(shim.address)
                let frame = Array(#"{"jsonrpc":"2.0","id":1,"method":"task.connect","params":{}}"#.utf8)
                stalled.send(Array(frame.prefix(10)), declaredLength: UInt32(frame.count))
                // Timed from the send: the shim's 5 s run from when the frame began, however
                // long the other connection below takes on a busy host.
                let started = ContinuousClock.now
                let client = try await shim.connect()
                #expect(try await client.call(ShimAPI.connect, Empty()).shimPid == shim.shimPid)
                let refused = stalled.receive() // RawSocket waits 10 s at most
                #expect(refused?.errorCode == ProtocolErrorCode.invalidRequest, "\(String(describing: refused))")
                #expect(refused.map { $0["id"] is NSNull } == true)
                #expect(ContinuousClock.now - started > .seconds(4), "refused before the frame had a chance to arrive")
                #expect(stalled.receive() == nil, "the connection stays open after the error")
                #expect(try await client.call(ShimAPI.connect, Empty()).shimPid == shim.shimPid)
            }
        }

        @Test("malformed frames get an error, and other connections are unaffected")
        func malformedFrames() async throws {
            try await withShim(["true"]) { shim in
                let raw = try RawSocket(shim.address)
                raw.send("{not json")
                #expect(raw.receive()?.errorCode == ProtocolErrorCode.parseError)
                raw.send(#"[{"jsonrpc":"2.0","id":1,"method":"task.connect"}]"#)
                #expect(raw.receive()?.errorCode == ProtocolErrorCode.invalidRequest)
                raw.send(#"{"jsonrpc":"2.0","id":2,"method":"task.connect","params":{}}"#)
                #expect((raw.receive()?["result"] as? [String: Any])?["shimPid"] as? Int == shim.shimPid.map(Int.init))

                let huge = try RawSocket(shim.address)
                huge.send([], declaredLength: 0xffff_fff0)
                let refused = huge.receive()
                #expect(refused?.errorCode != nil, "an oversized frame must get an error response")
                #expect(refused.map { $0["id"] is NSNull } == true)

                let client = try await shim.connect()
                #expect(try await client.call(ShimAPI.connect, Empty()).shimPid == shim.shimPid)
            }
        }
    }
}
