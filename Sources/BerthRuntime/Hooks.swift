#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import BerthOCI
import BerthSystem
import CBerthRuntime
#if canImport(Glibc)
import Glibc
#endif

/// OCI hooks: each is run with the container's state JSON on stdin, its own args and
/// env, and killed when its timeout (seconds) passes. A failing hook fails the stage it
/// belongs to, except poststart and poststop, whose failures are only reported.
enum Hooks {
    static func run(_ hooks: [Spec.Hook]?, state: ContainerState, stage: String) throws {
        guard let hooks, !hooks.isEmpty else { return }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let input = Array(try encoder.encode(state))
        for (index, hook) in hooks.enumerated() {
            try runOne(hook, input: input, label: "\(stage) hook #\(index) (\(hook.path))")
        }
    }

    static func runOne(_ hook: Spec.Hook, input: [UInt8], label: String) throws {
        var pipeFDs: [Int32] = [0, 0]
        guard berth_pipe_cloexec(&pipeFDs) == 0 else { throw SystemError(errno: EMFILE, stage: "\(label): pipe") }
        var options = SpawnOptions(stdin: pipeFDs[0], stdout: 1, stderr: 2)
        options.environment = hook.env ?? []
        let pid: pid_t
        do {
            pid = try spawnProcess(hook.path, hook.args ?? [hook.path], options)
        } catch {
            close(pipeFDs[0])
            close(pipeFDs[1])
            throw RuntimeError("\(label): cannot start: \(error)")
        }
        close(pipeFDs[0])
        // A hook need not read its stdin: a closed pipe is EPIPE here, never SIGPIPE.
        let previous = signal(SIGPIPE, SIG_IGN)
        _ = input.withUnsafeBytes { write(pipeFDs[1], $0.baseAddress, $0.count) }
        signal(SIGPIPE, previous)
        close(pipeFDs[1])
        let deadline = hook.timeout.map { monotonicSeconds() + Double($0) }
        var status: Int32 = 0
        while true {
            let reaped = waitpid(pid, &status, WNOHANG)
            if reaped == pid { break }
            if reaped < 0 && errno != EINTR { throw SystemError(errno: errno, stage: "\(label): wait") }
            if let deadline, monotonicSeconds() > deadline {
                kill(pid, SIGKILL)
                waitpid(pid, &status, 0)
                throw RuntimeError("\(label) timed out after \(hook.timeout!)s")
            }
            usleep(1000)
        }
        if status != 0 { throw RuntimeError("\(label) failed: \(describeWaitStatus(status))") }
    }
}

func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}
