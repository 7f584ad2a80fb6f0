import BerthCgroups
import BerthOCI
import BerthSystem
import CBerthRuntime
#if canImport(Glibc)
import Glibc
#endif

extension StateStore {
    func cgroup(for state: SavedState) throws -> Cgroup {
        try Cgroup(path: state.cgroupsPath)
    }
}

extension Runtime {
    /// `start`: lets a created container's init exec the user's process.
    public func start(id: String) throws {
        try start(try store.load(id))
    }

    /// `start` of a container whose saved state is at hand (`run` has it from `create`).
    func start(_ saved: SavedState) throws {
        let id = saved.id
        let status = store.status(of: saved)
        guard status == "created" else { throw RuntimeError("cannot start a container that is \(status)") }
        let fifo = store.fifoPath(id)
        let fd = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw SystemError(errno: errno, stage: "open exec fifo") }
        defer { close(fd) }
        // The init writes one byte once it sees a reader; wait for it while it lives.
        var byte: UInt8 = 0
        while true {
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            _ = poll(&pfd, 1, 100)
            let n = read(fd, &byte, 1)
            if n == 1 { break }
            guard ProcessInfoReader.isAlive(pid: saved.pid, startTime: saved.startTime) else {
                throw RuntimeError("container init exited before start")
            }
        }
        unlink(fifo)
        guard let poststart = saved.hooks?.poststart, !poststart.isEmpty else { return }
        do {
            try Hooks.run(poststart, state: store.report(saved), stage: "poststart")
        } catch {
            // A failed poststart hook is reported; the container keeps running (runtime-spec).
            logWarning("\(error)")
        }
    }

    public func state(id: String) throws -> ContainerState {
        store.report(try store.load(id))
    }

    public func list() -> [ContainerState] {
        store.ids().compactMap { try? store.load($0) }.map(store.report)
    }

    /// `kill [--all] ID SIGNAL`: through a pidfd, so a recycled pid is never signalled.
    public func kill(id: String, signal: Int32, all: Bool) throws {
        let saved = try store.load(id)
        let status = store.status(of: saved)
        guard status != "stopped" else { throw RuntimeError("container \"\(id)\" is not running") }
        if all {
            try store.cgroup(for: saved).kill(signal: signal)
            return
        }
        let pidfd = berth_pidfd_open(saved.pid)
        try checkNegativeErrno(pidfd, "pidfd_open \(saved.pid)")
        defer { close(pidfd) }
        // The pidfd now pins this process: check it is still the recorded one.
        guard ProcessInfoReader.isAlive(pid: saved.pid, startTime: saved.startTime) else {
            throw RuntimeError("container \"\(id)\" is not running")
        }
        try checkNegativeErrno(berth_pidfd_send_signal(pidfd, signal), "kill \(saved.pid)")
    }

    /// `delete [--force]`: a stopped (or created) container's cgroup and state go;
    /// a running one only with force, after SIGKILL to all its processes.
    public func delete(id: String, force: Bool) throws {
        let saved: SavedState
        do {
            saved = try store.load(id)
        } catch {
            // --force of an unknown or half-created container succeeds, as runc's does,
            // taking any default cgroup a failed create left.
            guard force else { throw error }
            try StateStore.validate(id: id)
            if let cgroup = try? Cgroup(path: "/berth-runtime/\(id)"), cgroup.exists() {
                try? cgroup.kill(signal: SIGKILL)
                try? cgroup.remove()
            }
            if store.exists(id) { try removeTree(store.directory(id)) }
            return
        }
        try delete(saved, force: force)
    }

    /// `delete` of a container whose saved state is at hand (`run` has it from `create`).
    func delete(_ saved: SavedState, force: Bool) throws {
        let id = saved.id
        let status = store.status(of: saved)
        let cgroup = try? store.cgroup(for: saved)
        if status == "running" || status == "paused" {
            guard force else { throw RuntimeError("cannot delete container \"\(id)\" that is \(status): stop it or use --force") }
        }
        if status != "stopped" {
            if status == "paused" { try? cgroup?.thaw() }
            try? cgroup?.kill(signal: SIGKILL)
            Glibc.kill(saved.pid, SIGKILL)
            waitUntilGone(saved)
        }
        if let poststop = saved.hooks?.poststop, !poststop.isEmpty {
            var stateForHooks = store.report(saved)
            stateForHooks.status = "stopped"
            do {
                try Hooks.run(poststop, state: stateForHooks, stage: "poststop")
            } catch {
                logWarning("\(error)")
            }
        }
        try? cgroup?.remove()
        try removeTree(store.directory(id))
    }

    /// Waits until the init is gone (dead, or a zombie), 1 s at most: on its pidfd, which
    /// turns readable the moment it exits, else by looking every 2 ms.
    private func waitUntilGone(_ saved: SavedState) {
        let pidfd = berth_pidfd_open(saved.pid)
        if pidfd >= 0 {
            defer { close(pidfd) }
            // Opened after the pid could have been reused: it is the init's if the init
            // is still alive now.
            if ProcessInfoReader.isAlive(pid: saved.pid, startTime: saved.startTime) {
                var ready = pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0)
                _ = poll(&ready, 1, 1000)
            }
        }
        for _ in 0..<500 where ProcessInfoReader.isAlive(pid: saved.pid, startTime: saved.startTime) {
            var status: Int32 = 0
            _ = waitpid(saved.pid, &status, WNOHANG) // reap it if it is ours (run)
            usleep(2000)
        }
    }

    public func pause(id: String) throws {
        let saved = try store.load(id)
        guard store.status(of: saved) == "running" else { throw RuntimeError("container \"\(id)\" is not running") }
        try store.cgroup(for: saved).freeze()
    }

    public func resume(id: String) throws {
        let saved = try store.load(id)
        guard store.status(of: saved) == "paused" else { throw RuntimeError("container \"\(id)\" is not paused") }
        try store.cgroup(for: saved).thaw()
    }

    /// The pids of every process of the container (its cgroup).
    public func pids(id: String) throws -> [Int32] {
        let saved = try store.load(id)
        guard store.status(of: saved) != "stopped" else { return [] }
        return try store.cgroup(for: saved).pids().sorted()
    }
}

func logWarning(_ message: String) {
    writeStderr("berth-runtime: warning: \(message)\n")
}
