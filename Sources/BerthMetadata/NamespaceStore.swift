#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import BerthAPI
import BerthSystem
#if canImport(Glibc)
import Glibc
#endif

/// Namespaces in the metadata store. Names are validated before anything is written.
public struct NamespaceStore: Sendable {
    let db: Database

    public init(_ db: Database) {
        self.db = db
    }

    /// Labels with empty values are dropped: an empty value means "no such label"
    /// everywhere, as `update` removes a label set to "".
    public func create(_ name: String, labels: [String: String]) throws -> Namespace {
        let labels = labels.filter { !$0.value.isEmpty }
        try Identifier.validate(name, what: "namespace")
        try Labels.validate(labels)
        let now = Timestamp.now()
        do {
            _ = try db.withConnection { c in
                try c.run("INSERT INTO namespaces (name, labels, created_at, updated_at) VALUES (?, ?, ?, ?)",
                          [.text(name), .text(try encodeLabels(labels)), .text(now), .text(now)])
            }
        } catch let error as SQLiteError where error.isConstraint {
            throw BerthError.alreadyExists("namespace \"\(name)\" already exists")
        }
        return Namespace(name: name, labels: labels)
    }

    /// Creates the namespace if it is missing (objects created in a namespace make it
    /// exist, as in containerd).
    public func ensure(_ name: String) throws {
        try Identifier.validate(name, what: "namespace")
        let now = Timestamp.now()
        _ = try db.withConnection { c in
            try c.run("INSERT OR IGNORE INTO namespaces (name, labels, created_at, updated_at) VALUES (?, '{}', ?, ?)",
                      [.text(name), .text(now), .text(now)])
        }
    }

    public func get(_ name: String) throws -> Namespace {
        try Identifier.validate(name, what: "namespace")
        return try db.withConnection { try fetch(name, $0) }
    }

    public func list() throws -> [Namespace] {
        try db.withConnection { c in
            try c.query("SELECT name, labels FROM namespaces ORDER BY name").map { row in
                Namespace(name: row[0].text ?? "", labels: try decodeLabels(row[1].text))
            }
        }
    }

    /// Applies `namespace.labels` by `mask` (see `UpdateNamespaceRequest`).
    public func update(_ namespace: Namespace, mask: [String]?) throws -> Namespace {
        try Identifier.validate(namespace.name, what: "namespace")
        let mask = mask ?? []
        return try db.transaction { c in
            var current = try fetch(namespace.name, c)
            if mask.isEmpty || mask.contains("labels") {
                current.labels = namespace.labels.filter { !$0.value.isEmpty }
            }
            for path in mask where path != "labels" {
                guard path.hasPrefix("labels."), path.count > "labels.".count else {
                    throw BerthError.invalidArgument("cannot update \"\(path)\" of a namespace: only labels and labels.<key> may be updated")
                }
                let key = String(path.dropFirst("labels.".count))
                let value = namespace.labels[key] ?? ""
                current.labels[key] = value.isEmpty ? nil : value
            }
            try Labels.validate(current.labels)
            try c.run("UPDATE namespaces SET labels = ?, updated_at = ? WHERE name = ?",
                      [.text(try encodeLabels(current.labels)), .text(Timestamp.now()), .text(current.name)])
            return current
        }
    }

    /// Deletes an empty namespace. A namespace that still holds objects in any table
    /// with a `namespace` column fails with `FailedPrecondition`, naming what it holds.
    public func delete(_ name: String) throws {
        try Identifier.validate(name, what: "namespace")
        try db.transaction { c in
            _ = try fetch(name, c)
            var held: [String] = []
            for table in try namespacedTables(c) {
                let count = try c.query("SELECT count(*) FROM \"\(table)\" WHERE namespace = ?", [.text(name)]).first?.first?.integer ?? 0
                if count > 0 { held.append("\(count) in \(table)") }
            }
            if !held.isEmpty {
                throw BerthError.failedPrecondition("namespace \"\(name)\" must be empty to be deleted, but it holds objects: \(held.joined(separator: ", "))")
            }
            try c.run("DELETE FROM namespaces WHERE name = ?", [.text(name)])
        }
    }

    private func fetch(_ name: String, _ c: Connection) throws -> Namespace {
        guard let row = try c.query("SELECT name, labels FROM namespaces WHERE name = ?", [.text(name)]).first else {
            throw BerthError.notFound("namespace \"\(name)\" not found")
        }
        return Namespace(name: row[0].text ?? name, labels: try decodeLabels(row[1].text))
    }

    private func namespacedTables(_ c: Connection) throws -> [String] {
        try c.query("""
            SELECT m.name FROM sqlite_schema AS m JOIN pragma_table_info(m.name) AS p
            WHERE m.type = 'table' AND p.name = 'namespace' ORDER BY m.name
            """).compactMap { $0.first?.text }
    }
}

func encodeLabels(_ labels: [String: String]) throws -> String {
    String(decoding: try WireJSON.encode(labels), as: UTF8.self)
}

func decodeLabels(_ text: String?) throws -> [String: String] {
    guard let text, !text.isEmpty else { return [:] }
    return try WireJSON.decode([String: String].self, from: Array(text.utf8))
}

