import BerthAPI
import BerthMetadata
import BerthOCI
import Foundation
import Testing

@Suite struct MetadataStoreTests {
    func withDatabase<T>(_ body: (String) throws -> T) throws -> T {
        let dir = makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        return try body(dir + "/metadata.db")
    }

    @Test func opensInWALModeAtTheNewestSchema() throws {
        try withDatabase { path in
            let db = try Database(path: path)
            let mode = try db.withConnection { try $0.query("PRAGMA journal_mode").first?.first?.text }
            #expect(mode == "wal")
            let version = try db.withConnection { try $0.query("PRAGMA user_version").first?.first?.integer }
            #expect(version == Int64(Schema.migrations.count))
        }
    }

    @Test func aContainerNamingAnUnknownRuntimeIsRefusedAndNotStored() throws {
        try withDatabase { path in
            let store = ContainerStore(try Database(path: path))
            let kata = Container(id: "c1", runtime: .init(name: "kata"), spec: Spec())
            #expect(throws: BerthError.invalidArgument("unknown runtime \"kata\": use berth, runc or crun")) {
                try store.create(namespace: "default", kata)
            }
            #expect(try store.list(namespace: "default").isEmpty)
            let runc = try store.create(namespace: "default", Container(id: "c1", runtime: .init(name: "runc"), spec: Spec()))
            #expect(runc.runtime.name == "runc")
        }
    }

    @Test func migrationsApplyOnceAndInOrder() throws {
        try withDatabase { path in
            let v1 = [Migration("t", "CREATE TABLE t (x INTEGER)")]
            _ = try Database(path: path, migrations: v1)
            // Reopening with one more migration applies only the new one.
            let v2 = v1 + [Migration("t2", "INSERT INTO t VALUES (42)")]
            let db = try Database(path: path, migrations: v2)
            _ = try Database(path: path, migrations: v2)
            let rows = try db.withConnection { try $0.query("SELECT x FROM t") }
            #expect(rows == [[.integer(42)]])
        }
    }

    @Test func aFailedMigrationLeavesTheSchemaAsItWas() throws {
        try withDatabase { path in
            let good = [Migration("t", "CREATE TABLE t (x INTEGER)")]
            _ = try Database(path: path, migrations: good)
            let bad = good + [Migration("broken", "CREATE TABLE u (y INTEGER); INSERT INTO nowhere VALUES (1)")]
            #expect(throws: SQLiteError.self) { try Database(path: path, migrations: bad) }
            let db = try Database(path: path, migrations: good)
            let tables = try db.withConnection { try $0.query("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name") }
            #expect(tables == [[.text("t")]])
        }
    }

    @Test func aDatabaseFromANewerBerthdIsRefusedClearly() throws {
        try withDatabase { path in
            let db = try Database(path: path)
            try db.withConnection { try $0.execute("PRAGMA user_version = 99") }
            let error = try #require(throws: SchemaError.self) { try Database(path: path) }
            #expect(error.description.contains("schema version 99, newer than this berthd"))
        }
    }

    @Test func aTransactionThatThrowsIsRolledBack() throws {
        try withDatabase { path in
            let db = try Database(path: path)
            let store = NamespaceStore(db)
            _ = try store.create("a", labels: [:])
            struct Boom: Error {}
            #expect(throws: Boom.self) {
                try db.transaction { c in
                    try c.run("DELETE FROM namespaces")
                    throw Boom()
                }
            }
            #expect(try store.list().map(\.name) == ["a"])
        }
    }

    @Test func aCorruptDatabaseFileIsAClearErrorNotACrash() throws {
        try withDatabase { path in
            try Data(repeating: 0xAB, count: 8192).write(to: URL(fileURLWithPath: path))
            #expect(throws: SQLiteError.self) { try Database(path: path) }
        }
    }
}
