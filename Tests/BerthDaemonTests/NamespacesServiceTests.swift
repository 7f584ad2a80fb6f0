import BerthAPI
@testable import BerthDaemon
import BerthRPC
import BerthMetadata
import BerthSystem
import Foundation
import Testing

@Suite struct NamespacesServiceTests {
    @Test func createGetListUpdateDelete() async throws {
        try await withDaemon { daemon in
            let client = try await daemon.client()
            defer { client.close() }
            try await client.createNamespace("builds", labels: ["team": "ci"])
            try await client.createNamespace("alpha")
            #expect(try await client.namespace("builds") == Namespace(name: "builds", labels: ["team": "ci"]))
            #expect(try await client.namespaces().map(\.name) == ["alpha", "builds"])

            // A mask entry sets one label and leaves the rest; an empty value removes.
            let labelled = try await client.labelNamespace("builds", ["owner": "me"])
            #expect(labelled.labels == ["team": "ci", "owner": "me"])
            let removed = try await client.labelNamespace("builds", ["team": ""])
            #expect(removed.labels == ["owner": "me"])
            // No mask replaces every label.
            let replaced = try await client.call(API.namespacesUpdate, UpdateNamespaceRequest(namespace: Namespace(name: "builds", labels: ["x": "1"])))
            #expect(replaced.namespace.labels == ["x": "1"])

            try await client.deleteNamespace("alpha")
            #expect(try await client.namespaces().map(\.name) == ["builds"])
        }
    }

    @Test func errorsHaveTheirKinds() async throws {
        try await withDaemon { daemon in
            let client = try await daemon.client()
            defer { client.close() }
            try await client.createNamespace("one")
            await #expect { try await client.createNamespace("one") } throws: { ($0 as? BerthError)?.kind == .alreadyExists }
            await #expect { try await client.namespace("none") } throws: { ($0 as? BerthError)?.kind == .notFound }
            await #expect { try await client.deleteNamespace("none") } throws: { ($0 as? BerthError)?.kind == .notFound }
            await #expect { try await client.labelNamespace("none", ["a": "b"]) } throws: { ($0 as? BerthError)?.kind == .notFound }
            let badMask = UpdateNamespaceRequest(namespace: Namespace(name: "one"), updateMask: ["name"])
            await #expect { try await client.call(API.namespacesUpdate, badMask) } throws: { ($0 as? BerthError)?.kind == .invalidArgument }
            await #expect { try await client.createNamespace("big", labels: ["k": String(repeating: "v", count: 5000)]) }
                throws: { ($0 as? BerthError)?.kind == .invalidArgument }
            #expect(try await client.namespaces().map(\.name) == ["one"])
        }
    }

    @Test func concurrentCreatesOfOneNameHaveExactlyOneWinner() async throws {
        try await withDaemon { daemon in
            let client = try await daemon.client()
            defer { client.close() }
            let outcomes = await withTaskGroup(of: ErrorKind?.self) { group in
                for _ in 0..<50 {
                    group.addTask {
                        do { try await client.createNamespace("contested"); return nil } catch let e as BerthError { return e.kind } catch { return .internal }
                    }
                }
                return await group.reduce(into: [ErrorKind?]()) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 == nil }.count == 1)
            #expect(outcomes.filter { $0 == .alreadyExists }.count == 49)
        }
    }

    @Test func aNamespaceThatHoldsObjectsCannotBeDeleted() async throws {
        try await withDaemon { daemon in
            let client = try await daemon.client()
            defer { client.close() }
            try await client.createNamespace("busy")
            // Any table with a `namespace` column counts: later services' tables are
            // covered without changes to the namespace store.
            let db = daemon.running.context.database
            try db.withConnection { c in
                try c.execute("CREATE TABLE widgets (id TEXT, namespace TEXT)")
                try c.run("INSERT INTO widgets VALUES ('w1', 'busy'), ('w2', 'busy'), ('w3', 'other')")
            }
            let error = try await #require(throws: BerthError.self) { try await client.deleteNamespace("busy") }
            #expect(error.kind == .failedPrecondition)
            #expect(error.message.contains("2 in widgets"))
            #expect(try await client.namespace("busy").name == "busy")
            _ = try db.withConnection { c in try c.run("DELETE FROM widgets WHERE namespace = 'busy'") }
            try await client.deleteNamespace("busy")
        }
    }

    @Test func namespacesSurviveARestart() async throws {
        let first = try await TestDaemon.start()
        defer { first.remove() }
        do {
            let client = try await first.client()
            try await client.createNamespace("kept", labels: ["a": "b"])
            client.close()
        }
        await first.stop()
        let second = try await TestDaemon.start(in: first.directory)
        let client = try await second.client()
        let namespaces = try await client.namespaces()
        client.close()
        await second.stop()
        #expect(namespaces == [Namespace(name: "kept", labels: ["a": "b"])])
    }

    @Test func aSecondDaemonOnTheSameRootIsRefused() async throws {
        try await withDaemon { daemon in
            let error = await #expect(throws: RootLock.Failure.self) {
                _ = try await TestDaemon.start(in: daemon.directory) { $0.address = daemon.directory + "/other.sock" }
            }
            #expect(error == .held(path: daemon.config.root + "/berthd.lock", pid: getpid()))
            let serving = try await stillServes(daemon)
            #expect(serving)
        }
    }
}
