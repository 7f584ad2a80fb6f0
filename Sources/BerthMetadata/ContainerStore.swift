#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import BerthAPI
import BerthSystem

/// Containers in the metadata store, one JSON record per (namespace, id). The id is
/// validated before anything is written; a second create of the same id fails with
/// `AlreadyExists` inside the same transaction, so concurrent creates have one winner.
public struct ContainerStore: Sendable {
    let db: Database
    let namespaces: NamespaceStore

    public init(_ db: Database) {
        self.db = db
        namespaces = NamespaceStore(db)
    }

    public func create(namespace: String, _ container: Container) throws -> Container {
        try Identifier.validate(container.id, what: "container id")
        try Labels.validate(container.labels)
        guard Container.Runtime.binary(of: container.runtime.name) != nil else {
            let names = Container.Runtime.known.map(\.name)
            let choices = names.dropLast().joined(separator: ", ") + " or " + names.last!
            throw BerthError.invalidArgument("unknown runtime \"\(container.runtime.name)\": use \(choices)")
        }
        try namespaces.ensure(namespace)
        var record = container
        let now = Timestamp.now()
        record.createdAt = now
        record.updatedAt = now
        do {
            _ = try db.withConnection { c in
                try c.run("INSERT INTO containers (namespace, id, record, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
                          [.text(namespace), .text(record.id), .text(try encode(record)), .text(now), .text(now)])
            }
        } catch let error as SQLiteError where error.isConstraint {
            throw BerthError.alreadyExists("container \"\(container.id)\" already exists in namespace \"\(namespace)\"")
        }
        return record
    }

    public func get(namespace: String, id: String) throws -> Container {
        try Identifier.validate(id, what: "container id")
        return try db.withConnection { try fetch(namespace, id, $0) }
    }

    public func list(namespace: String) throws -> [Container] {
        try db.withConnection { c in
            try c.query("SELECT record FROM containers WHERE namespace = ? ORDER BY id", [.text(namespace)]).map { try decode($0[0].text) }
        }
    }

    public func update(namespace: String, _ container: Container, mask: [String]?) throws -> Container {
        try Identifier.validate(container.id, what: "container id")
        return try db.transaction { c in
            var current = try fetch(namespace, container.id, c)
            let mask = mask ?? ["labels"]
            for path in mask {
                switch path {
                case "labels": current.labels = container.labels.filter { !$0.value.isEmpty }
                case "spec": current.spec = container.spec
                case "image": current.image = container.image
                default:
                    guard path.hasPrefix("labels."), path.count > 7 else {
                        throw BerthError.invalidArgument("cannot update \"\(path)\" of a container: use labels, labels.<key>, spec or image")
                    }
                    let key = String(path.dropFirst(7))
                    let value = container.labels[key] ?? ""
                    current.labels[key] = value.isEmpty ? nil : value
                }
            }
            try Labels.validate(current.labels)
            current.updatedAt = Timestamp.now()
            try c.run("UPDATE containers SET record = ?, updated_at = ? WHERE namespace = ? AND id = ?",
                      [.text(try encode(current)), .text(current.updatedAt!), .text(namespace), .text(current.id)])
            return current
        }
    }

    public func delete(namespace: String, id: String) throws {
        try Identifier.validate(id, what: "container id")
        let changed = try db.withConnection { c in
            try c.run("DELETE FROM containers WHERE namespace = ? AND id = ?", [.text(namespace), .text(id)])
        }
        if changed == 0 { throw BerthError.notFound("container \"\(id)\" not found in namespace \"\(namespace)\"") }
    }

    private func fetch(_ namespace: String, _ id: String, _ c: Connection) throws -> Container {
        guard let row = try c.query("SELECT record FROM containers WHERE namespace = ? AND id = ?", [.text(namespace), .text(id)]).first else {
            throw BerthError.notFound("container \"\(id)\" not found in namespace \"\(namespace)\"")
        }
        return try decode(row[0].text)
    }

    private func encode(_ container: Container) throws -> String {
        String(decoding: try WireJSON.encode(container), as: UTF8.self)
    }

    private func decode(_ text: String?) throws -> Container {
        try WireJSON.decode(Container.self, from: Array((text ?? "").utf8))
    }
}
