import ArgumentParser
import BerthAPI
import BerthOCI
#if canImport(Glibc)
import Glibc
#endif

struct TasksCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tasks", abstract: "Manage tasks (the running processes of containers).",
        subcommands: [Start.self, List.self, Kill.self, Ps.self, Exec.self, Pause.self, Resume.self, Remove.self, Logs.self, Metrics.self],
        aliases: ["task", "t"])

    struct Start: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "start", abstract: "Start a container's task (detached, output to a log).")
        @OptionGroup var globals: GlobalOptions
        @Option(help: "Root file system directory.") var rootfs: String
        @Option(help: "Where the output goes: file:///path.") var logURI: String?
        @Argument var id: String

        func run() async throws {
            let root = try absolute(rootfs)
            let namespace = globals.resolvedNamespace
            let io = TaskIO(logPath: try logURI.map(parseLogURI))
            _ = try await globals.withClient { client in
                try await client.call(API.tasksCreate, CreateTaskRequest(namespace: namespace, containerID: id, rootfs: root, io: io))
                return try await client.call(API.tasksStart, TaskRequest(namespace: namespace, containerID: id))
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "ls", abstract: "List tasks.", aliases: ["list"])
        @OptionGroup var globals: GlobalOptions

        func run() async throws {
            let tasks = try await globals.withClient { try await $0.call(API.tasksList, NamespaceRequest(namespace: globals.resolvedNamespace)).tasks }
            if globals.format == .json { return try printJSON(tasks) }
            printTable(["TASK", "PID", "STATUS"], tasks.map { [$0.id, "\($0.pid)", $0.status.uppercased()] })
        }
    }

    struct Kill: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "kill", abstract: "Signal a task (default SIGTERM).")
        @OptionGroup var globals: GlobalOptions
        @Option(name: .shortAndLong, help: "Signal name or number.") var signal = "SIGTERM"
        @Flag(help: "Signal every process of the task (-a is the global --address).") var all = false
        @Option(help: "Signal this exec'd process instead.") var execId: String?
        @Argument var id: String

        func run() async throws {
            let number = try parseSignal(signal)
            _ = try await globals.withClient {
                try await $0.call(API.tasksKill, KillTaskRequest(namespace: globals.resolvedNamespace, containerID: id, execID: execId, signal: number, all: all))
            }
        }
    }

    struct Ps: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "ps", abstract: "List a task's processes.")
        @OptionGroup var globals: GlobalOptions
        @Argument var id: String

        func run() async throws {
            let pids = try await globals.withClient { try await $0.call(API.tasksPids, TaskRequest(namespace: globals.resolvedNamespace, containerID: id)).pids }
            if globals.format == .json { return try printJSON(pids) }
            printTable(["PID"], pids.map { ["\($0)"] })
        }
    }

    struct Exec: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "exec", abstract: "Run a process in a task: --exec-id ID CONTAINER CMD...")
        @OptionGroup var globals: GlobalOptions
        @Option(help: "Id of the new process.") var execId: String
        @Option(name: [.short, .long], help: "Environment variable KEY=VALUE.") var env: [String] = []
        @Option(help: "Working directory.") var cwd: String?
        @Flag(name: .shortAndLong, help: "Return at once.") var detach = false
        @Argument var id: String
        @Argument(parsing: .captureForPassthrough) var args: [String]

        func run() async throws {
            let namespace = globals.resolvedNamespace
            let status: Int32 = try await globals.withClient { client in
                let container = try await client.call(API.containersGet, ContainerRequest(namespace: namespace, id: id)).container
                var process = container.spec.process ?? Spec.Process()
                process.args = args
                process.env = (process.env ?? []) + env
                if let cwd { process.cwd = cwd }
                let streams = detach ? nil : try OutputStreams()
                let io = TaskIO(stdout: streams?.stdoutPath, stderr: streams?.stderrPath)
                do {
                    try await client.call(API.tasksExec, ExecTaskRequest(namespace: namespace, containerID: id, execID: execId, process: process, io: io))
                } catch {
                    streams?.cancel()
                    throw error
                }
                guard let streams else { return 0 }
                streams.startCopying()
                let request = TaskRequest(namespace: namespace, containerID: id, execID: execId)
                let exit = try await client.call(API.tasksWait, request, timeout: .seconds(365 * 86400))
                streams.finish()
                _ = try? await client.call(API.tasksDelete, request)
                return exit.exitStatus
            }
            if status != 0 { throw ExitCode(status) }
        }
    }

    struct Pause: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "pause", abstract: "Freeze a task.")
        @OptionGroup var globals: GlobalOptions
        @Argument var id: String
        func run() async throws {
            _ = try await globals.withClient { try await $0.call(API.tasksPause, TaskRequest(namespace: globals.resolvedNamespace, containerID: id)) }
        }
    }

    struct Resume: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "resume", abstract: "Thaw a paused task.")
        @OptionGroup var globals: GlobalOptions
        @Argument var id: String
        func run() async throws {
            _ = try await globals.withClient { try await $0.call(API.tasksResume, TaskRequest(namespace: globals.resolvedNamespace, containerID: id)) }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "rm", abstract: "Delete stopped tasks, printing their exit status.", aliases: ["delete"])
        @OptionGroup var globals: GlobalOptions
        @Argument var ids: [String]

        func run() async throws {
            try await globals.forEachReportingFailures(ids) { client, id in
                let exit = try await client.call(API.tasksDelete, TaskRequest(namespace: globals.resolvedNamespace, containerID: id))
                print("\(id)\t\(exit.exitStatus)")
            }
        }
    }

    struct Logs: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "logs", abstract: "Print a task's log (a --log-uri file); -f follows it.")
        @OptionGroup var globals: GlobalOptions
        @Flag(name: .shortAndLong, help: "Keep printing as the log grows.") var follow = false
        @Argument var path: String

        func run() async throws {
            let file = path.hasPrefix("file://") ? try parseLogURI(path) : path
            let fd = open(file, O_RDONLY)
            guard fd >= 0 else { throw ValidationError("cannot open log \(file)") }
            defer { close(fd) }
            var pending: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if n > 0 {
                    pending += buffer[0..<n]
                    while let newline = pending.firstIndex(of: 0x0a) {
                        printLogLine(Array(pending[..<newline]))
                        pending.removeSubrange(...newline)
                    }
                } else if follow {
                    try await Task.sleep(for: .milliseconds(200))
                } else {
                    return
                }
            }
        }

        private func printLogLine(_ line: [UInt8]) {
            struct Entry: Decodable { let log: String; let stream: String }
            guard let entry = try? WireJSON.decode(Entry.self, from: line) else { return }
            let fd: Int32 = entry.stream == "stderr" ? 2 : 1
            var text = entry.log
            text.withUTF8 { _ = write(fd, $0.baseAddress, $0.count) }
        }
    }
}

extension TasksCommand {
    struct Metrics: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "metrics", abstract: "Show a task's cgroup statistics.")
        @OptionGroup var globals: GlobalOptions
        @Argument var id: String

        func run() async throws {
            let response = try await globals.withClient { try await $0.call(API.tasksMetrics, TaskRequest(namespace: globals.resolvedNamespace, containerID: id)) }
            if globals.format == .json { return try printJSON(response.metrics) }
            func number(_ path: String...) -> String {
                var value = response.metrics
                for key in path {
                    guard case let .object(fields) = value, let next = fields[key] else { return "-" }
                    value = next
                }
                switch value {
                case let .integer(n): return "\(n)"
                case let .unsigned(n): return "\(n)"
                case let .number(d): return "\(d)"
                default: return "-"
                }
            }
            printTable(["METRIC", "VALUE"], [
                ["cpu.usage_ns", number("cpu", "usageNanoseconds")],
                ["memory.usage_bytes", number("memory", "usage")],
                ["memory.limit_bytes", number("memory", "limit")],
                ["memory.oom_kills", number("memory", "oomKills")],
                ["pids.current", number("pids", "current")],
                ["pids.limit", number("pids", "limit")],
            ])
        }
    }
}

func parseSignal(_ text: String) throws -> Int32 {
    let names: [String: Int32] = ["HUP": 1, "INT": 2, "QUIT": 3, "KILL": 9, "USR1": 10, "USR2": 12, "TERM": 15, "CONT": 18, "STOP": 19]
    if let n = Int32(text), n > 0, n < 65 { return n }
    var name = text.uppercased()
    if name.hasPrefix("SIG") { name.removeFirst(3) }
    guard let n = names[name] else { throw ValidationError("unknown signal \(text)") }
    return n
}
