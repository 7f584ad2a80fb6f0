import BerthOCI

/// The shim's task service (`task.*`), mirroring containerd's shim task API, and its
/// event stream. berthd is the shim's only client; proto-docs/shim.md documents it.
public enum ShimAPI {
    public static let connect = APIMethod<Empty, ShimConnectResponse>("task.connect")
    public static let create = APIMethod<ShimCreateRequest, ShimPidResponse>("task.create")
    public static let start = APIMethod<ShimProcessRequest, ShimPidResponse>("task.start")
    public static let state = APIMethod<ShimProcessRequest, ShimProcessState>("task.state")
    public static let kill = APIMethod<ShimKillRequest, Empty>("task.kill")
    public static let delete = APIMethod<ShimProcessRequest, ShimExitResponse>("task.delete")
    public static let wait = APIMethod<ShimProcessRequest, ShimExitResponse>("task.wait")
    public static let pids = APIMethod<ShimProcessRequest, ShimPidsResponse>("task.pids")
    public static let pause = APIMethod<ShimProcessRequest, Empty>("task.pause")
    public static let resume = APIMethod<ShimProcessRequest, Empty>("task.resume")
    public static let exec = APIMethod<ShimExecRequest, Empty>("task.exec")
    public static let shutdown = APIMethod<Empty, Empty>("task.shutdown")
    public static let subscribe = APIMethod<ShimSubscribeRequest, ShimSubscribeResponse>("events.subscribe")

    public static let all: [any AnyAPIMethod] = [
        connect, create, start, state, kill, delete, wait, pids, pause, resume, exec, shutdown, subscribe,
    ]
}

/// Which process of the task: the init (`execID` nil) or an exec'd one.
public struct ShimProcessRequest: Codable, Sendable, Equatable {
    public var execID: String?
    public init(execID: String? = nil) { self.execID = execID }
}

/// Where a process's stdio goes: FIFOs or files named by the client, and/or the shim's
/// own log file (JSON lines). Absent: /dev/null.
public struct ShimStdio: Codable, Sendable, Equatable {
    public var stdin: String?
    public var stdout: String?
    public var stderr: String?
    /// The shim writes stdout and stderr here as JSON lines `{"time","stream","log"}`.
    public var logPath: String?
    public var terminal: Bool?

    public init(stdin: String? = nil, stdout: String? = nil, stderr: String? = nil, logPath: String? = nil, terminal: Bool? = nil) {
        self.stdin = stdin
        self.stdout = stdout
        self.stderr = stderr
        self.logPath = logPath
        self.terminal = terminal
    }
}

public struct ShimCreateRequest: Codable, Sendable, Equatable {
    public var stdio: ShimStdio
    public init(stdio: ShimStdio) { self.stdio = stdio }
}

public struct ShimExecRequest: Codable, Sendable, Equatable {
    public var execID: String
    public var process: Spec.Process
    public var stdio: ShimStdio
    public init(execID: String, process: Spec.Process, stdio: ShimStdio) {
        self.execID = execID
        self.process = process
        self.stdio = stdio
    }
}

public struct ShimKillRequest: Codable, Sendable, Equatable {
    public var execID: String?
    public var signal: Int32
    public var all: Bool?
    public init(execID: String? = nil, signal: Int32, all: Bool? = nil) {
        self.execID = execID
        self.signal = signal
        self.all = all
    }
}

public struct ShimPidResponse: Codable, Sendable, Equatable {
    public var pid: Int32

    public init(pid: Int32) {
        self.pid = pid
    }
}

public struct ShimPidsResponse: Codable, Sendable, Equatable {
    public var pids: [Int32]

    public init(pids: [Int32]) {
        self.pids = pids
    }
}

/// A process's state: created, running, paused, stopped; exit status once stopped. The
/// shim answers `state` in the very shape berthd's `tasks.get` returns, so berthd passes
/// it on as it is.
public typealias ShimProcessState = TaskInfo

public struct ShimExitResponse: Codable, Sendable, Equatable {
    public var pid: Int32
    public var exitStatus: Int32
    public var exitedAt: String

    public init(pid: Int32, exitStatus: Int32, exitedAt: String) {
        self.pid = pid
        self.exitStatus = exitStatus
        self.exitedAt = exitedAt
    }
}

public struct ShimConnectResponse: Codable, Sendable, Equatable {
    public var shimPid: Int32
    public var taskPid: Int32
    public var version: String

    public init(shimPid: Int32, taskPid: Int32, version: String) {
        self.shimPid = shimPid
        self.taskPid = taskPid
        self.version = version
    }
}

/// Subscribe to the shim's events after `afterSeq` (0: from the start). Events then
/// arrive as `events.event` notifications `{seq, topic, payload}`.
public struct ShimSubscribeRequest: Codable, Sendable, Equatable {
    public var afterSeq: UInt64
    public init(afterSeq: UInt64 = 0) { self.afterSeq = afterSeq }
}

public struct ShimSubscribeResponse: Codable, Sendable, Equatable {
    /// The shim's newest seq at the time of subscribing.
    public var lastSeq: UInt64

    public init(lastSeq: UInt64) {
        self.lastSeq = lastSeq
    }
}

/// One event of a shim, in its own sequence.
public struct ShimEvent: Codable, Sendable, Equatable {
    public var seq: UInt64
    public var timestamp: String
    public var topic: String
    public var payload: ShimEventPayload

    public init(seq: UInt64, timestamp: String, topic: String, payload: ShimEventPayload) {
        self.seq = seq
        self.timestamp = timestamp
        self.topic = topic
        self.payload = payload
    }
}

/// The fields of the /tasks/* events a shim emits (containerd's TaskCreate, TaskStart,
/// TaskExit, TaskDelete, TaskExecAdded, TaskExecStarted, TaskPaused, TaskResumed, TaskOOM).
public struct ShimEventPayload: Codable, Sendable, Equatable {
    public var containerID: String
    public var execID: String?
    public var pid: Int32?
    public var exitStatus: Int32?
    public var exitedAt: String?

    public init(containerID: String, execID: String? = nil, pid: Int32? = nil, exitStatus: Int32? = nil, exitedAt: String? = nil) {
        self.containerID = containerID
        self.execID = execID
        self.pid = pid
        self.exitStatus = exitStatus
        self.exitedAt = exitedAt
    }
}

extension ShimAPI {
    public static let stats = APIMethod<ShimProcessRequest, ShimStatsResponse>("task.stats")
    public static let update = APIMethod<ShimUpdateRequest, Empty>("task.update")
    public static let closeIO = APIMethod<ShimCloseIORequest, Empty>("task.closeIO")
    public static let resizePty = APIMethod<ShimResizeRequest, Empty>("task.resizePty")
}

/// The task's cgroup statistics (BerthCgroups' `CgroupStats`, as JSON: CPU, memory,
/// pids, io and hugetlb groups, each absent where the host lacks the controller).
public struct ShimStatsResponse: Codable, Sendable, Equatable {
    public var stats: AnyJSON
    public init(stats: AnyJSON) { self.stats = stats }
}

/// New cgroup limits for a running task (OCI `linux.resources`).
public struct ShimUpdateRequest: Codable, Sendable, Equatable {
    public var resources: Spec.Resources
    public init(resources: Spec.Resources) { self.resources = resources }
}

/// Close a process's stdin (its end of file).
public struct ShimCloseIORequest: Codable, Sendable, Equatable {
    public var execID: String?
    public var stdin: Bool
    public init(execID: String? = nil, stdin: Bool = true) {
        self.execID = execID
        self.stdin = stdin
    }
}

/// Resize a process's terminal.
public struct ShimResizeRequest: Codable, Sendable, Equatable {
    public var execID: String?
    public var width: UInt32
    public var height: UInt32
    public init(execID: String? = nil, width: UInt32, height: UInt32) {
        self.execID = execID
        self.width = width
        self.height = height
    }
}
