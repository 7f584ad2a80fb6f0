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
        let pid: pid_t
        do {
            pid = try spawnProcess(runtime, argv, SpawnOptions(
                stdin: stdin >= 0 ? stdin : nil, stdout: stdout >= 0 ? stdout : nil, stderr: stderr >= 0 ? stderr : nil))
        } catch {
            throw BerthError.internal("cannot run \(runtime): \(error)")
        }
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
