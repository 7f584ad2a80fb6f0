#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import BerthAPI
import BerthDigest
import BerthMetadata
import BerthOCI
import BerthSystem

/// Images in the metadata store: one row per (namespace, name) holding the target
/// descriptor. Only metadata: the documents and layers are in the content store and the
/// unpacked layers in a snapshotter.
public struct ImageStore: Sendable {
    let db: Database
    let namespaces: NamespaceStore

    public init(_ db: Database) {
        self.db = db
        namespaces = NamespaceStore(db)
    }

    /// Longest image name accepted (a reference is at most 4096 bytes too).
    public static let maxNameBytes = 4096

    /// Creates `image`, or with `replace` overwrites the image of that name (the import
    /// case: containerd's import updates an existing name). Returns the stored image and
    /// whether it was new.
    public func put(namespace: String, _ image: Image, replace: Bool) throws -> (image: Image, created: Bool) {
        try Self.validate(image)
        try namespaces.ensure(namespace)
        return try db.transaction { c in
            let now = Timestamp.now()
            var stored = image
            stored.updatedAt = now
            if let existing = try fetch(namespace, image.name, c) {
                guard replace else { throw BerthError.alreadyExists("image \"\(image.name)\" already exists in namespace \"\(namespace)\"") }
                stored.createdAt = existing.createdAt
                try c.run("UPDATE images SET target = ?, labels = ?, updated_at = ? WHERE namespace = ? AND name = ?",
                          [.text(try json(stored.target)), .text(try json(stored.labels)), .text(now), .text(namespace), .text(image.name)])
                return (stored, false)
            }
            stored.createdAt = now
            try c.run("INSERT INTO images (namespace, name, target, labels, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                      [.text(namespace), .text(image.name), .text(try json(stored.target)), .text(try json(stored.labels)), .text(now), .text(now)])
            return (stored, true)
        }
    }

    /// The image called `name`, or, failing that, the one called `name` normalized
    /// (`busybox` finds `docker.io/library/busybox:latest`).
    public func get(namespace: String, name: String) throws -> Image {
        try db.withConnection { c in
            for candidate in Self.candidates(name) {
                if let image = try fetch(namespace, candidate, c) { return image }
            }
            throw BerthError.notFound("image \"\(name)\" not found in namespace \"\(namespace)\"")
        }
    }

    /// `name` itself, then its normalized form when that differs.
    static func candidates(_ name: String) -> [String] {
        guard let normalized = try? ImageReference.normalize(name), normalized != name else { return [name] }
        return [name, normalized]
    }

    /// Every image of `namespace` sorted by name (`nil`: of every namespace, for GC).
    public func list(namespace: String?) throws -> [(namespace: String, image: Image)] {
        try db.withConnection { c in
            let rows = namespace == nil
                ? try c.query("SELECT namespace, name, target, labels, created_at, updated_at FROM images ORDER BY namespace, name")
                : try c.query("SELECT namespace, name, target, labels, created_at, updated_at FROM images WHERE namespace = ? ORDER BY name",
                              [.text(namespace!)])
            return try rows.map { (namespace: $0[0].text ?? "", image: try decode(Array($0.dropFirst()))) }
        }
    }

    /// Changes labels (`labels`, `labels.<k>`; an empty mask replaces them all).
    public func update(namespace: String, name: String, labels: [String: String], mask: [String]) throws -> Image {
        try db.transaction { c in
            // Found as `get` finds it: by its name, or by the name normalized.
            var found: Image?
            for candidate in Self.candidates(name) where found == nil { found = try fetch(namespace, candidate, c) }
            guard var current = found else {
                throw BerthError.notFound("image \"\(name)\" not found in namespace \"\(namespace)\"")
            }
            if mask.isEmpty || mask.contains("labels") {
                current.labels = labels.filter { !$0.value.isEmpty }
            } else {
                for path in mask {
                    guard path.hasPrefix("labels."), path.count > 7 else {
                        throw BerthError.invalidArgument("cannot update \"\(path)\" of an image: use labels or labels.<key>")
                    }
                    let key = String(path.dropFirst(7))
                    let value = labels[key] ?? ""
                    current.labels[key] = value.isEmpty ? nil : value
                }
            }
            try Labels.validate(current.labels)
            current.updatedAt = Timestamp.now()
            try c.run("UPDATE images SET labels = ?, updated_at = ? WHERE namespace = ? AND name = ?",
                      [.text(try json(current.labels)), .text(current.updatedAt), .text(namespace), .text(current.name)])
            return current
        }
    }

    /// Deletes the image `get` would find; returns its name.
    @discardableResult
    public func delete(namespace: String, name: String) throws -> String {
        try db.withConnection { c in
            for candidate in Self.candidates(name) {
                if try c.run("DELETE FROM images WHERE namespace = ? AND name = ?", [.text(namespace), .text(candidate)]) > 0 { return candidate }
            }
            throw BerthError.notFound("image \"\(name)\" not found in namespace \"\(namespace)\"")
        }
    }

    static func validate(_ image: Image) throws {
        guard !image.name.isEmpty, image.name.utf8.count <= maxNameBytes, !image.name.contains("\0") else {
            throw BerthError.invalidArgument("image name must be 1 to \(maxNameBytes) bytes without NUL")
        }
        guard Digest.isValid(image.target.digest) else {
            throw BerthError.invalidArgument("image \"\(image.name)\": target digest \"\(image.target.digest.prefix(80))\" is not sha256:<64 hex>")
        }
        guard image.target.size >= 0 else { throw BerthError.invalidArgument("image \"\(image.name)\": negative target size") }
        try Labels.validate(image.labels)
    }

    private func fetch(_ namespace: String, _ name: String, _ c: Connection) throws -> Image? {
        try c.query("SELECT name, target, labels, created_at, updated_at FROM images WHERE namespace = ? AND name = ?",
                    [.text(namespace), .text(name)]).first.map(decode)
    }

    private func decode(_ row: [SQLValue]) throws -> Image {
        Image(name: row[0].text ?? "",
              target: try WireJSON.decode(Descriptor.self, from: Array((row[1].text ?? "").utf8)),
              labels: try WireJSON.decode([String: String].self, from: Array((row[2].text ?? "{}").utf8)),
              createdAt: row[3].text ?? "", updatedAt: row[4].text ?? "")
    }

    private func json(_ value: some Encodable) throws -> String {
        String(decoding: try WireJSON.encode(value), as: UTF8.self)
    }
}
