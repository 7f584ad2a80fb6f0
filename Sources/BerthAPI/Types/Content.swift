/// What the content store knows about one blob in one namespace (containerd's
/// `content.Info`). The bytes are on disk under `content/blobs/sha256/<hex>`.
public struct ContentInfo: Codable, Sendable, Equatable {
    /// `sha256:<64 hex>`.
    public var digest: String
    public var size: Int64
    /// `containerd.io/gc.ref.content.*` labels make a blob keep others alive;
    /// `containerd.io/gc.root` makes it a root itself.
    public var labels: [String: String]
    /// RFC 3339 with nanoseconds, UTC.
    public var createdAt: String
    public var updatedAt: String

    public init(digest: String, size: Int64, labels: [String: String] = [:], createdAt: String = "", updatedAt: String = "") {
        self.digest = digest
        self.size = size
        self.labels = labels
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    enum CodingKeys: String, CodingKey { case digest, size, labels, createdAt, updatedAt }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        digest = try c.decode(String.self, forKey: .digest)
        size = try c.decodeIfPresent(Int64.self, forKey: .size) ?? 0
        labels = try c.decodeIfPresent([String: String].self, forKey: .labels) ?? [:]
        createdAt = try c.decodeIfPresent(String.self, forKey: .createdAt) ?? ""
        updatedAt = try c.decodeIfPresent(String.self, forKey: .updatedAt) ?? ""
    }
}

/// Params of `content.info` and `content.delete`.
public struct ContentDigestRequest: Codable, Sendable, Equatable {
    public var namespace: String?
    public var digest: String
    public init(namespace: String? = nil, digest: String) {
        self.namespace = namespace
        self.digest = digest
    }
}

/// Params of `content.list`: containerd's filters (`digest==…`, `size>…` is not
/// supported, `labels."k"==v`, `labels.k`); several filters are ORed.
public struct ListContentRequest: Codable, Sendable, Equatable {
    public var namespace: String?
    public var filters: [String]?
    public init(namespace: String? = nil, filters: [String]? = nil) {
        self.namespace = namespace
        self.filters = filters
    }
}

public struct ListContentResponse: Codable, Sendable, Equatable {
    public var infos: [ContentInfo]
    public init(infos: [ContentInfo]) { self.infos = infos }
}

public struct ContentInfoResponse: Codable, Sendable, Equatable {
    public var info: ContentInfo
    public init(info: ContentInfo) { self.info = info }
}

/// Params of `content.update`: only labels change; `updateMask` as `labels` or
/// `labels.<k>` (empty replaces all labels).
public struct UpdateContentRequest: Codable, Sendable, Equatable {
    public var namespace: String?
    public var info: ContentInfo
    public var updateMask: [String]?
    public init(namespace: String? = nil, info: ContentInfo, updateMask: [String]? = nil) {
        self.namespace = namespace
        self.info = info
        self.updateMask = updateMask
    }
}

/// The labels the garbage collector follows (containerd's names, so tools that set
/// them by hand keep working).
public enum GCLabels {
    /// Any value: the object is a root and never collected.
    public static let root = "containerd.io/gc.root"
    /// Prefix of labels whose value is a digest the object keeps alive
    /// (`containerd.io/gc.ref.content.l.0`, `…content.config`, `…content.m.0`).
    public static let contentRefPrefix = "containerd.io/gc.ref.content"
    /// Prefix of labels whose value is a snapshot the object keeps alive:
    /// `containerd.io/gc.ref.snapshot.<snapshotter>`.
    public static let snapshotRefPrefix = "containerd.io/gc.ref.snapshot."
    /// On a lease: an RFC 3339 time after which the lease no longer protects anything.
    public static let expire = "containerd.io/gc.expire"
}
