import BerthAPI
@testable import BerthDaemon
import BerthRPC
import Foundation
import Testing

/// Bad input on the API socket: each gets a clear error, and the daemon keeps serving
/// other connections afterwards.
@Suite struct BadInputTests {
    @Test func anOversizedLengthIsRefusedBeforeAnyAllocation() async throws {
        try await withDaemon { daemon in
            let raw = try daemon.raw()
            raw.sendHeader(0xFFFF_FFF0) // ~4 GiB declared, nothing sent after
            let head = try await raw.readResponse()
            #expect(head.hasID && head.id == nil)
            #expect(head.error?.data?.kind == .resourceExhausted)
            #expect(head.error?.message.contains("exceeds the limit of 4194304") == true)
            #expect(await raw.isClosedByPeer())
            #expect(try await stillServes(daemon))
        }
    }

    @Test func theFrameLimitIsConfigurable() async throws {
        try await withDaemon({ $0.maxFrameBytes = 2048 }) { daemon in
            let raw = try daemon.raw()
            raw.sendFrame(#"{"jsonrpc":"2.0","id":1,"method":"system.version","params":{"pad":""# + String(repeating: "x", count: 2100) + "\"}}")
            let head = try await raw.readResponse()
            #expect(head.error?.data?.kind == .resourceExhausted)
            #expect(await raw.isClosedByPeer())
            // Just under the limit is fine.
            let ok = try daemon.raw()
            ok.sendFrame(#"{"jsonrpc":"2.0","id":1,"method":"system.version","params":{"pad":""# + String(repeating: "x", count: 1900) + "\"}}")
            #expect(try await ok.readResponse().error == nil)
        }
    }

    @Test func lengthZeroIsInvalid() async throws {
        try await withDaemon { daemon in
            let raw = try daemon.raw()
            raw.sendHeader(0)
            let head = try await raw.readResponse()
            #expect(head.error?.code == ProtocolErrorCode.invalidRequest)
            #expect(head.error?.message.contains("length 0") == true)
            #expect(await raw.isClosedByPeer())
            #expect(try await stillServes(daemon))
        }
    }

    @Test(arguments: [2, 4 + 10])
    func aFrameCutShortByEOFGetsAnError(bytes: Int) async throws {
        try await withDaemon { daemon in
            let raw = try daemon.raw()
            var frame: [UInt8] = [0, 0, 0, 100]
            frame += [UInt8](repeating: UInt8(ascii: "{"), count: 100)
            raw.send(Array(frame.prefix(bytes)))
            raw.shutdownWrite()
            let head = try await raw.readResponse()
            #expect(head.error?.code == ProtocolErrorCode.invalidRequest)
            #expect(head.error?.message.contains("closed inside a frame: \(bytes) of") == true)
            #expect(await raw.isClosedByPeer())
            #expect(try await stillServes(daemon))
        }
    }

    @Test func aBodyThatNeverCompletesIsClosedByTheReadDeadline() async throws {
        try await withDaemon({ $0.frameTimeoutSeconds = 0.5 }) { daemon in
            let raw = try daemon.raw()
            raw.sendHeader(50)
            raw.send(Array("{\"jsonrpc\"".utf8))
            let head = try await raw.readResponse() // arrives after ~0.5 s, well within the 5 s read timeout
            #expect(head.error?.message.contains("not completed within 0.5s") == true)
            #expect(await raw.isClosedByPeer())
            #expect(try await stillServes(daemon))
        }
    }

    @Test func malformedJSONIsAParseErrorAndTheConnectionGoesOn() async throws {
        try await withDaemon { daemon in
            let raw = try daemon.raw()
            raw.sendFrame(#"{"jsonrpc":"2.0","id":1,"method":"#)
            let head = try await raw.readResponse()
            #expect(head.error?.code == ProtocolErrorCode.parseError)
            #expect(head.hasID && head.id == nil)
            raw.sendFrame(#"{"jsonrpc":"2.0","id":2,"method":"system.version"}"#)
            let next = try await raw.readResponse()
            #expect(next.id == .number(2) && next.error == nil)
        }
    }

    @Test(arguments: [#"42"#, #""text""#, #"null"#, #"[{"jsonrpc":"2.0","id":1,"method":"system.version"}]"#, #"[]"#])
    func nonObjectsAndBatchesAreInvalidRequests(_ payload: String) async throws {
        try await withDaemon { daemon in
            let raw = try daemon.raw()
            raw.sendFrame(payload)
            let head = try await raw.readResponse()
            #expect(head.error?.code == ProtocolErrorCode.invalidRequest)
            if payload.hasPrefix("[") { #expect(head.error?.message.contains("batch") == true) }
            #expect(try await stillServes(daemon))
        }
    }

    @Test(arguments: [
        (#"{"id":1,"method":"system.version"}"#, "jsonrpc"),
        (#"{"jsonrpc":"1.0","id":1,"method":"system.version"}"#, "jsonrpc"),
        (#"{"jsonrpc":"2.0","id":1}"#, "method"),
        (#"{"jsonrpc":"2.0","id":1,"method":7}"#, "method"),
        (#"{"jsonrpc":"2.0","id":{"a":1},"method":"system.version"}"#, "id"),
    ])
    func requestsWithBadEnvelopesAreInvalid(_ payload: String, _ mentioned: String) async throws {
        try await withDaemon { daemon in
            let raw = try daemon.raw()
            raw.sendFrame(payload)
            let head = try await raw.readResponse()
            #expect(head.error?.code == ProtocolErrorCode.invalidRequest)
            #expect(head.error?.message.contains(mentioned) == true)
        }
    }

    @Test func anUnknownMethodIsNotFoundAndEchoesTheID() async throws {
        try await withDaemon { daemon in
            let raw = try daemon.raw()
            raw.sendFrame(#"{"jsonrpc":"2.0","id":"abc","method":"tasks.teleport","params":{}}"#)
            let head = try await raw.readResponse()
            #expect(head.id == .string("abc"))
            #expect(head.error?.code == ProtocolErrorCode.methodNotFound)
            #expect(head.error?.data?.kind == .notImplemented)
            #expect(head.error?.message.contains("tasks.teleport") == true)
        }
    }

    @Test func wrongParamTypesAreInvalidParamsNamingTheField() async throws {
        try await withDaemon { daemon in
            let raw = try daemon.raw()
            raw.sendFrame(#"{"jsonrpc":"2.0","id":3,"method":"namespaces.create","params":{"name":"ok","labels":{"k":1}}}"#)
            let head = try await raw.readResponse()
            #expect(head.error?.code == ProtocolErrorCode.invalidParams)
            #expect(head.error?.data?.field == "params.labels.k")
            raw.sendFrame(#"{"jsonrpc":"2.0","id":4,"method":"namespaces.create","params":"ok"}"#)
            let second = try await raw.readResponse()
            #expect(second.error?.code == ProtocolErrorCode.invalidParams)
            #expect(second.error?.data?.field == "params")
            let client = try await daemon.client()
            defer { client.close() }
            #expect(try await client.namespaces().isEmpty) // nothing was created
        }
    }

    @Test func jsonNestedAHundredThousandLevelsIsAnErrorNotACrash() async throws {
        try await withDaemon { daemon in
            let raw = try daemon.raw()
            let depth = 100_000
            let params = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
            raw.sendFrame(#"{"jsonrpc":"2.0","id":1,"method":"system.version","params":"# + params + "}")
            let head = try await raw.readResponse()
            #expect(head.error?.code == ProtocolErrorCode.parseError)
            #expect(head.error?.message.contains("deeper than 64") == true)
            raw.sendFrame(#"{"jsonrpc":"2.0","id":2,"method":"system.version"}"#)
            #expect(try await raw.readResponse().error == nil)
        }
    }

    @Test func deepNestingInsideStringsIsJustText() async throws {
        try await withDaemon { daemon in
            let client = try await daemon.client()
            defer { client.close() }
            let value = String(repeating: "[{", count: 500)
            let ns = try await client.createNamespace("strings", labels: ["brackets": value])
            #expect(ns.labels["brackets"] == value)
        }
    }

    @Test func invalidUTF8IsAParseError() async throws {
        try await withDaemon { daemon in
            let raw = try daemon.raw()
            var payload = Array(#"{"jsonrpc":"2.0","id":1,"method":"namespaces.create","params":{"name":""#.utf8)
            payload += [0xFF, 0xFE, 0xC3]
            payload += Array(#""}}"#.utf8)
            raw.sendFrame(payload)
            let head = try await raw.readResponse()
            #expect(head.error?.code == ProtocolErrorCode.parseError)
            #expect(try await stillServes(daemon))
        }
    }

    @Test func aNotificationIsExecutedButNeverAnswered() async throws {
        try await withDaemon { daemon in
            let raw = try daemon.raw()
            raw.sendFrame(#"{"jsonrpc":"2.0","method":"namespaces.create","params":{"name":"quiet"}}"#)
            raw.sendFrame(#"{"jsonrpc":"2.0","method":"no.such.method"}"#)
            // Pipelined calls are not ordered against each other (PROTOCOL.md): wait for
            // the notification's effect on another connection before asking on this one.
            let client = try await daemon.client()
            defer { client.close() }
            var created = false
            for _ in 0..<200 where !created {
                created = (try? await client.call(API.namespacesGet, NamespaceNameRequest(name: "quiet"))) != nil
                if !created { try await Task.sleep(for: .milliseconds(10)) }
            }
            #expect(created, "the notification was executed")
            raw.sendFrame(#"{"jsonrpc":"2.0","id":9,"method":"namespaces.get","params":{"name":"quiet"}}"#)
            let head = try await raw.readResponse()
            #expect(head.id == .number(9)) // the first answer on the wire is the request's: notifications get none
            #expect(head.error == nil)
        }
    }

    @Test func aHundredPipelinedRequestsAreAllAnsweredAndMatchedByID() async throws {
        try await withDaemon { daemon in
            let raw = try daemon.raw()
            var batch: [UInt8] = []
            for i in 0..<100 {
                let method = i % 2 == 0 ? "system.version" : "namespaces.list"
                let payload = Array(#"{"jsonrpc":"2.0","id":\#(i),"method":"\#(method)"}"#.utf8)
                batch += [0, 0, UInt8(payload.count >> 8), UInt8(payload.count & 0xff)] + payload
            }
            raw.send(batch) // one write: every request is in flight together
            var seen: [Int64: Bool] = [:]
            for _ in 0..<100 {
                let frame = try #require(await raw.readFrame())
                let head = try WireJSON.decode(MessageHead.self, from: frame)
                guard case let .number(id)? = head.id else { Issue.record("response without numeric id"); continue }
                #expect(head.error == nil)
                let isVersion = (try? RPCMessage.decodeResult(VersionInfo.self, from: frame)) != nil
                #expect(isVersion == (id % 2 == 0), "response \(id) carries the other method's result")
                seen[id] = true
            }
            #expect(seen.count == 100)
        }
    }

    @Test func twoHundredConnectionsAtOnce() async throws {
        try await withDaemon { daemon in
            let answered = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<200 {
                    group.addTask {
                        let client = try await daemon.client()
                        defer { client.close() }
                        return try await client.version().apiVersion
                    }
                }
                return try await group.reduce(0) { $0 + ($1 == API.version ? 1 : 0) }
            }
            #expect(answered == 200)
        }
    }

    @Test func connectionsOverTheLimitAreRefusedWithResourceExhausted() async throws {
        try await withDaemon({ $0.maxConnections = 2 }) { daemon in
            let first = try daemon.raw(), second = try daemon.raw()
            first.sendFrame(#"{"jsonrpc":"2.0","id":1,"method":"system.version"}"#)
            #expect(try await first.readResponse().error == nil)
            let third = try daemon.raw()
            let refused = try await third.readResponse()
            #expect(refused.error?.data?.kind == .resourceExhausted)
            #expect(await third.isClosedByPeer())
            second.sendFrame(#"{"jsonrpc":"2.0","id":1,"method":"system.version"}"#)
            #expect(try await second.readResponse().error == nil)
        }
    }

    @Test func aClientThatDisconnectsMidRequestLeavesTheDaemonServing() async throws {
        try await withDaemon { daemon in
            for _ in 0..<20 {
                let raw = try daemon.raw()
                raw.sendFrame(#"{"jsonrpc":"2.0","id":1,"method":"namespaces.list"}"#)
                raw.sendHeader(1000)
                raw.send(Array("{\"jsonrpc\":".utf8))
                // deinit closes the socket with a request in flight and a frame half sent
            }
            #expect(try await stillServes(daemon))
        }
    }

    @Test(arguments: ["../x", "", String(repeating: "n", count: 77), "a/b", "with space", ".."])
    func invalidNamespaceNamesAreRejectedAndCreateNothing(_ name: String) async throws {
        try await withDaemon { daemon in
            let client = try await daemon.client()
            defer { client.close() }
            let error = try await #require(throws: BerthError.self) { try await client.createNamespace(name) }
            #expect(error.kind == .invalidArgument)
            #expect(error.code == ErrorKind.invalidArgument.code)
            #expect(try await client.namespaces().isEmpty)
            #expect(!FileManager.default.fileExists(atPath: daemon.config.root + "/x"))
        }
    }

    @Test func aRequestWithANullIDIsAnsweredWithANullID() async throws {
        try await withDaemon { daemon in
            let raw = try daemon.raw()
            raw.sendFrame(#"{"jsonrpc":"2.0","id":null,"method":"system.version"}"#)
            let head = try await raw.readResponse()
            #expect(head.hasID && head.id == nil)
            #expect(head.error == nil)
        }
    }

    @Test(arguments: ["5", "[]", #""x""#, "true"])
    func methodsWithoutParamsStillRequireAnObject(_ params: String) async throws {
        try await withDaemon { daemon in
            let raw = try daemon.raw()
            raw.sendFrame(#"{"jsonrpc":"2.0","id":1,"method":"system.version","params":"# + params + "}")
            let head = try await raw.readResponse()
            #expect(head.error?.code == ProtocolErrorCode.invalidParams)
            #expect(head.error?.data?.field == "params")
        }
    }

    @Test func aMissingFieldIsNamedTheSameWithOrWithoutParams() async throws {
        try await withDaemon { daemon in
            let raw = try daemon.raw()
            raw.sendFrame(#"{"jsonrpc":"2.0","id":1,"method":"namespaces.get"}"#)
            let absent = try await raw.readResponse()
            raw.sendFrame(#"{"jsonrpc":"2.0","id":2,"method":"namespaces.get","params":{}}"#)
            let empty = try await raw.readResponse()
            #expect(absent.error?.data?.field == "params.name")
            #expect(empty.error?.data?.field == "params.name")
        }
    }

    @Test func aResponseLargerThanTheFrameLimitBecomesAnError() async throws {
        try await withDaemon({ $0.maxFrameBytes = 4096 }) { daemon in
            let client = try await daemon.client()
            defer { client.close() }
            for i in 0..<20 { try await client.createNamespace("ns\(i)", labels: ["pad": String(repeating: "x", count: 300)]) }
            let error = try await #require(throws: BerthError.self) { try await client.namespaces() }
            #expect(error.kind == .resourceExhausted)
            #expect(try await client.version().apiVersion == API.version) // the connection lives on
        }
    }
}
