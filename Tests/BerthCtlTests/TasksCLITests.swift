import BerthAPI
import BerthOCI
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Containers and tasks end to end: berthd, its shims and berth-runtime, for real.
@Suite("berthctl run, containers and tasks", .serialized, .timeLimit(.minutes(5)))
struct TasksCLITests {
    @Test("run --rm: output on stdout and stderr, the container's exit status, nothing left")
    func runEchoesAndExits() async throws {
        try await withRunningDaemon { daemon, _, rootfs in
            let run = try await berthctl("run", "--rm", "--rootfs", rootfs, "c1", "sh", "-c", "echo hello; echo oops >&2; exit 3", address: daemon.address)
            #expect(run.status == 3, "\(run)")
            #expect(run.stdout == "hello\n", "\(run)")
            #expect(run.stderr == "oops\n", "\(run)")
            let ls = try await berthctl("containers", "ls", "-q", address: daemon.address)
            #expect(ls.stdout.isEmpty, "\(ls)")
            #expect(try await taskStatuses(daemon.address).isEmpty)
            let ok = try await berthctl("run", "--rm", "--rootfs", rootfs, "c2", "true", address: daemon.address)
            #expect(ok.status == 0, "\(ok)")
        }
    }

    @Test("detached run: ls, exec with its exit status, ps, pause and resume, kill, rm")
    func detachedLifecycle() async throws {
        try await withRunningDaemon { daemon, _, rootfs in
            let a = daemon.address
            let run = try await berthctl("run", "-d", "--rootfs", rootfs, "d1", "sleep", "100", address: a)
            #expect(run.status == 0, "\(run)")
            #expect(try await taskStatuses(a)["d1"] == "running")

            let exec = try await berthctl("tasks", "exec", "--exec-id", "e1", "d1", "sh", "-c", "echo in exec; exit 4", address: a)
            #expect(exec.status == 4, "\(exec)")
            #expect(exec.stdout == "in exec\n", "\(exec)")
            // An exec named like its container: its exit would read as the task's.
            let same = try await berthctl("tasks", "exec", "--exec-id", "d1", "d1", "true", address: a)
            #expect(same.status != 0 && same.stderr.contains("must differ from the container's id"), "\(same)")
            #expect(try await taskStatuses(a)["d1"] == "running")

            let ps = try await berthctl("tasks", "ps", "--format", "json", "d1", address: a)
            let pids = try JSONDecoder().decode([Int32].self, from: Data(ps.stdout.utf8))
            #expect(!pids.isEmpty, "\(ps)")

            #expect(try await berthctl("tasks", "pause", "d1", address: a).status == 0)
            #expect(try await taskStatuses(a)["d1"] == "paused")
            #expect(try await berthctl("tasks", "resume", "d1", address: a).status == 0)
            #expect(try await taskStatuses(a)["d1"] == "running")

            let busy = try await berthctl("containers", "rm", "d1", address: a)
            #expect(busy.status == 1 && busy.stderr.contains("has a task"), "\(busy)")
            let early = try await berthctl("tasks", "rm", "d1", address: a)
            #expect(early.status == 1 && early.stderr.contains("kill it"), "\(early)")

            #expect(try await berthctl("tasks", "kill", "-s", "KILL", "d1", address: a).status == 0)
            #expect(try await eventually { try await taskStatuses(a)["d1"] == "stopped" })
            let rm = try await berthctl("tasks", "rm", "d1", address: a)
            #expect(rm.stdout == "d1\t137\n", "\(rm)")
            #expect(try await berthctl("containers", "rm", "d1", address: a).status == 0)
            for pid in pids { #expect(kill(pid, 0) != 0, "process \(pid) outlived its task") }
        }
    }

    @Test("a detached task's output goes to its --log-uri file; tasks logs prints it")
    func logs() async throws {
        try await withRunningDaemon { daemon, scratch, rootfs in
            let log = scratch("task.log")
            let run = try await berthctl("run", "-d", "--log-uri", "file://" + log, "--rootfs", rootfs, "l1", "sh", "-c", "echo one; echo two >&2",
                                         address: daemon.address)
            #expect(run.status == 0, "\(run)")
            #expect(try await eventually { try await taskStatuses(daemon.address)["l1"] == "stopped" })
            let logs = try await berthctl("tasks", "logs", log, address: daemon.address)
            #expect(logs.stdout == "one\n", "\(logs)")
            #expect(logs.stderr == "two\n", "\(logs)")
        }
    }

    @Test("invalid container ids are refused before anything is created", arguments: ["../x", "a/b", "", String(repeating: "x", count: 77)])
    func invalidIDs(_ id: String) async throws {
        try await withRunningDaemon { daemon, _, rootfs in
            let run = try await berthctl("run", "--rm", "--rootfs", rootfs, id, "true", address: daemon.address)
            #expect(run.status == 1, "\(run)")
            #expect(run.stderr.contains("invalid") || run.stderr.contains("must not be empty") || run.stderr.contains("at most 76"), "\(run)")
            #expect(!FileManager.default.fileExists(atPath: daemon.state + "/tasks/default/x"))
            #expect(try await berthctl("containers", "ls", "-q", address: daemon.address).stdout.isEmpty)
        }
    }

    @Test("50 concurrent creates of one container id: exactly one wins, the rest get AlreadyExists")
    func concurrentCreates() async throws {
        try await withRunningDaemon { daemon, _, _ in
            let client = try await BerthClient.connect(to: daemon.address)
            defer { client.close() }
            let spec = try JSONDecoder().decode(Spec.self, from: Data(#"{"ociVersion":"1.2.0"}"#.utf8))
            let kinds = await withTaskGroup(of: ErrorKind?.self) { group in
                for _ in 0..<50 {
                    group.addTask {
                        do {
                            try await client.call(API.containersCreate, CreateContainerRequest(container: Container(id: "same", spec: spec)))
                            return nil
                        } catch let error as BerthError { return error.kind } catch { return .internal }
                    }
                }
                return await group.reduce(into: [ErrorKind?]()) { $0.append($1) }
            }
            #expect(kinds.filter { $0 == nil }.count == 1)
            #expect(kinds.filter { $0 == .alreadyExists }.count == 49)
        }
    }

    @Test("SIGKILL berthd with 10 tasks running: after a restart all are RUNNING again, exec and kill work")
    func daemonRestart() async throws {
        try await withRestartableDaemon { first, paths, rootfs in
            for i in 0..<10 {
                let run = try await berthctl("run", "-d", "--rootfs", rootfs, "r\(i)", "sleep", "100", address: paths.address)
                #expect(run.status == 0, "\(run)")
            }
            let quick = try await berthctl("run", "-d", "--rootfs", rootfs, "quick", "sh", "-c", "sleep 1; exit 7", address: paths.address)
            #expect(quick.status == 0, "\(quick)")
            first.kill() // SIGKILL
            try await Task.sleep(for: .seconds(2)) // "quick" exits while berthd is down

            let second = try TestDaemon.start(root: paths.root, state: paths.state, address: paths.address)
            defer { second.kill() }
            try await second.waitUntilServing()
            let restarted = ContinuousClock.now
            let allBack = try await eventually(.seconds(10)) {
                let statuses = try await taskStatuses(paths.address)
                return (0..<10).allSatisfy { statuses["r\($0)"] == "running" }
            }
            #expect(allBack)
            #expect(ContinuousClock.now - restarted < .seconds(3), "tasks took \(ContinuousClock.now - restarted) to come back")
            // The exit that happened while berthd was down is there, once.
            let statuses = try await taskStatuses(paths.address)
            #expect(statuses["quick"] == "stopped")
            let rm = try await berthctl("tasks", "rm", "quick", address: paths.address)
            #expect(rm.stdout == "quick\t7\n", "\(rm)")

            let exec = try await berthctl("tasks", "exec", "--exec-id", "after", "r0", "sh", "-c", "exit 9", address: paths.address)
            #expect(exec.status == 9, "\(exec)")
            #expect(try await berthctl("tasks", "kill", "-s", "KILL", "r1", address: paths.address).status == 0)
            #expect(try await eventually { try await taskStatuses(paths.address)["r1"] == "stopped" })
        }
    }

    @Test("SIGKILL a shim: its task is reported stopped and its processes do not stay running")
    func shimKilled() async throws {
        try await withRunningDaemon { daemon, _, rootfs in
            let run = try await berthctl("run", "-d", "--rootfs", rootfs, "k1", "sleep", "100", address: daemon.address)
            #expect(run.status == 0, "\(run)")
            let ps = try await berthctl("tasks", "ps", "--format", "json", "k1", address: daemon.address)
            let pids = try JSONDecoder().decode([Int32].self, from: Data(ps.stdout.utf8))
            let shim = try #require(shimPid(state: daemon.state, id: "k1"))
            kill(shim, SIGKILL)
            #expect(try await eventually { try await taskStatuses(daemon.address)["k1"] == "stopped" })
            #expect(await eventually { pids.allSatisfy { kill($0, 0) != 0 } }, "container processes outlived their shim")
            let rm = try await berthctl("tasks", "rm", "k1", address: daemon.address)
            #expect(rm.status == 0, "\(rm)")
        }
    }

    @Test("SIGSTOP a shim: calls on its task time out with DeadlineExceeded, other tasks are unaffected")
    func shimStopped() async throws {
        let config = "[api]\nshim_timeout_seconds = 1\n"
        let scratch = try Scratch()
        defer { scratch.remove() }
        let path = try scratch.write("config.toml", config)
        try await withRunningDaemon(arguments: ["--config", path]) { daemon, _, rootfs in
            for id in ["hung", "fine"] {
                #expect(try await berthctl("run", "-d", "--rootfs", rootfs, id, "sleep", "100", address: daemon.address).status == 0)
            }
            let shim = try #require(shimPid(state: daemon.state, id: "hung"))
            let cmdline = (try? String(contentsOfFile: "/proc/\(shim)/cmdline", encoding: .utf8)) ?? ""
            #expect(cmdline.contains("serve"), "pid \(shim) is not the serving shim: \(cmdline)")
            kill(shim, SIGSTOP)
            defer { kill(shim, SIGCONT) }
            // Stopped for real (state T) before the calls that must time out.
            #expect(await eventually {
                let stat = (try? String(contentsOfFile: "/proc/\(shim)/stat", encoding: .utf8)) ?? ""
                return stat.split(separator: " ").dropFirst(2).first == "T"
            })
            let client = try await BerthClient.connect(to: daemon.address)
            defer { client.close() }
            let error = await #expect(throws: BerthError.self) {
                try await client.call(API.tasksGet, TaskRequest(containerID: "hung"))
            }
            #expect(error?.kind == .deadlineExceeded)
            let start = ContinuousClock.now
            let fine = try await client.call(API.tasksGet, TaskRequest(containerID: "fine"))
            #expect(fine.task.status == "running")
            #expect(ContinuousClock.now - start < .milliseconds(500))
            let all = try await client.call(API.tasksList, NamespaceRequest())
            #expect(all.tasks.first { $0.id == "hung" }?.status == "unknown")
            #expect(all.tasks.first { $0.id == "fine" }?.status == "running")
        }
    }

    @Test("a container's own network namespace has its loopback up (as containerd's default spec promises)")
    func loopbackUp() async throws {
        try await withRunningDaemon { daemon, _, rootfs in
            let run = try await berthctl("run", "--rm", "--rootfs", rootfs, "lo1", "cat", "/sys/class/net/lo/flags", address: daemon.address)
            #expect(run.status == 0, "\(run)")
            // IFF_UP (0x1) | IFF_LOOPBACK (0x8); IFF_RUNNING is not in this sysfs file.
            #expect(run.stdout == "0x9\n", "\(run)")
        }
    }

    @Test("--runtime runc runs the same container with the same output and status")
    func runcRuntime() async throws {
        try await withRunningDaemon { daemon, _, rootfs in
            let berth = try await berthctl("run", "--rm", "--rootfs", rootfs, "b1", "sh", "-c", "id; hostname; exit 5", address: daemon.address)
            let runc = try await berthctl("run", "--rm", "--runtime", "runc", "--rootfs", rootfs, "b1", "sh", "-c", "id; hostname; exit 5", address: daemon.address)
            #expect(berth.status == 5 && runc.status == 5, "\(berth)\n\(runc)")
            #expect(berth.stdout == runc.stdout, "\(berth)\n\(runc)")
        }
    }
}

