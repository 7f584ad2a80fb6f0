import ArgumentParser
import BerthOCI
import BerthRuntime
import BerthSystem
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// The flags `create` and `run` share.
struct CreateFlags: ParsableArguments {
    @Option(name: [.short, .long], help: "Path to the bundle (config.json and rootfs).") var bundle = "."
    @Option(help: "File to write the init's pid to.") var pidFile: String?
    @Option(help: "UNIX socket to send the pty master to (process.terminal).") var consoleSocket: String?
    @Option(help: "Pass N more fds (3…3+N-1) to the process.") var preserveFds: Int32 = 0
    @Flag(help: "Do not use pivot_root (MS_MOVE + chroot instead).") var noPivot = false
    @Flag(help: "Ignored; accepted for compatibility with runc.") var noNewKeyring = false

    var options: CreateOptions {
        CreateOptions(bundle: bundle, pidFile: pidFile, consoleSocket: consoleSocket, preserveFDs: preserveFds, noPivot: noPivot)
    }
}

struct Create: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Create a container (its init waits for start).")
    @ParentCommand var global: RuntimeCommand
    @OptionGroup var flags: CreateFlags
    @Argument var id: String

    func run() throws {
        try global.reporting { _ = try global.runtime.create(id: id, options: flags.options) }
    }
}

struct Start: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the user process of a created container.")
    @ParentCommand var global: RuntimeCommand
    @Argument var id: String
    func run() throws { try global.reporting { try global.runtime.start(id: id) } }
}

struct StateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "state", abstract: "Print a container's state as JSON.")
    @ParentCommand var global: RuntimeCommand
    @Argument var id: String
    func run() throws {
        let state = try global.reporting { try global.runtime.state(id: id) }
        try printJSON(state)
    }
}

struct Kill: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Send a signal (default SIGTERM) to a container's init.")
    @ParentCommand var global: RuntimeCommand
    @Flag(name: [.short, .long], help: "Signal every process in the container.") var all = false
    @Argument var id: String
    @Argument var signal = "SIGTERM"
    func run() throws {
        try global.reporting {
            try global.runtime.kill(id: id, signal: try SignalTable.parse(signal), all: all)
        }
    }
}

struct Delete: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Delete a stopped container (--force: any).")
    @ParentCommand var global: RuntimeCommand
    @Flag(name: [.short, .long], help: "Kill and delete a running container.") var force = false
    @Argument var id: String
    func run() throws { try global.reporting { try global.runtime.delete(id: id, force: force) } }
}

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Create and start a container; wait for it unless --detach.")
    @ParentCommand var global: RuntimeCommand
    @OptionGroup var flags: CreateFlags
    @Flag(name: [.short, .long], help: "Do not wait for the container.") var detach = false
    @Flag(help: "Ignored; accepted for compatibility with runc.") var keep = false
    @Argument var id: String
    func run() throws {
        let status = try global.reporting { try global.runtime.run(id: id, options: flags.options, detach: detach) }
        if status != 0 { throw ExitCode(status) }
    }
}

struct Exec: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run a process in a running container.")
    @ParentCommand var global: RuntimeCommand
    @Option(name: [.short, .long], help: "process.json (a runtime-spec Process).") var process: String?
    @Flag(name: [.short, .long], help: "Allocate a pty.") var tty = false
    @Option(help: "UNIX socket to send the pty master to.") var consoleSocket: String?
    @Option(help: "File to write the process's pid to.") var pidFile: String?
    @Flag(name: [.short, .long], help: "Do not wait for the process.") var detach = false
    @Option(name: [.short, .long], help: "Environment variable (KEY=VALUE).") var env: [String] = []
    @Option(help: "Working directory.") var cwd: String?
    @Option(name: [.short, .long], help: "uid[:gid].") var user: String?
    @Option(help: "Pass N more fds to the process.") var preserveFds: Int32 = 0
    @Argument var id: String
    @Argument(parsing: .captureForPassthrough) var args: [String] = []

    func run() throws {
        let status = try global.reporting { () throws -> Int32 in
            let runtime = global.runtime
            let fromFile = try process.map(Runtime.loadProcess)
            guard fromFile != nil || !args.isEmpty else { throw ValidationError("exec needs --process FILE or a command") }
            return try runtime.exec(id: id, process: { try fromFile ?? defaultProcess($0) }, pidFile: pidFile,
                                    consoleSocket: consoleSocket, preserveFDs: preserveFds, detach: detach)
        }
        if status != 0 { throw ExitCode(status) }
    }

    /// The container's own process with this exec's args, env, cwd, user and tty.
    private func defaultProcess(_ spec: Spec) throws -> Spec.Process {
        guard var process = spec.process else { throw RuntimeError("container \"\(id)\" has no process") }
        process.args = args
        process.env = (process.env ?? []) + env
        process.terminal = tty
        if let cwd { process.cwd = cwd }
        if let user {
            let parts = user.split(separator: ":")
            guard let uid = UInt32(parts[0]) else { throw ValidationError("--user must be uid[:gid]") }
            process.user = Spec.User(uid: uid, gid: parts.count > 1 ? UInt32(parts[1]) ?? 0 : 0)
        }
        return process
    }
}

struct Ps: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the processes of a container.")
    @ParentCommand var global: RuntimeCommand
    @Option(name: [.short, .long], help: "table or json.") var format = "table"
    @Argument var id: String
    @Argument(parsing: .captureForPassthrough, help: "Options for ps(1) (default -ef).") var psArgs: [String] = []

    func run() throws {
        let pids = try global.reporting { try global.runtime.pids(id: id) }
        if format == "json" { return try printJSON(pids) }
        try printProcessTable(pids: Set(pids), psArgs: psArgs.isEmpty ? ["-ef"] : psArgs)
    }
}

struct Pause: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Freeze every process of a container.")
    @ParentCommand var global: RuntimeCommand
    @Argument var id: String
    func run() throws { try global.reporting { try global.runtime.pause(id: id) } }
}

struct Resume: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Thaw a paused container.")
    @ParentCommand var global: RuntimeCommand
    @Argument var id: String
    func run() throws { try global.reporting { try global.runtime.resume(id: id) } }
}

struct List: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List containers.", aliases: ["ls"])
    @ParentCommand var global: RuntimeCommand
    @Option(name: [.short, .long], help: "table or json.") var format = "table"
    @Flag(name: [.short, .long], help: "Print only ids.") var quiet = false

    func run() throws {
        let states = global.runtime.list()
        if quiet { return states.forEach { print($0.id) } }
        if format == "json" { return try printJSON(states) }
        let rows = states.map { [$0.id, "\($0.pid)", $0.status, $0.bundle, $0.created, $0.owner] }
        printColumns(["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"], rows)
    }
}

struct FeaturesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "features", abstract: "Print the runtime's features as JSON.")
    func run() throws { try printJSON(Features()) }
}

struct SpecCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "spec", abstract: "Write a default config.json.")
    @Option(name: [.short, .long], help: "Directory to write config.json in.") var bundle = "."
    @Flag(help: "Ignored; accepted for compatibility with runc.") var rootless = false

    func run() throws {
        let path = bundle + "/config.json"
        if access(path, F_OK) == 0 {
            writeStderr("berth-runtime: File \(path) exists. Remove it first\n")
            throw ExitCode.failure
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let bytes = Array(try encoder.encode(Spec.runtimeDefault()))
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
        guard fd >= 0 else { throw ValidationError("cannot create \(path)") }
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
    }
}

func printJSON(_ value: some Encodable) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

func printColumns(_ header: [String], _ rows: [[String]]) {
    var widths = header.map(\.count)
    for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
    for row in [header] + rows {
        print(row.enumerated().map { i, c in i == row.count - 1 ? c : c + String(repeating: " ", count: widths[i] - c.count + 3) }.joined())
    }
}

/// Runs ps(1) and keeps the header and the lines of the container's pids, as runc does.
func printProcessTable(pids: Set<Int32>, psArgs: [String]) throws {
    var fds: [Int32] = [0, 0]
    guard pipe(&fds) == 0 else { throw ValidationError("pipe failed") }
    var options = SpawnOptions(stdout: fds[1], stderr: 2)
    options.searchPath = true
    let pid: pid_t
    do {
        pid = try spawnProcess("ps", ["ps"] + psArgs, options)
    } catch {
        close(fds[0])
        close(fds[1])
        throw ValidationError("cannot run ps: \(error)")
    }
    close(fds[1])
    var output: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = chunk.withUnsafeMutableBytes { read(fds[0], $0.baseAddress, $0.count) }
        if n <= 0 { break }
        output += chunk[0..<n]
    }
    close(fds[0])
    _ = waitForChild(pid)
    let lines = String(decoding: output, as: UTF8.self).split(separator: "\n")
    guard let header = lines.first else { return }
    let columns = header.split(separator: " ")
    guard let pidColumn = columns.firstIndex(of: "PID") else { throw ValidationError("ps output has no PID column") }
    print(header)
    for line in lines.dropFirst() {
        let fields = line.split(separator: " ")
        if fields.count > pidColumn, let p = Int32(fields[pidColumn]), pids.contains(p) { print(line) }
    }
}
