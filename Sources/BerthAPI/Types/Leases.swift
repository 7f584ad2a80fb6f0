/// A lease: a garbage-collection root a client holds while it works (an import in
/// flight, a snapshot being prepared), with the resources it protects.
public struct Lease: Codable, Sendable, Equatable {
    public var id: String
    /// `containerd.io/gc.expire` (RFC 3339) ends the protection at that time.
    public var labels: [String: String]
    public var createdAt: String
    /// Filled by `leases.list`.
    public var resources: [LeaseResource]?

    public init(id: String, labels: [String: String] = [:], createdAt: String = "", resources: [LeaseResource]? = nil) {
        self.id = id
        self.labels = labels
        self.createdAt = createdAt
        self.resources = resources
    }

    enum CodingKeys: String, CodingKey { case id, labels, createdAt, resources }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        labels = try c.decodeIfPresent([String: String].self, forKey: .labels) ?? [:]
        createdAt = try c.decodeIfPresent(String.self, forKey: .createdAt) ?? ""
        resources = try c.decodeIfPresent([LeaseResource].self, forKey: .resources)
    }
}

/// A resource a lease protects: `type` is `content` (id a digest), `snapshots/<snapshotter>`
/// (id a snapshot key or name) or `ingests` (id an ingest ref), as in containerd.
public struct LeaseResource: Codable, Sendable, Equatable, Hashable {
    public var id: String
    public var type: String
    public init(id: String, type: String) {
        self.id = id
        self.type = type
    }
}

/// Params of `leases.create`; without `id` the daemon makes one.
public struct CreateLeaseRequest: Codable, Sendable, Equatable {
    public var namespace: String?
    public var id: String?
    public var labels: [String: String]?
    public init(namespace: String? = nil, id: String? = nil, labels: [String: String]? = nil) {
        self.namespace = namespace
        self.id = id
        self.labels = labels
    }
}

public struct LeaseResponse: Codable, Sendable, Equatable {
    public var lease: Lease
    public init(lease: Lease) { self.lease = lease }
}

/// Params of `leases.list`: filters `id==…`, `labels."k"==v` (ORed).
public struct ListLeasesRequest: Codable, Sendable, Equatable {
    public var namespace: String?
    public var filters: [String]?
    public init(namespace: String? = nil, filters: [String]? = nil) {
        self.namespace = namespace
        self.filters = filters
    }
}

public struct ListLeasesResponse: Codable, Sendable, Equatable {
    public var leases: [Lease]
    public init(leases: [Lease]) { self.leases = leases }
}

/// Params of `leases.delete`; `sync` runs garbage collection before answering.
public struct DeleteLeaseRequest: Codable, Sendable, Equatable {
    public var namespace: String?
    public var id: String
    public var sync: Bool?
    public init(namespace: String? = nil, id: String, sync: Bool? = nil) {
        self.namespace = namespace
        self.id = id
        self.sync = sync
    }
}

/// Params of `leases.addResource` and `leases.deleteResource`.
public struct LeaseResourceRequest: Codable, Sendable, Equatable {
    public var namespace: String?
    public var id: String
    public var resource: LeaseResource
    public init(namespace: String? = nil, id: String, resource: LeaseResource) {
        self.namespace = namespace
        self.id = id
        self.resource = resource
    }
}
