/// The built-in event topics and their payloads (proto-docs/events.md).
///
/// Topics and payload fields mirror containerd's event messages (`api/events/*.proto`),
/// with camelCase JSON field names (`containerID` for containerd's `container_id`).
/// A service publishes through the typed topic, so topic and payload always agree:
///
/// ```swift
/// events.publish(EventTopics.tasksExit, namespace: ns,
///                TaskExitEvent(containerID: id, id: id, pid: pid, exitStatus: 0, exitedAt: Timestamp.now()))
/// ```
public struct EventTopic<Payload: Codable & Sendable>: Sendable, AnyEventTopic {
    public let name: String

    public init(_ name: String) {
        self.name = name
    }

    public func roundTripPayload(_ json: [UInt8]) throws -> [UInt8] {
        try WireJSON.encode(WireJSON.decode(Payload.self, from: json))
    }
}

/// A topic with its payload type erased, for tables of topics.
public protocol AnyEventTopic: Sendable {
    var name: String { get }
    /// Decodes `json` as the payload type and encodes it again (to check documentation).
    func roundTripPayload(_ json: [UInt8]) throws -> [UInt8]
}

/// Every topic Berth's own services publish (DESIGN.md §4).
public enum EventTopics {
    public static let tasksCreate = EventTopic<TaskCreateEvent>("/tasks/create")
    public static let tasksStart = EventTopic<TaskStartEvent>("/tasks/start")
    public static let tasksExit = EventTopic<TaskExitEvent>("/tasks/exit")
    public static let tasksOOM = EventTopic<TaskOOMEvent>("/tasks/oom")
    public static let tasksDelete = EventTopic<TaskDeleteEvent>("/tasks/delete")
    public static let tasksExecAdded = EventTopic<TaskExecAddedEvent>("/tasks/exec-added")
    public static let tasksExecStarted = EventTopic<TaskExecStartedEvent>("/tasks/exec-started")
    public static let tasksPaused = EventTopic<TaskPausedEvent>("/tasks/paused")
    public static let tasksResumed = EventTopic<TaskResumedEvent>("/tasks/resumed")

    public static let containersCreate = EventTopic<ContainerCreateEvent>("/containers/create")
    public static let containersUpdate = EventTopic<ContainerUpdateEvent>("/containers/update")
    public static let containersDelete = EventTopic<ContainerDeleteEvent>("/containers/delete")

    public static let imagesCreate = EventTopic<ImageCreateEvent>("/images/create")
    public static let imagesUpdate = EventTopic<ImageUpdateEvent>("/images/update")
    public static let imagesDelete = EventTopic<ImageDeleteEvent>("/images/delete")

    public static let contentCreate = EventTopic<ContentCreateEvent>("/content/create")
    public static let contentDelete = EventTopic<ContentDeleteEvent>("/content/delete")

    public static let snapshotPrepare = EventTopic<SnapshotPrepareEvent>("/snapshot/prepare")
    public static let snapshotCommit = EventTopic<SnapshotCommitEvent>("/snapshot/commit")
    public static let snapshotRemove = EventTopic<SnapshotRemoveEvent>("/snapshot/remove")

    public static let namespacesCreate = EventTopic<NamespaceCreateEvent>("/namespaces/create")
    public static let namespacesUpdate = EventTopic<NamespaceUpdateEvent>("/namespaces/update")
    public static let namespacesDelete = EventTopic<NamespaceDeleteEvent>("/namespaces/delete")

    public static let all: [any AnyEventTopic] = [
        tasksCreate, tasksStart, tasksExit, tasksOOM, tasksDelete, tasksExecAdded, tasksExecStarted, tasksPaused, tasksResumed,
        containersCreate, containersUpdate, containersDelete,
        imagesCreate, imagesUpdate, imagesDelete,
        contentCreate, contentDelete,
        snapshotPrepare, snapshotCommit, snapshotRemove,
        namespacesCreate, namespacesUpdate, namespacesDelete,
    ]

    /// The first path components reserved for Berth's own services: `events.publish`
    /// refuses topics under them, so an engine can never forge a built-in event.
    public static let reservedPrefixes: [String] = [
        "tasks", "containers", "images", "content", "snapshot", "snapshots", "namespaces", "leases", "events",
    ]
}

// MARK: - tasks (containerd events/task.proto)

/// `/tasks/create`: a task (the container's init process) was created, not yet started.
public struct TaskCreateEvent: Codable, Sendable, Equatable {
    /// The task's standard streams: FIFO paths, log URIs, or empty.
    public struct IO: Codable, Sendable, Equatable {
        public var stdin: String
        public var stdout: String
        public var stderr: String
        public var terminal: Bool

        public init(stdin: String = "", stdout: String = "", stderr: String = "", terminal: Bool = false) {
            self.stdin = stdin
            self.stdout = stdout
            self.stderr = stderr
            self.terminal = terminal
        }
    }

    public var containerID: String
    /// The OCI bundle directory.
    public var bundle: String
    public var rootfs: [Mount]
    public var io: IO
    /// The checkpoint the task was restored from; absent for a fresh start.
    public var checkpoint: String?
    public var pid: UInt32

    public init(containerID: String, bundle: String, rootfs: [Mount] = [], io: IO = IO(), checkpoint: String? = nil, pid: UInt32) {
        self.containerID = containerID
        self.bundle = bundle
        self.rootfs = rootfs
        self.io = io
        self.checkpoint = checkpoint
        self.pid = pid
    }
}

/// `/tasks/start`: the task's init process runs.
public struct TaskStartEvent: Codable, Sendable, Equatable {
    public var containerID: String
    public var pid: UInt32

    public init(containerID: String, pid: UInt32) {
        self.containerID = containerID
        self.pid = pid
    }
}

/// `/tasks/exit`: a process of the task exited (its init, `id` == `containerID`, or an
/// exec, `id` == the exec id). Published exactly once per process.
public struct TaskExitEvent: Codable, Sendable, Equatable {
    public var containerID: String
    /// The process: the container id for the init process, else the exec id.
    public var id: String
    public var pid: UInt32
    /// The exit code, or 128 + the signal number for a process killed by a signal.
    public var exitStatus: UInt32
    /// RFC 3339 with nanoseconds, UTC: when the shim reaped the process.
    public var exitedAt: String

    public init(containerID: String, id: String, pid: UInt32, exitStatus: UInt32, exitedAt: String) {
        self.containerID = containerID
        self.id = id
        self.pid = pid
        self.exitStatus = exitStatus
        self.exitedAt = exitedAt
    }
}

/// `/tasks/oom`: the task's cgroup hit its memory limit (an OOM kill happened).
public struct TaskOOMEvent: Codable, Sendable, Equatable {
    public var containerID: String

    public init(containerID: String) {
        self.containerID = containerID
    }
}

/// `/tasks/delete`: a task (or an exec, `id` == the exec id) was deleted after its exit.
public struct TaskDeleteEvent: Codable, Sendable, Equatable {
    public var containerID: String
    public var id: String
    public var pid: UInt32
    public var exitStatus: UInt32
    public var exitedAt: String

    public init(containerID: String, id: String, pid: UInt32, exitStatus: UInt32, exitedAt: String) {
        self.containerID = containerID
        self.id = id
        self.pid = pid
        self.exitStatus = exitStatus
        self.exitedAt = exitedAt
    }
}

/// `/tasks/exec-added`: an exec process was created in the task, not yet started.
public struct TaskExecAddedEvent: Codable, Sendable, Equatable {
    public var containerID: String
    public var execID: String

    public init(containerID: String, execID: String) {
        self.containerID = containerID
        self.execID = execID
    }
}

/// `/tasks/exec-started`: an exec process runs.
public struct TaskExecStartedEvent: Codable, Sendable, Equatable {
    public var containerID: String
    public var execID: String
    public var pid: UInt32

    public init(containerID: String, execID: String, pid: UInt32) {
        self.containerID = containerID
        self.execID = execID
        self.pid = pid
    }
}

/// `/tasks/paused`: the task's processes were frozen.
public struct TaskPausedEvent: Codable, Sendable, Equatable {
    public var containerID: String

    public init(containerID: String) {
        self.containerID = containerID
    }
}

/// `/tasks/resumed`: the task's processes were thawed.
public struct TaskResumedEvent: Codable, Sendable, Equatable {
    public var containerID: String

    public init(containerID: String) {
        self.containerID = containerID
    }
}

// MARK: - containers (containerd events/container.proto)

/// `/containers/create`: a container's metadata was created.
public struct ContainerCreateEvent: Codable, Sendable, Equatable {
    /// The runtime chosen for the container, with its options if any.
    public struct Runtime: Codable, Sendable, Equatable {
        public var name: String
        public var options: AnyJSON?

        public init(name: String, options: AnyJSON? = nil) {
            self.name = name
            self.options = options
        }
    }

    public var id: String
    public var image: String
    public var runtime: Runtime

    public init(id: String, image: String, runtime: Runtime) {
        self.id = id
        self.image = image
        self.runtime = runtime
    }
}

/// `/containers/update`: a container's metadata changed.
public struct ContainerUpdateEvent: Codable, Sendable, Equatable {
    public var id: String
    public var image: String
    public var labels: [String: String]
    public var snapshotKey: String

    public init(id: String, image: String, labels: [String: String] = [:], snapshotKey: String = "") {
        self.id = id
        self.image = image
        self.labels = labels
        self.snapshotKey = snapshotKey
    }
}

/// `/containers/delete`: a container's metadata was deleted.
public struct ContainerDeleteEvent: Codable, Sendable, Equatable {
    public var id: String

    public init(id: String) {
        self.id = id
    }
}

// MARK: - images (containerd events/image.proto)

/// `/images/create`: an image name was created (import, pull, tag).
public struct ImageCreateEvent: Codable, Sendable, Equatable {
    public var name: String
    public var labels: [String: String]

    public init(name: String, labels: [String: String] = [:]) {
        self.name = name
        self.labels = labels
    }
}

/// `/images/update`: an image name now points elsewhere or its labels changed.
public struct ImageUpdateEvent: Codable, Sendable, Equatable {
    public var name: String
    public var labels: [String: String]

    public init(name: String, labels: [String: String] = [:]) {
        self.name = name
        self.labels = labels
    }
}

/// `/images/delete`: an image name was deleted.
public struct ImageDeleteEvent: Codable, Sendable, Equatable {
    public var name: String

    public init(name: String) {
        self.name = name
    }
}

// MARK: - content (containerd events/content.proto)

/// `/content/create`: a blob was committed to the content store.
public struct ContentCreateEvent: Codable, Sendable, Equatable {
    /// `sha256:<hex>`.
    public var digest: String
    public var size: Int64

    public init(digest: String, size: Int64) {
        self.digest = digest
        self.size = size
    }
}

/// `/content/delete`: a blob was removed from the content store.
public struct ContentDeleteEvent: Codable, Sendable, Equatable {
    public var digest: String

    public init(digest: String) {
        self.digest = digest
    }
}

// MARK: - snapshots (containerd events/snapshot.proto)

/// `/snapshot/prepare`: an active snapshot was prepared on `parent` (empty: none).
public struct SnapshotPrepareEvent: Codable, Sendable, Equatable {
    public var key: String
    public var parent: String
    public var snapshotter: String

    public init(key: String, parent: String, snapshotter: String) {
        self.key = key
        self.parent = parent
        self.snapshotter = snapshotter
    }
}

/// `/snapshot/commit`: the active snapshot `key` was committed as `name`.
public struct SnapshotCommitEvent: Codable, Sendable, Equatable {
    public var key: String
    public var name: String
    public var snapshotter: String

    public init(key: String, name: String, snapshotter: String) {
        self.key = key
        self.name = name
        self.snapshotter = snapshotter
    }
}

/// `/snapshot/remove`: a snapshot was removed.
public struct SnapshotRemoveEvent: Codable, Sendable, Equatable {
    public var key: String
    public var snapshotter: String

    public init(key: String, snapshotter: String) {
        self.key = key
        self.snapshotter = snapshotter
    }
}

// MARK: - namespaces (containerd events/namespace.proto)

/// `/namespaces/create`: a namespace was created (the envelope's `namespace` is its name).
public struct NamespaceCreateEvent: Codable, Sendable, Equatable {
    public var name: String
    public var labels: [String: String]

    public init(name: String, labels: [String: String] = [:]) {
        self.name = name
        self.labels = labels
    }
}

/// `/namespaces/update`: a namespace's labels changed; `labels` are the new labels.
public struct NamespaceUpdateEvent: Codable, Sendable, Equatable {
    public var name: String
    public var labels: [String: String]

    public init(name: String, labels: [String: String] = [:]) {
        self.name = name
        self.labels = labels
    }
}

/// `/namespaces/delete`: a namespace was deleted.
public struct NamespaceDeleteEvent: Codable, Sendable, Equatable {
    public var name: String

    public init(name: String) {
        self.name = name
    }
}
