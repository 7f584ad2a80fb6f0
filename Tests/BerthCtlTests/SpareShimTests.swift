import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The spare shim: berthd keeps one shim started ahead of the next task, which takes it
/// instead of starting one (proto-docs/shim.md, "Spare shims").
@Suite("Spare shim", .serialized, .timeLimit(.minutes(3)))
struct SpareShimTests {
    /// The pids of the spares of the berthd whose state directory is `state`: processes
    /// whose command line is `berth-shim serve --spare <state>/s/…`.
    func spares(state: String) -> [Int32] {
        let prefix = Array("berth-shim\0serve\0--spare\0\(state)/s/".utf8)
        return ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { entry in
            guard let pid = Int32(entry), let cmdline = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return nil }
            return Array(cmdline).starts(with: prefix) ? pid : nil
        }
    }

    /// Whether berthd has connected to the spare: the spare removes its socket's name
    /// as it accepts that connection.
    func connected(_ pid: Int32) -> Bool {
        let words = commandLine(pid).split(separator: " ")
        guard words.count > 3, words[2] == "--spare" else { return false }
        return access(String(words[3]), F_OK) != 0
    }

    /// Waits until berthd holds its connection to the spare (it keeps the spare the
    /// moment the connection is up).
    func readyToAdopt(_ pid: Int32) async throws {
        #expect(await eventually { self.connected(pid) }, "berthd did not connect to its spare")
        try await Task.sleep(for: .milliseconds(50))
    }

    func commandLine(_ pid: Int32) -> String {
        let bytes = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") ?? Data()
        return String(decoding: bytes, as: UTF8.self).replacingOccurrences(of: "\0", with: " ").trimmingCharacters(in: .whitespaces)
    }

    /// Field 19 of /proc/<pid>/task/<tid>/stat, for every thread: the niceness.
    func niceness(_ pid: Int32) -> Set<Int> {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
        return Set(tasks.compactMap { tid in
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/task/\(tid)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return nil }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return fields.count > 16 ? Int(fields[16]) : nil
        })
    }

    func alive(_ pid: Int32) -> Bool { kill(pid, 0) == 0 }

    @Test("a spare waits at low priority; the next task takes it (socket, bootstrap, command line, priority) and a new spare follows")
    func theNextTaskTakesTheSpare() async throws {
        try await withRunningDaemon { daemon, _, rootfs in
            #expect(await eventually { self.spares(state: daemon.state).count == 1 }, "no spare shim after berthd started")
            let spare = try #require(spares(state: daemon.state).first)
            #expect(niceness(spare) == [19], "a waiting spare yields the CPU: \(niceness(spare))")
            try await readyToAdopt(spare)

            let run = try await berthctl("run", "-d", "--rootfs", rootfs, "took", "sleep", "100", address: daemon.address)
            #expect(run.status == 0, "\(run)")
            #expect(shimPid(state: daemon.state, id: "took") == spare, "the task's shim is the spare that waited")
            #expect(commandLine(spare).hasPrefix("berth-shim serve \(daemon.state)/tasks/default/took"), "ps: \(commandLine(spare))")
            #expect(niceness(spare) == [0], "an adopted shim runs at the normal priority: \(niceness(spare))")
            #expect(await eventually { self.spares(state: daemon.state).count == 1 && !self.spares(state: daemon.state).contains(spare) },
                    "no new spare after the old one was taken")

            // It is that task's shim in every way: exec, kill and delete go through it.
            let exec = try await berthctl("tasks", "exec", "--exec-id", "e1", "took", "sh", "-c", "echo from-exec", address: daemon.address)
            #expect(exec.status == 0 && exec.stdout == "from-exec\n", "\(exec)")
            #expect(try await berthctl("tasks", "kill", "-s", "KILL", "took", address: daemon.address).status == 0)
            #expect(try await eventually { try await taskStatuses(daemon.address)["took"] == "stopped" })
            #expect(try await berthctl("tasks", "rm", "took", address: daemon.address).status == 0)
            #expect(await eventually { !self.alive(spare) }, "the adopted shim exits after its task is deleted")
        }
    }

    @Test("a spare that died: the task gets a shim started for it, and a new spare follows")
    func aDeadSpareIsNotFatal() async throws {
        try await withRunningDaemon { daemon, _, rootfs in
            #expect(await eventually { self.spares(state: daemon.state).count == 1 })
            let spare = try #require(spares(state: daemon.state).first)
            kill(spare, SIGKILL)
            #expect(await eventually { !self.alive(spare) })
            let run = try await berthctl("run", "--rm", "--rootfs", rootfs, "after", "sh", "-c", "echo still-works", address: daemon.address)
            #expect(run.status == 0 && run.stdout == "still-works\n", "\(run)")
            #expect(await eventually { self.spares(state: daemon.state).count == 1 }, "no new spare")
        }
    }

    @Test("SIGKILL berthd: its spare exits; a restarted berthd finds the adopted shim's task and starts a new spare")
    func theSpareGoesWithItsDaemon() async throws {
        try await withRestartableDaemon { first, paths, rootfs in
            #expect(await eventually { self.spares(state: paths.state).count == 1 })
            let adopted = try #require(spares(state: paths.state).first)
            try await readyToAdopt(adopted)
            #expect(try await berthctl("run", "-d", "--rootfs", rootfs, "kept", "sleep", "100", address: paths.address).status == 0)
            #expect(shimPid(state: paths.state, id: "kept") == adopted)
            #expect(await eventually { self.spares(state: paths.state).count == 1 })
            let waiting = try #require(spares(state: paths.state).first)
            // Connected, so that its exit below comes from the connection closing (a spare
            // nobody connected to gives up after 10 s on its own).
            #expect(await eventually { self.connected(waiting) }, "berthd did not connect to its spare")

            first.kill() // SIGKILL
            #expect(await eventually(.seconds(5)) { !self.alive(waiting) }, "the spare outlived its berthd")
            #expect(alive(adopted), "the adopted shim keeps its task running")

            let second = try TestDaemon.start(root: paths.root, state: paths.state, address: paths.address)
            defer { second.kill() }
            try await second.waitUntilServing()
            #expect(try await eventually { try await taskStatuses(paths.address)["kept"] == "running" })
            #expect(await eventually { self.spares(state: paths.state).count == 1 }, "no spare after the restart")
            #expect(try await berthctl("tasks", "kill", "-s", "KILL", "kept", address: paths.address).status == 0)
            #expect(try await eventually { try await taskStatuses(paths.address)["kept"] == "stopped" })
            #expect(try await berthctl("tasks", "rm", "kept", address: paths.address).status == 0)
        }
    }

    @Test("[tasks] spare_shim = false: no spare is started, tasks run as before")
    func spareCanBeTurnedOff() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let config = try scratch.write("config.toml", "[tasks]\nspare_shim = false\n")
        try await withRunningDaemon(arguments: ["--config", config]) { daemon, _, rootfs in
            let run = try await berthctl("run", "--rm", "--rootfs", rootfs, "plain", "sh", "-c", "echo no-spare", address: daemon.address)
            #expect(run.status == 0 && run.stdout == "no-spare\n", "\(run)")
            try await Task.sleep(for: .milliseconds(300))
            #expect(spares(state: daemon.state).isEmpty, "a spare was started though spare_shim = false")
        }
    }
}
