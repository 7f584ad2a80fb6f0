import BerthOCI

/// Where a task's process reads and writes: FIFO or file paths the client made, and/or
/// a log file the shim writes as JSON lines (`file:///path` in berthctl's --log-uri).
public struct TaskIO: Codable, Sendable, Equatable {
    public var stdin: String?
    public var stdout: String?
    public var stderr: String?
    public var terminal: Bool?
    public var logPath: String?
    public init(stdin: String? = nil, stdout: String? = nil, stderr: String? = nil, terminal: Bool? = nil, logPath: String? = nil) {
        self.stdin = stdin
        self.stdout = stdout
        self.stderr = stderr
        self.terminal = terminal
        self.logPath = logPath
    }
}

public struct CreateTaskRequest: Codable, Sendable, Equatable {
    public var namespace: String?
    public var containerID: String
    /// The root file system directory (until images and snapshots provide one).
    public var rootfs: String?
    public var io: TaskIO?
    public init(namespace: String? = nil, containerID: String, rootfs: String? = nil, io: TaskIO? = nil) {
        self.namespace = namespace
        self.containerID = containerID
        self.rootfs = rootfs
        self.io = io
    }
}

public struct TaskRequest: Codable, Sendable, Equatable {
    public var namespace: String?
    public var containerID: String
    public var execID: String?
    public init(namespace: String? = nil, containerID: String, execID: String? = nil) {
        self.namespace = namespace
        self.containerID = containerID
        self.execID = execID
    }
}

public struct KillTaskRequest: Codable, Sendable, Equatable {
    public var namespace: String?
    public var containerID: String
    public var execID: String?
    public var signal: Int32
    public var all: Bool?
    public init(namespace: String? = nil, containerID: String, execID: String? = nil, signal: Int32, all: Bool? = nil) {
        self.namespace = namespace
        self.containerID = containerID
        self.execID = execID
        self.signal = signal
        self.all = all
    }
}

public struct ExecTaskRequest: Codable, Sendable, Equatable {
    public var namespace: String?
    public var containerID: String
    public var execID: String
    public var process: Spec.Process
    public var io: TaskIO?
    public init(namespace: String? = nil, containerID: String, execID: String, process: Spec.Process, io: TaskIO? = nil) {
        self.namespace = namespace
        self.containerID = containerID
        self.execID = execID
        self.process = process
        self.io = io
    }
}

/// A task's process: `status` is created, running, paused, stopped or unknown (its shim
/// did not answer in time).
public struct TaskInfo: Codable, Sendable, Equatable {
    public var id: String
    public var execID: String?
    public var pid: Int32
    public var status: String
    public var exitStatus: Int32?
    public var exitedAt: String?
    public init(id: String, execID: String? = nil, pid: Int32, status: String, exitStatus: Int32? = nil, exitedAt: String? = nil) {
        self.id = id
        self.execID = execID
        self.pid = pid
        self.status = status
        self.exitStatus = exitStatus
        self.exitedAt = exitedAt
    }
}

public struct TaskPidResponse: Codable, Sendable, Equatable {
    public var pid: Int32
    public init(pid: Int32) { self.pid = pid }
}

public struct TaskResponse: Codable, Sendable, Equatable {
    public var task: TaskInfo
    public init(task: TaskInfo) { self.task = task }
}

public struct ListTasksResponse: Codable, Sendable, Equatable {
    public var tasks: [TaskInfo]
    public init(tasks: [TaskInfo]) { self.tasks = tasks }
}

public struct TaskExitResponse: Codable, Sendable, Equatable {
    public var pid: Int32
    public var exitStatus: Int32
    public var exitedAt: String
    public init(pid: Int32, exitStatus: Int32, exitedAt: String) {
        self.pid = pid
        self.exitStatus = exitStatus
        self.exitedAt = exitedAt
    }
}

public struct TaskPidsResponse: Codable, Sendable, Equatable {
    public var pids: [Int32]
    public init(pids: [Int32]) { self.pids = pids }
}

/// Params of `tasks.update`: new cgroup limits for the task.
public struct UpdateTaskRequest: Codable, Sendable, Equatable {
    public var namespace: String?
    public var containerID: String
    public var resources: Spec.Resources
    public init(namespace: String? = nil, containerID: String, resources: Spec.Resources) {
        self.namespace = namespace
        self.containerID = containerID
        self.resources = resources
    }
}

/// Params of `tasks.closeIO`.
public struct CloseIORequest: Codable, Sendable, Equatable {
    public var namespace: String?
    public var containerID: String
    public var execID: String?
    public var stdin: Bool
    public init(namespace: String? = nil, containerID: String, execID: String? = nil, stdin: Bool = true) {
        self.namespace = namespace
        self.containerID = containerID
        self.execID = execID
        self.stdin = stdin
    }
}

/// Params of `tasks.resizePty`.
public struct ResizePtyRequest: Codable, Sendable, Equatable {
    public var namespace: String?
    public var containerID: String
    public var execID: String?
    public var width: UInt32
    public var height: UInt32
    public init(namespace: String? = nil, containerID: String, execID: String? = nil, width: UInt32, height: UInt32) {
        self.namespace = namespace
        self.containerID = containerID
        self.execID = execID
        self.width = width
        self.height = height
    }
}

/// Result of `tasks.metrics`: the task's cgroup statistics as the shim reads them.
public struct TaskMetricsResponse: Codable, Sendable, Equatable {
    public var id: String
    public var metrics: AnyJSON
    public init(id: String, metrics: AnyJSON) {
        self.id = id
        self.metrics = metrics
    }
}
