/// A namespace: a name that scopes containers, images, snapshots and leases, with labels.
public struct Namespace: Codable, Sendable, Equatable {
    public var name: String
    public var labels: [String: String]

    public init(name: String, labels: [String: String] = [:]) {
        self.name = name
        self.labels = labels
    }

    enum CodingKeys: String, CodingKey { case name, labels }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        labels = try c.decodeIfPresent([String: String].self, forKey: .labels) ?? [:]
    }
}

/// Params of `namespaces.create`.
public struct CreateNamespaceRequest: Codable, Sendable, Equatable {
    public var name: String
    public var labels: [String: String]?

    public init(name: String, labels: [String: String]? = nil) {
        self.name = name
        self.labels = labels
    }
}

/// Params of `namespaces.get` and `namespaces.delete`.
public struct NamespaceNameRequest: Codable, Sendable, Equatable {
    public var name: String

    public init(name: String) {
        self.name = name
    }
}

/// Params of `namespaces.update`: the new namespace and which fields to apply.
///
/// `updateMask` entries, as containerd's field masks: `labels` replaces every label;
/// `labels.<key>` sets that one label (an empty value removes it). Without a mask, the
/// labels are replaced.
public struct UpdateNamespaceRequest: Codable, Sendable, Equatable {
    public var namespace: Namespace
    public var updateMask: [String]?

    public init(namespace: Namespace, updateMask: [String]? = nil) {
        self.namespace = namespace
        self.updateMask = updateMask
    }
}

/// Result of `namespaces.create`, `namespaces.get` and `namespaces.update`.
public struct NamespaceResponse: Codable, Sendable, Equatable {
    public var namespace: Namespace

    public init(namespace: Namespace) {
        self.namespace = namespace
    }
}

/// Result of `namespaces.list`, sorted by name.
public struct ListNamespacesResponse: Codable, Sendable, Equatable {
    public var namespaces: [Namespace]

    public init(namespaces: [Namespace]) {
        self.namespaces = namespaces
    }
}
