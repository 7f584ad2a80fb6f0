import ArgumentParser
import BerthSystem
#if canImport(Glibc)
import Glibc
#endif

/// `berth-bench exit-cli`: kill → `/tasks/exit` latency the way an administrator sees
/// it, the same for `berthctl` and `ctr`: the subscriber is the CLI's `events` command
/// (a line on its standard output), the kill is either the CLI's `tasks kill` (a new
/// process each time, as a script would run it) or a direct `kill(2)` of the task's
/// process. Nothing here knows either daemon's API, so both sides pay the same costs.
struct ExitCLIBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exit-cli", abstract: "kill → /tasks/exit latency through berthctl or ctr.")

    enum CLI: String, ExpressibleByArgument { case berthctl, ctr }

    @Option(help: "berthctl or ctr.") var cli: CLI
    @Option(help: "The CLI's executable.") var binary: String
    @Option var address: String
    @Option(help: "ctr: the image to run (it must have sleep).") var image = ""
    @Option(help: "berthctl: a root file system directory with sleep.") var rootfs = ""
    @Option(help: "Kills per method.") var count = 50
    @Option(help: "Unmeasured kills per method first.") var warmup = 2
    @Option(help: "Pause between the start and the kill, in ms.") var settleMs = 20

    func run() throws {
        let filter = #"topic=="/tasks/exit""#
        let subscriber = try SpawnedProcess(command(["events", filter]), captureOutput: true)
        defer { subscriber.stop() }
        usleep(300_000) // the subscription is made before the first task starts
        var lines = LineReader(fd: subscriber.outputFD)
        for method in ["tasks kill", "kill(2)"] {
            var samples: [Double] = []
            for i in 0..<(warmup + count) {
                let id = "x\(getpid())\(method == "kill(2)" ? "d" : "t")\(i)"
                try runQuietly(startCommand(id))
                let pid = try initPID(id)
                usleep(UInt32(settleMs) * 1000)
                let start = now()
                var killer: SpawnedProcess?
                if method == "kill(2)" {
                    kill(pid, SIGKILL)
                } else {
                    killer = try SpawnedProcess(command(["tasks", "kill", "-s", "SIGKILL", id]), captureOutput: false, quiet: true)
                }
                while true {
                    guard let line = lines.next() else { throw BenchError("the events command ended") }
                    if line.contains("\"\(id)\"") { break } // quoted: x1t1 is not x1t10
                }
                let elapsed = now() - start
                _ = killer?.wait()
                if i >= warmup { samples.append(elapsed) }
                try? runQuietly(command(["tasks", "rm", id]))
                try? runQuietly(command(["containers", "rm", id]))
            }
            samples.sort()
            print("tasks.exit_latency_cli cli=\(cli.rawValue) via=\"\(method)\" settle_ms=\(settleMs) count=\(count) p50_ms=\(ms(pct(samples, 0.5))) p99_ms=\(ms(pct(samples, 0.99)))")
        }
    }

    private func command(_ words: [String]) -> [String] {
        [binary, "--address", address] + words
    }

    private func startCommand(_ id: String) -> [String] {
        switch cli {
        case .berthctl: command(["run", "-d", "--rootfs", rootfs, id, "sleep", "600"])
        case .ctr: command(["run", "-d", image, id, "sleep", "600"])
        }
    }

    /// The task's pid from `tasks ls` (both CLIs print `TASK PID STATUS`).
    private func initPID(_ id: String) throws -> Int32 {
        let output = try runQuietly(command(["tasks", "ls"]))
        for line in output.split(separator: "\n") {
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            if words.count >= 2, words[0] == id, let pid = Int32(words[1]) { return pid }
        }
        throw BenchError("task \(id) is not in tasks ls:\n\(output)")
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A child process (BerthSystem's `spawnProcess`), its standard output on a pipe or
/// /dev/null.
final class SpawnedProcess {
    let pid: pid_t
    let outputFD: Int32

    /// - Parameter quiet: standard error to /dev/null (ctr warns of every exit status 137).
    init(_ argv: [String], captureOutput: Bool, quiet: Bool = false) throws {
        var fds: [Int32] = [-1, -1]
        if captureOutput {
            guard pipe(&fds) == 0 else { throw BenchError("pipe: errno \(errno)") }
            for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        }
        defer { if captureOutput { close(fds[1]) } }
        let options = SpawnOptions(stdin: nil, stdout: captureOutput ? fds[1] : nil, stderr: quiet ? nil : 2)
        pid = try spawnProcess(argv[0], argv, options)
        outputFD = fds[0]
    }

    /// Waits for the exit; the exit status (or 128 + signal).
    func wait() -> Int32 {
        let status = waitForChild(pid)
        return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    }

    func stop() {
        kill(pid, SIGTERM)
        _ = wait()
        if outputFD >= 0 { close(outputFD) }
    }
}

/// Runs a command to its end; its standard output, or an error naming its exit status.
@discardableResult
func runQuietly(_ argv: [String]) throws -> String {
    let process = try SpawnedProcess(argv, captureOutput: true, quiet: true)
    var output: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
        let n = read(process.outputFD, &buffer, buffer.count)
        if n > 0 { output += buffer[0..<n] } else if n == 0 || errno != EINTR { break }
    }
    close(process.outputFD)
    let status = process.wait()
    guard status == 0 else { throw BenchError("\(argv.joined(separator: " ")): exit status \(status)") }
    return String(decoding: output, as: UTF8.self)
}

/// Lines from a file descriptor, read as they arrive.
struct LineReader {
    let fd: Int32
    private var pending: [UInt8] = []

    init(fd: Int32) { self.fd = fd }

    mutating func next() -> String? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            if let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: pending[..<newline], as: UTF8.self)
                pending.removeSubrange(...newline)
                return line
            }
            let n = read(fd, &buffer, buffer.count)
            if n > 0 { pending += buffer[0..<n] } else if n == 0 || errno != EINTR { return nil }
        }
    }
}

/// Microseconds as milliseconds with two decimals.
func ms(_ micros: Double) -> String {
    let hundredths = Int((micros / 10).rounded())
    return "\(hundredths / 100)." + (hundredths % 100 < 10 ? "0" : "") + "\(hundredths % 100)"
}
