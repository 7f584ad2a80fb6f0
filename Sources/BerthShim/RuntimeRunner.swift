#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import BerthAPI
import BerthSystem
import CBerthLinux
#if canImport(Glibc)
import Glibc
#endif

/// Runs the OCI runtime's command line (berth-runtime, runc or crun) for the shim.
///
/// The runtime writes its errors to a `--log` file in JSON (as containerd's shim asks
/// runc to), because its stdio may be the container's; a failure is reported with the
/// runtime's last error message.
struct RuntimeRunner: Sendable {
    let runtime: String
    let root: String
    let logPath: String
    let reaper: Reaper

    /// Runs `runtime --root … --log … --log-format json ARGS` with the given stdio.
    func run(_ args: [String], stdin: Int32 = -1, stdout: Int32 = -1, stderr: Int32 = -1) async throws {
        let argv = [runtime, "--root", root, "--log", logPath, "--log-format", "json"] + args
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for (fd, target) in [(stdin, Int32(0)), (stdout, 1), (stderr, 2)] {
            if fd >= 0 {
                posix_spawn_file_actions_adddup2(&actions, fd, target)
            } else {
                posix_spawn_file_actions_addopen(&actions, target, "/dev/null", target == 0 ? O_RDONLY : O_WRONLY, 0)
            }
        }
        // The runtime (and so the container) inherits only its stdio.
        _ = berth_spawn_actions_closefrom(&actions, 3)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK))
        var pid: pid_t = 0
        let pointers = argv.map { strdup($0) } + [nil]
        defer { pointers.forEach { free($0) } }
        let rc = posix_spawn(&pid, runtime, &actions, &attributes, pointers, environ)
        guard rc == 0 else { throw BerthError.internal("cannot run \(runtime): \(SystemError(errno: rc, stage: "posix_spawn"))") }
        let status = await reaper.wait(for: pid)
        guard status == 0 else {
            let message = lastError() ?? "exited with status \(exitCode(fromWaitStatus: status))"
            throw BerthError(.failedPrecondition, "\(runtime.split(separator: "/").last.map(String.init) ?? runtime) \(args.first ?? ""): \(message)")
        }
    }

    /// The `msg` of the last error line in the runtime's JSON log.
    func lastError() -> String? {
        guard let bytes = try? FileSystem.readFile(logPath, limit: 8 << 20) else { return nil }
        struct Line: Decodable { var level: String?; var msg: String? }
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n").reversed() {
            if let entry = try? JSONDecoder().decode(Line.self, from: Data(line.utf8)), entry.level == "error", let msg = entry.msg {
                return msg
            }
        }
        return nil
    }
}
