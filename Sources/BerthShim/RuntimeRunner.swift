import CBerthShim

/// Runs the OCI runtime's command line (berth-runtime, runc or crun) for the shim.
///
/// The runtime writes its errors to a `--log` file in JSON (as containerd's shim asks
/// runc to), because its stdio may be the container's; a failure is reported with the
/// runtime's last error message.
struct RuntimeRunner {
    let runtime: String
    let root: String
    let logPath: String
    let reaper: Reaper

    /// Runs `runtime --root … --log … --log-format json ARGS` with the given stdio and
    /// calls `done` on the loop when it has exited (nil: exit status 0).
    func run(_ args: [String], stdin: Int32 = -1, stdout: Int32 = -1, stderr: Int32 = -1,
             _ done: @escaping (ShimError?) -> Void) {
        let argv = [runtime, "--root", root, "--log", logPath, "--log-format", "json"] + args
        // Its error is in what the log gains from here (an older failure is not it).
        var st = stat()
        let logStart = stat(logPath, &st) == 0 ? Int(st.st_size) : 0
        let pid: Int32
        do throws(ShimError) {
            pid = try Sys.spawn(runtime, argv, stdin: stdin, stdout: stdout, stderr: stderr)
        } catch {
            return done(ShimError(.internal, "cannot run " + runtime + ": " + error.message))
        }
        let logPath = logPath
        let name = runtime.split(separator: "/").last.map { String($0) } ?? runtime
        reaper.forgetStale(pid)
        reaper.onExit(of: pid) { status in
            guard status != 0 else { return done(nil) }
            let message = RuntimeRunner.lastError(logPath, from: logStart) ?? "exited with status \(exitCode(fromWaitStatus: status))"
            done(ShimError(.failedPrecondition, name + " " + (args.first ?? "") + ": " + message))
        }
    }

    /// Runs ARGS with its stdout into `scratch` (a file of the bundle, removed after) and
    /// calls `done` with what it printed, parsed as JSON (`ps --format json`, `cgroup-stats`).
    func runPrintingJSON(_ args: [String], scratch: String, _ done: @escaping (Result<JSON, ShimError>) -> Void) {
        let fd = berth_shim_open(scratch, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return done(.failure(ShimError.system("open " + scratch, errno: -fd))) }
        run(args, stdout: fd) { error in
            _ = close(fd)
            defer { unlink(scratch) }
            if let error { return done(.failure(error)) }
            do throws(ShimError) {
                done(.success(try JSON.parse(try Sys.readFile(scratch, limit: 16 << 20))))
            } catch {
                done(.failure(error))
            }
        }
    }

    /// The `msg` of the last error line in the runtime's JSON log, after `offset`.
    static func lastError(_ logPath: String, from offset: Int) -> String? {
        guard let bytes = try? Sys.readFile(logPath, from: offset, limit: 1 << 20) else { return nil }
        for line in bytes.split(separator: 0x0a).reversed() {
            guard let entry = try? JSON.parse(Array(line)) else { continue }
            if entry["level"]?.string == "error", let msg = entry["msg"]?.string { return msg }
        }
        return nil
    }
}
