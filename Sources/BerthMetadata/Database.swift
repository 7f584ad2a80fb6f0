import CSQLite
import Synchronization

/// A value bound to, or read from, an SQL statement.
public enum SQLValue: Sendable, Equatable {
    case integer(Int64)
    case text(String)
    case blob([UInt8])
    case null

    public var text: String? { if case let .text(s) = self { s } else { nil } }
    public var integer: Int64? { if case let .integer(n) = self { n } else { nil } }
}

/// An SQLite failure: its result code and SQLite's message.
public struct SQLiteError: Error, Sendable, CustomStringConvertible {
    public let code: Int32
    public let message: String
    public let stage: String

    /// A UNIQUE, PRIMARY KEY or other constraint failed.
    public var isConstraint: Bool { code & 0xff == SQLITE_CONSTRAINT }
    public var description: String { "\(stage): \(message) (sqlite code \(code))" }
}

/// One SQLite database (the daemon's `metadata.db`) in WAL mode, used from any thread.
///
/// Access is serialized by a lock around one connection: metadata operations are short,
/// and one writer is what SQLite allows anyway. Every multi-statement change goes
/// through `transaction`, so a crash leaves either all of it or none.
public final class Database: @unchecked Sendable {
    public let path: String
    private let handle: OpaquePointer
    private let mutex = Mutex(())

    /// Opens (creating if needed) the database at `path` and brings its schema up to
    /// date with `migrations`.
    public init(path: String, migrations: [Migration] = Schema.migrations) throws {
        self.path = path
        var db: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close(db)
            throw SQLiteError(code: rc, message: message, stage: "open \(path)")
        }
        handle = db
        sqlite3_busy_timeout(db, 5000)
        let connection = Connection(handle: db)
        // WAL: readers never block the writer; FULL: a committed transaction survives power loss.
        _ = try connection.query("PRAGMA journal_mode=WAL")
        try connection.execute("PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON")
        try Migrator.apply(migrations, on: connection, path: path)
    }

    deinit {
        sqlite3_close_v2(handle)
    }

    /// Runs `body` with exclusive use of the connection.
    public func withConnection<T>(_ body: (Connection) throws -> T) throws -> T {
        try mutex.withLock { _ in try body(Connection(handle: handle)) }
    }

    /// Runs `body` in an immediate transaction: committed if it returns, rolled back if it
    /// throws.
    public func transaction<T>(_ body: (Connection) throws -> T) throws -> T {
        try withConnection { c in try c.transaction { try body(c) } }
    }
}

/// The connection while its lock is held. Not to be kept beyond the closure.
public struct Connection {
    let handle: OpaquePointer

    /// Runs one or more statements that return no rows.
    public func execute(_ sql: String) throws {
        var error: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &error)
        if rc != SQLITE_OK {
            let message = error.map { String(cString: $0) } ?? String(cString: sqlite3_errmsg(handle))
            sqlite3_free(error)
            throw SQLiteError(code: rc, message: message, stage: "exec")
        }
    }

    /// Runs one statement with bound values; returns the number of rows it changed.
    @discardableResult
    public func run(_ sql: String, _ values: [SQLValue] = []) throws -> Int {
        _ = try query(sql, values)
        return Int(sqlite3_changes(handle))
    }

    /// Runs one statement with bound values and returns every row.
    public func query(_ sql: String, _ values: [SQLValue] = []) throws -> [[SQLValue]] {
        var statement: OpaquePointer?
        try check(sqlite3_prepare_v2(handle, sql, -1, &statement, nil), "prepare")
        defer { sqlite3_finalize(statement) }
        for (offset, value) in values.enumerated() {
            let index = Int32(offset + 1)
            switch value {
            case let .integer(n): try check(sqlite3_bind_int64(statement, index, n), "bind")
            case let .text(s): try check(berth_sqlite_bind_text(statement, index, s, -1), "bind")
            case let .blob(b): try check(b.withUnsafeBytes { berth_sqlite_bind_blob(statement, index, $0.baseAddress, Int32($0.count)) }, "bind")
            case .null: try check(sqlite3_bind_null(statement, index), "bind")
            }
        }
        var rows: [[SQLValue]] = []
        while true {
            let rc = sqlite3_step(statement)
            if rc == SQLITE_DONE { return rows }
            guard rc == SQLITE_ROW else { try check(rc, "step"); return rows }
            let columns = sqlite3_column_count(statement)
            rows.append((0..<columns).map { column(statement!, $0) })
        }
    }

    private func column(_ statement: OpaquePointer, _ i: Int32) -> SQLValue {
        switch sqlite3_column_type(statement, i) {
        case SQLITE_INTEGER: return .integer(sqlite3_column_int64(statement, i))
        case SQLITE_TEXT: return .text(String(cString: sqlite3_column_text(statement, i)))
        case SQLITE_BLOB:
            let count = Int(sqlite3_column_bytes(statement, i))
            guard count > 0, let base = sqlite3_column_blob(statement, i) else { return .blob([]) }
            return .blob(Array(UnsafeRawBufferPointer(start: base, count: count)))
        default: return .null
        }
    }

    /// BEGIN IMMEDIATE … COMMIT around `body`, ROLLBACK if it throws.
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        try execute("BEGIN IMMEDIATE")
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }

    private func check(_ rc: Int32, _ stage: String) throws {
        guard rc == SQLITE_OK || rc == SQLITE_ROW || rc == SQLITE_DONE else {
            throw SQLiteError(code: rc, message: String(cString: sqlite3_errmsg(handle)), stage: stage)
        }
    }
}
