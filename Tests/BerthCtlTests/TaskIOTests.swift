import BerthAPI
import BerthOCI
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Terminals, stdin, metrics, updates and OOM events of tasks, for real.
@Suite("task terminals, stdin, metrics, update, oom", .serialized, .timeLimit(.minutes(3)))
struct TaskIOTests {
    func withRootfs(_ body: (TestDaemon, Scratch, String) async throws -> Void) async throws {
        try await withDaemon { daemon, scratch in
            defer { killTasks(state: daemon.state) }
            try await body(daemon, scratch, try makeBusyboxRootfs(in: scratch))
        }
    }

    @Test("run -t under a real pseudo-terminal: a tty, its size, typed input, the exit status")
    func terminal() async throws {
        try await withRootfs { daemon, scratch, rootfs in
            // python3's pty module plays the user at a 100x30 terminal.
            let script = try scratch.write("terminal_user.py", """
                import os, pty, fcntl, termios, struct, select, time, sys
                pid, fd = pty.fork()
                if pid == 0:
                    # The size is the terminal's before berthctl starts (and reads it).
                    fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
                    os.environ["BERTH_ADDRESS"] = sys.argv[1]
                    os.execv(sys.argv[2], ["berthctl", "run", "--rm", "-t", "--rootfs", sys.argv[3], "tty1",
                                           "sh", "-c", "tty; echo size=$(stty size); read line; echo got:$line; exit 5"])
                fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
                out = b""
                sent = False
                deadline = time.time() + 20
                while time.time() < deadline:
                    r, _, _ = select.select([fd], [], [], 0.2)
                    if r:
                        try:
                            d = os.read(fd, 4096)
                        except OSError:
                            break
                        if not d:
                            break
                        out += d
                    if not sent and b"size=" in out:
                        os.write(fd, b"hello\\r")
                        sent = True
                _, status = os.waitpid(pid, 0)
                sys.stdout.write(out.decode(errors="replace"))
                sys.exit(os.WEXITSTATUS(status))
                """)
            let result = try await runProgram("/usr/bin/python3", [script, daemon.address, Binaries.berthctl, rootfs])
            #expect(result.status == 5, "\(result)")
            #expect(result.stdout.contains("/dev/pts/0"), "\(result)")
            #expect(result.stdout.contains("size=30 100"), "\(result)")
            #expect(result.stdout.contains("got:hello"), "\(result)")
        }
    }

    /// Creates and starts container `id` running `args`, its stdin the FIFO `stdin`.
    static func start(_ client: BerthClient, _ id: String, _ args: [String], rootfs: String, stdin: String,
                      log: String? = nil) async throws {
        let spec = Spec.containerDefault(namespace: "default", id: id, args: args)
        try await client.call(API.containersCreate, CreateContainerRequest(container: Container(id: id, spec: spec)))
        try await client.call(API.tasksCreate, CreateTaskRequest(containerID: id, rootfs: rootfs, io: TaskIO(stdin: stdin, logPath: log)))
        try await client.call(API.tasksStart, TaskRequest(containerID: id))
    }

    @Test("closeIO ends the process's stdin: cat sees end of file")
    func closeIO() async throws {
        try await withRootfs { daemon, scratch, rootfs in
            let client = try await BerthClient.connect(to: daemon.address)
            defer { client.close() }
            let fifo = scratch("stdin")
            #expect(mkfifo(fifo, 0o600) == 0)
            let writer = open(fifo, O_RDWR)
            defer { close(writer) }
            let log = scratch("out.log")
            try await Self.start(client, "closeio", ["sh", "-c", "cat; exit 7"], rootfs: rootfs, stdin: fifo, log: log)
            _ = Array("typed\n".utf8).withUnsafeBytes { write(writer, $0.baseAddress, $0.count) }
            try await Task.sleep(for: .milliseconds(300))
            try await client.call(API.tasksCloseIO, CloseIORequest(containerID: "closeio"))
            let exit = try await client.call(API.tasksWait, TaskRequest(containerID: "closeio"), timeout: .seconds(10))
            #expect(exit.exitStatus == 7)
            #expect(try String(contentsOfFile: log, encoding: .utf8).contains("typed"))
        }
    }

    @Test("a closeIO stuck behind a stdin nobody reads does not hold up a kill")
    func closeIOStuckDoesNotBlockKill() async throws {
        try await withRootfs { daemon, scratch, rootfs in
            let client = try await BerthClient.connect(to: daemon.address)
            defer { client.close() }
            let fifo = scratch("stdin-full")
            #expect(mkfifo(fifo, 0o600) == 0)
            let writer = open(fifo, O_RDWR | O_NONBLOCK)
            defer { close(writer) }
            try await Self.start(client, "stdinfull", ["sleep", "600"], rootfs: rootfs, stdin: fifo)
            // Fill the FIFO and the container's stdin pipe: the shim's copier then blocks
            // in its write, and a closeIO waits for it.
            let chunk = [UInt8](repeating: 0x61, count: 65536)
            var stuck = 0
            for _ in 0..<64 where stuck < 3 {
                if chunk.withUnsafeBytes({ write(writer, $0.baseAddress, $0.count) }) < 0 { stuck += 1; try await Task.sleep(for: .milliseconds(50)) }
            }
            let closing = Task { try? await client.call(API.tasksCloseIO, CloseIORequest(containerID: "stdinfull"), timeout: .seconds(30)) }
            try await Task.sleep(for: .milliseconds(200))
            let started = ContinuousClock.now
            try await client.call(API.tasksKill, KillTaskRequest(containerID: "stdinfull", signal: SIGKILL), timeout: .seconds(5))
            let exit = try await client.call(API.tasksWait, TaskRequest(containerID: "stdinfull"), timeout: .seconds(5))
            #expect(exit.exitStatus == 137)
            #expect(ContinuousClock.now - started < .seconds(3))
            _ = await closing.value
            _ = try? await client.call(API.tasksDelete, TaskRequest(containerID: "stdinfull"))
        }
    }

    @Test("metrics report the task's cgroup; update changes its limits")
    func metricsAndUpdate() async throws {
        try await withRootfs { daemon, _, rootfs in
            #expect(try await berthctl("run", "-d", "--rootfs", rootfs, "m1", "sleep", "100", address: daemon.address).status == 0)
            let client = try await BerthClient.connect(to: daemon.address)
            defer { client.close() }
            let before = try await client.call(API.tasksMetrics, TaskRequest(containerID: "m1")).metrics
            guard case let .object(groups) = before, case let .object(pids)? = groups["pids"], let current = pids["current"] else {
                Issue.record("no pids group in \(before)")
                return
            }
            #expect(current == .unsigned(1) || current == .integer(1), "\(current)")
            var resources = Spec.Resources()
            resources.pids = Spec.Pids(limit: 42)
            try await client.call(API.tasksUpdate, UpdateTaskRequest(containerID: "m1", resources: resources))
            let after = try await berthctl("tasks", "metrics", "m1", address: daemon.address)
            #expect(after.stdout.contains("pids.limit            42"), "\(after)")
        }
    }

    @Test("a container killed by the OOM killer: /tasks/oom is published and it exits 137")
    func oom() async throws {
        try await withRootfs { daemon, _, rootfs in
            let run = try await berthctl("run", "--rm", "--memory-limit", "\(24 << 20)", "--rootfs", rootfs, "oom1",
                                         "sh", "-c", "head -c 200000000 /dev/zero | tail", address: daemon.address)
            #expect(run.status == 137, "\(run)")
            let client = try await BerthClient.connect(to: daemon.address)
            defer { client.close() }
            let subscription = try await client.subscribeEvents(filters: [#"topic~="^/tasks/(oom|exit)$""#], afterSeq: 0)
            var iterator = subscription.makeAsyncIterator()
            // The OOM is announced before the exit it caused (the stream replays both at once).
            let first = try await iterator.next()
            #expect(first?.topic == "/tasks/oom")
        }
    }
}
