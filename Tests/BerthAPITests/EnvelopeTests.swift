@testable import BerthAPI
import Testing

@Suite struct EnvelopeTests {
    func decode(_ json: String) throws -> MessageHead {
        try WireJSON.decode(MessageHead.self, from: Array(json.utf8))
    }

    @Test func requestHeadTellsNumberStringNullAndAbsentIDsApart() throws {
        #expect(try decode(#"{"jsonrpc":"2.0","id":7,"method":"m"}"#).id == .number(7))
        #expect(try decode(#"{"jsonrpc":"2.0","id":"x","method":"m"}"#).id == .string("x"))
        let null = try decode(#"{"jsonrpc":"2.0","id":null,"method":"m"}"#)
        #expect(null.id == nil && null.hasID)
        let absent = try decode(#"{"jsonrpc":"2.0","method":"m"}"#)
        #expect(absent.id == nil && !absent.hasID)
    }

    @Test func errorResponsesCarryKindAndAnExplicitNullID() throws {
        let bytes = RPCMessage.error(id: nil, .notFound("namespace \"x\" not found"))
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.contains(#""id":null"#))
        let head = try WireJSON.decode(MessageHead.self, from: bytes)
        #expect(head.error?.code == 5)
        #expect(head.error?.data?.kind == .notFound)
        #expect(head.error?.berthError.kind == .notFound)
    }

    @Test func responseSplicesTheEncodedResult() throws {
        let result = try WireJSON.encode(VersionInfo(version: "1", revision: "r", apiVersion: 1))
        let bytes = RPCMessage.response(id: .string("a"), resultJSON: result)
        #expect(try RPCMessage.decodeResult(VersionInfo.self, from: bytes) == VersionInfo(version: "1", revision: "r", apiVersion: 1))
        #expect(try WireJSON.decode(MessageHead.self, from: bytes).id == .string("a"))
    }

    @Test func absentParamsReadAsAnEmptyObject() throws {
        let empty = try RPCMessage.decodeParams(Empty.self, from: Array(#"{"jsonrpc":"2.0","id":1,"method":"system.version"}"#.utf8))
        #expect(empty == Empty())
    }

    @Test func wrongParamTypesNameTheField() throws {
        let message = Array(#"{"jsonrpc":"2.0","id":1,"method":"namespaces.create","params":{"name":5}}"#.utf8)
        let error = try #require(throws: BerthError.self) {
            try RPCMessage.decodeParams(CreateNamespaceRequest.self, from: message)
        }
        #expect(error.code == ProtocolErrorCode.invalidParams)
        #expect(error.kind == .invalidArgument)
        #expect(error.field == "params.name")
        #expect(error.message.contains("params.name: expected a string"))
    }

    @Test func missingRequiredParamNamesTheField() throws {
        let message = Array(#"{"jsonrpc":"2.0","id":1,"method":"namespaces.get","params":{}}"#.utf8)
        let error = try #require(throws: BerthError.self) {
            try RPCMessage.decodeParams(NamespaceNameRequest.self, from: message)
        }
        #expect(error.field == "params.name")
        #expect(error.message.contains("required field missing"))
    }

    @Test func anUnknownKindFromANewerPeerReadsAsInternal() throws {
        let head = try decode(#"{"jsonrpc":"2.0","id":1,"error":{"code":99,"message":"m","data":{"kind":"Novel"}}}"#)
        #expect(head.error?.berthError.kind == .internal)
    }

    @Test func everyKindHasADistinctCode() {
        let codes = ErrorKind.allCases.map(\.code)
        #expect(Set(codes).count == codes.count)
        #expect(ErrorKind.notFound.code == 5 && ErrorKind.failedPrecondition.code == 9)
    }
}

@Suite struct IdentifierTests {
    @Test(arguments: ["default", "a", "k8s.io", "team_1-builds", String(repeating: "x", count: 76), "A.b_c-D9"])
    func acceptsContainerdIdentifiers(_ id: String) throws {
        try Identifier.validate(id)
    }

    @Test(arguments: ["", "../x", "a/b", "/abs", ".hidden", "trailing-", "double..dot", "a b", "ünï", "tab\t",
                      String(repeating: "x", count: 77), "-lead", "a__b"])
    func rejectsEverythingElse(_ id: String) {
        #expect(throws: BerthError.self) { try Identifier.validate(id, what: "namespace") }
        let error = try? #require(throws: BerthError.self) { try Identifier.validate(id, what: "namespace") }
        #expect(error?.kind == .invalidArgument)
    }

    @Test func labelsHaveContainerdsLimits() throws {
        try Labels.validate(["k": String(repeating: "v", count: 4095)])
        #expect(throws: BerthError.self) { try Labels.validate(["k": String(repeating: "v", count: 4096)]) }
        #expect(throws: BerthError.self) { try Labels.validate(["": "v"]) }
    }
}
