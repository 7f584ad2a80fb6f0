import BerthAPI
import Foundation
import Testing

extension ShimTests {
    /// A container's stdout, stderr and exit status, through the shim's log file and
    /// through FIFOs named by the client.
    @Suite("Output and exit status")
    struct OutputTests {
        static let script = ["sh", "-c", "echo out; echo err >&2; exit 3"]

        @Test("logPath: output as JSON lines per stream, exit status in task.wait and exit.json")
        func logFile() async throws {
            try await withShim(Self.script) { shim in
                let client = try await shim.connect()
                let log = shim.directory + "/c.log"
                let created = try await client.call(ShimAPI.create, ShimCreateRequest(stdio: ShimStdio(logPath: log)))
                #expect(created.pid > 0)
                try await client.call(ShimAPI.start, ShimProcessRequest())
                let exit = try await client.call(ShimAPI.wait, ShimProcessRequest())
                #expect(exit.exitStatus == 3)
                #expect(exit.pid == created.pid)

                // The exit is on disk the moment it is reported.
                let record = try #require(ExitRecord.read(from: shim.bundle), "no exit.json in the bundle")
                #expect(record.exitStatus == 3)
                #expect(record.pid == created.pid)

                // containerd guarantees the output is drained once delete returns.
                let deleted = try await client.call(ShimAPI.delete, ShimProcessRequest())
                #expect(deleted.exitStatus == 3)
                let lines = try readLog(log)
                #expect(lines.filter { $0.stream == "stdout" }.map(\.log).joined() == "out\n")
                #expect(lines.filter { $0.stream == "stderr" }.map(\.log).joined() == "err\n")
                #expect(lines.allSatisfy { $0.time.hasSuffix("Z") && $0.time.contains("T") })
            }
        }

        @Test("output still in the pipes at the exit is all in the log once delete answers (a slow stdout reader)")
        func outputIsDrainedByDelete() async throws {
            try await withShim(["sh", "-c", "yes 0123456789abcdef | head -c 2000000; echo"]) { shim in
                let client = try await shim.connect()
                let log = shim.directory + "/c.log"
                let fifo = try Fifo(shim.directory + "/out", side: .reader)
                try await client.call(ShimAPI.create, ShimCreateRequest(stdio: ShimStdio(stdout: fifo.path, logPath: log)))
                try await client.call(ShimAPI.start, ShimProcessRequest())
                // The FIFO is read at ~1.6 MB/s: the copier, which writes the log and then
                // the FIFO, is still ~100 KB behind when the container exits.
                let reader = Task {
                    var total = 0
                    var chunk = [UInt8](repeating: 0, count: 8192)
                    let deadline = ContinuousClock.now + .seconds(30)
                    while total < 2_000_001 && ContinuousClock.now < deadline {
                        let n = chunk.withUnsafeMutableBytes { read(fifo.fd, $0.baseAddress, $0.count) }
                        if n > 0 { total += n }
                        try? await Task.sleep(for: .milliseconds(5))
                    }
                    return total
                }
                #expect(try await client.call(ShimAPI.wait, ShimProcessRequest()).exitStatus == 0)
                try await client.call(ShimAPI.delete, ShimProcessRequest())
                // Read at once: nothing may still be on its way into the log.
                let stdout = logText(log, stream: "stdout")
                #expect(stdout.utf8.count == 2_000_001, "stdout in the log when delete answered: \(stdout.utf8.count) bytes")
                #expect(stdout.hasPrefix("0123456789abcdef\n0123456789abcdef\n"))
                #expect(await reader.value == 2_000_001)
            }
        }

        @Test("a log past 16 MiB is rotated to .1 once, and no output is lost")
        func logRotation() async throws {
            try await withShim(["sh", "-c", "yes 0123456789abcdef | head -c 18000000"]) { shim in
                let client = try await shim.connect()
                let log = shim.directory + "/c.log"
                try await client.call(ShimAPI.create, ShimCreateRequest(stdio: ShimStdio(logPath: log)))
                try await client.call(ShimAPI.start, ShimProcessRequest())
                #expect(try await client.call(ShimAPI.wait, ShimProcessRequest()).exitStatus == 0)
                try await client.call(ShimAPI.delete, ShimProcessRequest())
                let cap = 16 << 20
                let sizes = [log + ".1", log].map { (try? FileManager.default.attributesOfItem(atPath: $0)[.size] as? Int) ?? -1 }
                #expect(sizes[0] > cap - (64 << 10) && sizes[0] <= cap, "c.log.1: \(sizes[0]) bytes")
                #expect(sizes[1] > 0 && sizes[1] <= cap, "c.log: \(sizes[1]) bytes")
                #expect(!FileManager.default.fileExists(atPath: log + ".2"))
                let text = logText(log + ".1", stream: "stdout") + logText(log, stream: "stdout")
                #expect(text.utf8.count == 18_000_000, "stdout across the two files: \(text.utf8.count) bytes")
                #expect(text.hasPrefix("0123456789abcdef\n"))
            }
        }

        @Test("FIFO stdout and stderr: output arrives, and EOF once the container exits")
        func fifos() async throws {
            try await withShim(Self.script) { shim in
                let stdout = try Fifo(shim.directory + "/out", side: .reader)
                let stderr = try Fifo(shim.directory + "/err", side: .reader)
                let client = try await shim.connect()
                try await client.call(ShimAPI.create, ShimCreateRequest(stdio: ShimStdio(stdout: stdout.path, stderr: stderr.path)))
                try await client.call(ShimAPI.start, ShimProcessRequest())
                #expect(try await client.call(ShimAPI.wait, ShimProcessRequest()).exitStatus == 3)
                // Nobody but the container may hold a write end: its exit must give EOF.
                let out = await stdout.readToEnd(timeout: .seconds(5))
                let err = await stderr.readToEnd(timeout: .seconds(5))
                #expect(out.text == "out\n")
                #expect(err.text == "err\n")
                #expect(out.eof, "stdout FIFO: no EOF 5 s after the container exited (a write end is still open)")
                #expect(err.eof, "stderr FIFO: no EOF 5 s after the container exited (a write end is still open)")
                try await client.call(ShimAPI.delete, ShimProcessRequest())
            }
        }

        @Test("FIFO stdin: input reaches the container, and closing the writer ends its input")
        func stdinFifo() async throws {
            try await withShim(["sh", "-c", "cat; echo done"]) { shim in
                let stdin = try Fifo(shim.directory + "/in", side: .writer)
                let log = shim.directory + "/c.log"
                let client = try await shim.connect()
                let pid = try await client.call(ShimAPI.create, ShimCreateRequest(stdio: ShimStdio(stdin: stdin.path, logPath: log))).pid
                try await client.call(ShimAPI.start, ShimProcessRequest())
                stdin.write("hello\n")
                #expect(await eventually { logText(log).contains("hello") },
                        "the container's cat did not echo its input")
                // The client's end goes away, as when a `berthctl run` client exits:
                // `cat` must see EOF. (containerd copies the FIFO into a pipe and closes
                // it on EOF or task.closeIO.)
                stdin.close()
                let waited = await eventually(timeout: .seconds(5)) { logText(log).contains("done") }
                #expect(waited, "the container never saw EOF on stdin after the only client writer closed")
                if !waited { try await client.call(ShimAPI.kill, ShimKillRequest(signal: SIGKILL)) }
                do {
                    _ = try await client.call(ShimAPI.wait, ShimProcessRequest(), timeout: .seconds(10))
                } catch {
                    let state = try? await client.call(ShimAPI.state, ShimProcessRequest())
                    let seen = "task.wait after \(waited ? "the container's exit" : "SIGKILL"): \(error); state \(String(describing: state)), "
                        + "init alive: \(Procfs.isAlive(pid)), log: \(logText(log).debugDescription)"
                    Issue.record(Comment(rawValue: seen))
                }
            }
        }
    }
}
