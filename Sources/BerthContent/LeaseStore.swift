import BerthAPI
import BerthDigest
import BerthMetadata
import BerthSystem

/// Leases in the metadata store (containerd's leases manager): named garbage-collection
/// roots a client holds while it works, each protecting a set of resources (blobs,
/// snapshots, ingests) that nothing else refers to yet, such as the layers of an import
/// in flight before the image record exists.
///
/// A lease ends when it is deleted, or, with a `containerd.io/gc.expire` label (RFC
/// 3339), once that time has passed: `protectedResources` then leaves its resources out
/// and `expiredLeases` names it for the collector to delete. Leases never change after
/// creation except for their resources.
public struct LeaseStore: Sendable {
    let db: Database
    let namespaces: NamespaceStore

    public init(_ db: Database) {
        self.db = db
        namespaces = NamespaceStore(db)
    }

    /// Creates a lease. Without `id` one is generated (`<nanoseconds>-<12 hex>`, as
    /// containerd's `WithRandomID`). Creating a lease creates its namespace if missing.
    ///
    /// - Throws: `AlreadyExists` for a duplicate id; `InvalidArgument` for an id that is
    ///   not an identifier, bad labels, or a `containerd.io/gc.expire` that is not RFC 3339
    ///   (containerd accepts and ignores it; refusing tells the client its lease would
    ///   never expire).
    public func create(namespace: String, id: String? = nil, labels: [String: String] = [:]) throws -> Lease {
        let id = id ?? Self.generateID()
        try Identifier.validate(id, what: "lease id")
        let labels = labels.filter { !$0.value.isEmpty }
        try Labels.validate(labels)
        if let expire = labels[GCLabels.expire], RFC3339.seconds(expire) == nil {
            throw BerthError.invalidArgument("label \(GCLabels.expire)=\"\(expire)\" is not an RFC 3339 time")
        }
        try namespaces.ensure(namespace)
        let now = Timestamp.now()
        do {
            _ = try db.withConnection { c in
                try c.run("INSERT INTO leases (namespace, id, labels, created_at) VALUES (?, ?, ?, ?)",
                          [.text(namespace), .text(id), .text(try ContentStore.encode(labels)), .text(now)])
            }
        } catch let error as SQLiteError where error.isConstraint {
            throw BerthError.alreadyExists("lease \"\(id)\" already exists in namespace \"\(namespace)\"")
        }
        return Lease(id: id, labels: labels, createdAt: now, resources: [])
    }

    /// The leases of `namespace` matching any of `filters` (containerd's syntax; fields
    /// `id`, `labels.<key>`), by id, each with its resources. Expired leases are listed
    /// until the collector deletes them.
    public func list(namespace: String, filters: [String] = []) throws -> [Lease] {
        try Identifier.validate(namespace, what: "namespace")
        let filter = try ContentFilters.parse(filters)
        let leases = try db.withConnection { c in
            let resources = Dictionary(grouping: try c.query(
                "SELECT lease_id, type, resource_id FROM lease_resources WHERE namespace = ? ORDER BY type, resource_id", [.text(namespace)]),
                by: { $0[0].text ?? "" })
            return try c.query("SELECT id, labels, created_at FROM leases WHERE namespace = ? ORDER BY id", [.text(namespace)]).map { row in
                let id = row[0].text ?? ""
                return Lease(id: id, labels: try ContentStore.decode(row[1].text), createdAt: row[2].text ?? "",
                             resources: (resources[id] ?? []).map { LeaseResource(id: $0[2].text ?? "", type: $0[1].text ?? "") })
            }
        }
        return leases.filter { filter.matches(LeaseFields(lease: $0)) }
    }

    /// Deletes a lease and its resource list (not the resources: they are collectable
    /// once nothing else refers to them). `NotFound` when there is no such lease.
    public func delete(namespace: String, id: String) throws {
        try Identifier.validate(namespace, what: "namespace")
        try Identifier.validate(id, what: "lease id")
        let changed = try db.withConnection { c in
            try c.run("DELETE FROM leases WHERE namespace = ? AND id = ?", [.text(namespace), .text(id)])
        }
        if changed == 0 { throw Self.notFound(namespace, id) }
    }

    /// Adds a resource to a lease; adding one it already has is not an error.
    ///
    /// - Throws: `NotFound` without the lease; `InvalidArgument` for a type other than
    ///   `content` (id a digest), `snapshots/<snapshotter>` or `ingests`, or an empty id.
    public func addResource(namespace: String, id: String, resource: LeaseResource) throws {
        let resource = try Self.validate(resource)
        try Identifier.validate(namespace, what: "namespace")
        try db.transaction { c in
            try requireLease(c, namespace, id)
            try c.run("INSERT OR IGNORE INTO lease_resources (namespace, lease_id, type, resource_id) VALUES (?, ?, ?, ?)",
                      [.text(namespace), .text(id), .text(resource.type), .text(resource.id)])
        }
    }

    /// Removes a resource from a lease; removing one it does not have is not an error.
    /// Errors as `addResource`.
    public func deleteResource(namespace: String, id: String, resource: LeaseResource) throws {
        let resource = try Self.validate(resource)
        try Identifier.validate(namespace, what: "namespace")
        try db.transaction { c in
            try requireLease(c, namespace, id)
            try c.run("DELETE FROM lease_resources WHERE namespace = ? AND lease_id = ? AND type = ? AND resource_id = ?",
                      [.text(namespace), .text(id), .text(resource.type), .text(resource.id)])
        }
    }

    // MARK: for the garbage collector

    /// The resources that leases of `namespace` not yet expired at `now` (seconds since
    /// the epoch; default: the clock) protect.
    public func protectedResources(namespace: String, now: Int? = nil) throws -> Set<LeaseResource> {
        try allProtectedResources(now: now)[namespace] ?? []
    }

    /// `protectedResources` of every namespace at once, by namespace.
    public func allProtectedResources(now: Int? = nil) throws -> [String: Set<LeaseResource>] {
        let now = now ?? Files.now().seconds
        return try db.withConnection { c in
            let live = Set(try c.query("SELECT namespace, id, labels FROM leases").compactMap { row -> String? in
                let labels = try ContentStore.decode(row[2].text)
                return Self.isExpired(labels, now: now) ? nil : (row[0].text ?? "") + "/" + (row[1].text ?? "")
            })
            var out: [String: Set<LeaseResource>] = [:]
            for row in try c.query("SELECT namespace, lease_id, type, resource_id FROM lease_resources") {
                let namespace = row[0].text ?? ""
                guard live.contains(namespace + "/" + (row[1].text ?? "")) else { continue }
                out[namespace, default: []].insert(LeaseResource(id: row[3].text ?? "", type: row[2].text ?? ""))
            }
            return out
        }
    }

    /// Leases whose `containerd.io/gc.expire` is in the past at `now`: the collector
    /// deletes them, as containerd's does.
    public func expiredLeases(now: Int? = nil) throws -> [(namespace: String, id: String)] {
        let now = now ?? Files.now().seconds
        return try db.withConnection { c in
            try c.query("SELECT namespace, id, labels FROM leases ORDER BY namespace, id").compactMap { row in
                Self.isExpired(try ContentStore.decode(row[2].text), now: now) ? (row[0].text ?? "", row[1].text ?? "") : nil
            }
        }
    }

    /// Expired: the label parses and is at or before `now`. An unparsable one (only an
    /// older berthd or a direct database edit could store it) never expires, as in
    /// containerd.
    static func isExpired(_ labels: [String: String], now: Int) -> Bool {
        guard let text = labels[GCLabels.expire], let at = RFC3339.seconds(text) else { return false }
        return at <= now
    }

    // MARK: internals

    /// The resource as stored (a content id is a parsed digest), or `InvalidArgument`.
    static func validate(_ resource: LeaseResource) throws -> LeaseResource {
        if resource.id.isEmpty { throw BerthError.invalidArgument("lease resource id must not be empty") }
        switch resource.type {
        case "content":
            return LeaseResource(id: try ContentStore.parseDigest(resource.id, what: "content resource id").string, type: "content")
        case "ingests":
            try ContentStore.validate(ref: resource.id)
            return resource
        case let type where type.hasPrefix("snapshots/"):
            try Identifier.validate(String(type.dropFirst("snapshots/".count)), what: "snapshotter of lease resource type \"\(type)\"")
            return resource
        default:
            throw BerthError.invalidArgument("lease resource type \"\(resource.type)\" is not supported: use content, ingests or snapshots/<snapshotter>")
        }
    }

    private func requireLease(_ c: Connection, _ namespace: String, _ id: String) throws {
        try Identifier.validate(id, what: "lease id")
        if try c.query("SELECT 1 FROM leases WHERE namespace = ? AND id = ?", [.text(namespace), .text(id)]).isEmpty {
            throw Self.notFound(namespace, id)
        }
    }

    static func notFound(_ namespace: String, _ id: String) -> BerthError {
        .notFound("lease \"\(id)\" not found in namespace \"\(namespace)\"")
    }

    static func generateID() -> String {
        let now = Files.now()
        let random = (0..<6).map { _ in UInt8.random(in: 0...255) }
        let hex = random.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
        return "\(now.nanoseconds)-\(hex)"
    }
}
