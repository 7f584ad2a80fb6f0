/// The kind of a snapshot, as containerd's `snapshots.Kind`.
public enum SnapshotKind: String, Codable, Sendable, CaseIterable {
    /// Writable, mountable; becomes `committed` through `snapshots.commit`.
    case active
    /// Read-only and mountable; cannot be committed.
    case view
    /// Immutable; may be a parent; not mountable itself.
    case committed
}

/// What the store knows about one snapshot (containerd's `snapshots.Info`).
public struct SnapshotInfo: Codable, Sendable, Equatable {
    /// The key of an active or view snapshot, or the name of a committed one.
    public var name: String
    /// The name of the committed parent; absent for a base snapshot.
    public var parent: String?
    public var kind: SnapshotKind
    public var labels: [String: String]
    /// RFC 3339 with nanoseconds, UTC.
    public var createdAt: String
    public var updatedAt: String

    public init(name: String, parent: String? = nil, kind: SnapshotKind, labels: [String: String] = [:], createdAt: String, updatedAt: String) {
        self.name = name
        self.parent = parent
        self.kind = kind
        self.labels = labels
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    enum CodingKeys: String, CodingKey { case name, parent, kind, labels, createdAt, updatedAt }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        parent = try c.decodeIfPresent(String.self, forKey: .parent)
        kind = try c.decodeIfPresent(SnapshotKind.self, forKey: .kind) ?? .active
        labels = try c.decodeIfPresent([String: String].self, forKey: .labels) ?? [:]
        createdAt = try c.decodeIfPresent(String.self, forKey: .createdAt) ?? ""
        updatedAt = try c.decodeIfPresent(String.self, forKey: .updatedAt) ?? ""
    }
}

/// Disk used by one snapshot alone, its parents excluded (containerd's `snapshots.Usage`).
public struct SnapshotUsage: Codable, Sendable, Equatable {
    /// Bytes of disk (allocated blocks × 512).
    public var size: Int64
    /// Inodes (files, directories, links…), each hard-linked inode once.
    public var inodes: Int64

    public init(size: Int64 = 0, inodes: Int64 = 0) {
        self.size = size
        self.inodes = inodes
    }
}

/// Params of `snapshots.prepare` and `snapshots.view`.
public struct PrepareSnapshotRequest: Codable, Sendable, Equatable {
    public var snapshotter: String?
    public var namespace: String?
    public var key: String
    public var parent: String?
    public var labels: [String: String]?

    public init(snapshotter: String? = nil, namespace: String? = nil, key: String, parent: String? = nil, labels: [String: String]? = nil) {
        self.snapshotter = snapshotter
        self.namespace = namespace
        self.key = key
        self.parent = parent
        self.labels = labels
    }
}

/// Params of `snapshots.commit`.
public struct CommitSnapshotRequest: Codable, Sendable, Equatable {
    public var snapshotter: String?
    public var namespace: String?
    /// The committed snapshot's name.
    public var name: String
    /// The active snapshot to commit.
    public var key: String
    public var labels: [String: String]?

    public init(snapshotter: String? = nil, namespace: String? = nil, name: String, key: String, labels: [String: String]? = nil) {
        self.snapshotter = snapshotter
        self.namespace = namespace
        self.name = name
        self.key = key
        self.labels = labels
    }
}

/// Params of `snapshots.remove`, `stat`, `mounts` and `usage`.
public struct SnapshotKeyRequest: Codable, Sendable, Equatable {
    public var snapshotter: String?
    public var namespace: String?
    public var key: String

    public init(snapshotter: String? = nil, namespace: String? = nil, key: String) {
        self.snapshotter = snapshotter
        self.namespace = namespace
        self.key = key
    }
}

/// Params of `snapshots.update`: the snapshot (by `info.name`) and which fields to apply.
///
/// `updateMask` as in `namespaces.update`: `labels` replaces all labels,
/// `labels.<key>` sets or (empty value) removes one; absent replaces all labels.
public struct UpdateSnapshotRequest: Codable, Sendable, Equatable {
    public var snapshotter: String?
    public var namespace: String?
    public var info: SnapshotInfo
    public var updateMask: [String]?

    public init(snapshotter: String? = nil, namespace: String? = nil, info: SnapshotInfo, updateMask: [String]? = nil) {
        self.snapshotter = snapshotter
        self.namespace = namespace
        self.info = info
        self.updateMask = updateMask
    }
}

/// Params of `snapshots.list`: containerd filters (`kind==active`, `parent==x`,
/// `labels."k"==v`); several filters are OR-ed, `,` inside one is AND.
public struct ListSnapshotsRequest: Codable, Sendable, Equatable {
    public var snapshotter: String?
    public var namespace: String?
    public var filters: [String]?

    public init(snapshotter: String? = nil, namespace: String? = nil, filters: [String]? = nil) {
        self.snapshotter = snapshotter
        self.namespace = namespace
        self.filters = filters
    }
}

/// Params of `snapshots.cleanup`.
public struct CleanupSnapshotsRequest: Codable, Sendable, Equatable {
    public var snapshotter: String?

    public init(snapshotter: String? = nil) {
        self.snapshotter = snapshotter
    }
}

/// Result of `snapshots.prepare`, `view` and `mounts`.
public struct SnapshotMountsResponse: Codable, Sendable, Equatable {
    public var mounts: [Mount]

    public init(mounts: [Mount]) {
        self.mounts = mounts
    }
}

/// Result of `snapshots.stat` and `snapshots.update`.
public struct SnapshotInfoResponse: Codable, Sendable, Equatable {
    public var info: SnapshotInfo

    public init(info: SnapshotInfo) {
        self.info = info
    }
}

/// Result of `snapshots.list`, sorted by name.
public struct ListSnapshotsResponse: Codable, Sendable, Equatable {
    public var info: [SnapshotInfo]

    public init(info: [SnapshotInfo]) {
        self.info = info
    }
}

/// Result of `snapshots.cleanup`: the directories it removed.
public struct CleanupSnapshotsResponse: Codable, Sendable, Equatable {
    public var removed: [String]

    public init(removed: [String]) {
        self.removed = removed
    }
}

/// The snapshotter a call uses when it names none.
public enum Snapshots {
    public static let defaultSnapshotter = "overlayfs"
}
