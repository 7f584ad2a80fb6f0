import BerthCgroups
import BerthSystem
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// All cgroup tests, run one at a time: they share the host's hierarchies, and the
/// CPU, freezer and OOM tests would disturb each other's timing.
@Suite("cgroups", .serialized, .timeLimit(.minutes(2)))
enum CgroupTests {}

/// The parent of every test cgroup, in every hierarchy.
let testParent = "berth-cgroups-test"

/// A fresh cgroup for one test, and the processes the test put in it. `cleanup()`
/// kills them through the cgroup, reaps them and removes every directory, whatever
/// state the test left.
final class Fixture {
    let cgroup: Cgroup
    private(set) var members: [Process] = []

    init(root: String = "/sys/fs/cgroup", mode: CgroupMode? = nil, create: Bool = true) throws {
        let name = "\(testParent)/" + String(UInt64.random(in: 1...UInt64.max), radix: 16)
        cgroup = try Cgroup(path: name, root: root, mode: mode)
        if create { try cgroup.create() }
    }

    /// Starts `/bin/sh -c script`, puts it in the cgroup before it runs a line of the
    /// script (it first waits on a line from stdin), and lets it go.
    @discardableResult
    func start(_ script: String, addToCgroup: Bool = true, stdout: Pipe? = nil) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "read _; " + script]
        let stdin = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout ?? FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        // Foundation's Process hands the calling thread's signal mask to the child, and
        // the test runner's threads block most signals (SIGTERM among them): spawn with
        // an empty mask, as a runtime would give a container.
        var empty = sigset_t(), saved = sigset_t()
        sigemptyset(&empty)
        pthread_sigmask(SIG_SETMASK, &empty, &saved)
        defer { pthread_sigmask(SIG_SETMASK, &saved, nil) }
        try process.run()
        members.append(process)
        if addToCgroup { try cgroup.add(pid: process.processIdentifier) }
        stdin.fileHandleForWriting.write(Data("go\n".utf8))
        return process
    }

    func cleanup() {
        try? cgroup.thaw()
        try? cgroup.kill(signal: SIGKILL)
        for p in members where p.isRunning { Glibc.kill(p.processIdentifier, SIGKILL) }
        _ = waitUntil(seconds: 5) { ((try? self.cgroup.pids()) ?? []).isEmpty }
        for p in members { _ = waitForExit(p, seconds: 5) }
        try? cgroup.remove()
        for dir in cgroup.directories.values { rmdir(FileSystem.parentDirectory(of: dir)) }
    }
}

/// Polls `condition` every 10 ms until it holds or `seconds` pass.
func waitUntil(seconds: Double, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        usleep(10_000)
    }
    return condition()
}

func waitForExit(_ process: Process, seconds: Double) -> Bool {
    waitUntil(seconds: seconds) { !process.isRunning }
}

/// The one-letter state in /proc/<pid>/stat (R, S, D, Z, ...), nil when gone.
func processState(_ pid: Int32) -> Character? {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let paren = text.lastIndex(of: ")") else { return nil }
    return text[paren...].dropFirst(2).first
}

/// Dead: gone, or a zombie not yet reaped.
func isDead(_ pid: Int32) -> Bool {
    let state = processState(pid)
    return state == nil || state == "Z" || state == "X"
}

/// /proc/<pid>/cgroup as controllers → path ("" for the unified line).
func procCgroups(_ pid: Int32) -> [String: String] {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/cgroup", encoding: .utf8) else { return [:] }
    var out: [String: String] = [:]
    for line in text.split(separator: "\n") {
        let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
        if parts.count == 3 { out[String(parts[1])] = String(parts[2]) }
    }
    return out
}

func readText(_ path: String) -> String? {
    (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
}

/// Children of `pid` (from /proc/<pid>/task/*/children).
func childPids(_ pid: Int32) -> [Int32] {
    let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
    return tasks.flatMap { task in
        (readText("/proc/\(pid)/task/\(task)/children") ?? "").split(separator: " ").compactMap { Int32($0) }
    }
}

var isHybridHost: Bool { CgroupMode.detect() == .hybrid }
var unifiedControllers: Set<String> {
    Set((readText("/sys/fs/cgroup/unified/cgroup.controllers") ?? "").split(separator: " ").map(String.init))
}
