#if canImport(Glibc)
import Glibc
#endif
import BerthSystem

// Freezing, thawing and signalling the whole group.
extension Cgroup {
    /// How long `freeze()` waits for every task to stop before giving up.
    static let freezeTimeoutMilliseconds = 10_000

    /// Where freezing happens: the v1 freezer when mounted, else the unified
    /// hierarchy's `cgroup.freeze`.
    enum Freezer {
        case v1(String)
        case v2(String)
    }

    var freezer: Freezer? {
        if let h = v1.first(where: { $0.controllers.contains("freezer") }) { return .v1(h.directory) }
        if let unified, CgroupFile.exists(unified.directory, "cgroup.freeze") { return .v2(unified.directory) }
        return nil
    }

    func requireFreezer(_ what: String) throws -> Freezer {
        if let freezer { return freezer }
        throw SystemError(errno: ENOTSUP, stage: "\(what) \(path): no freezer (v1 freezer mount or cgroup.freeze) under \(root)")
    }

    /// Stops every task in the cgroup and returns once all are stopped.
    ///
    /// v1: writes `FROZEN` to `freezer.state` until it reads back `FROZEN` (a task
    /// forking at that instant can leave it `FREEZING`; writing again catches it).
    /// v2: writes 1 to `cgroup.freeze` and waits for `frozen 1` in `cgroup.events`.
    /// Freezing a frozen cgroup is not an error.
    /// - Throws: `ETIMEDOUT` after ten seconds, having thawed the cgroup again.
    public func freeze() throws {
        let deadline = monotonicMilliseconds() + Cgroup.freezeTimeoutMilliseconds
        var delay = 1
        switch try requireFreezer("freeze") {
        case .v1(let dir):
            while true {
                try CgroupFile.write(dir, "freezer.state", "FROZEN")
                if try CgroupFile.read(dir, "freezer.state").trimmingWhitespace == "FROZEN" { return }
                if monotonicMilliseconds() > deadline {
                    try? CgroupFile.write(dir, "freezer.state", "THAWED")
                    throw SystemError(errno: ETIMEDOUT, stage: "freeze \(dir): freezer.state stayed FREEZING")
                }
                sleep(milliseconds: delay)
                delay = min(delay * 2, 10)
            }
        case .v2(let dir):
            try CgroupFile.write(dir, "cgroup.freeze", "1")
            while try !Cgroup.v2Frozen(dir) {
                if monotonicMilliseconds() > deadline {
                    try? CgroupFile.write(dir, "cgroup.freeze", "0")
                    throw SystemError(errno: ETIMEDOUT, stage: "freeze \(dir): cgroup.events never showed frozen 1")
                }
                sleep(milliseconds: delay)
                delay = min(delay * 2, 10)
            }
        }
    }

    /// Lets every task run again. Thawing a cgroup that is not frozen is not an error.
    public func thaw() throws {
        switch try requireFreezer("thaw") {
        case .v1(let dir):
            try CgroupFile.write(dir, "freezer.state", "THAWED")
        case .v2(let dir):
            try CgroupFile.write(dir, "cgroup.freeze", "0")
        }
    }

    /// Whether the cgroup is completely frozen (v1 `FROZEN`; v2 `frozen 1`). A cgroup
    /// still freezing, without a freezer, or gone reads as not frozen.
    public var isFrozen: Bool {
        switch freezer {
        case .v1(let dir)?: return (try? CgroupFile.read(dir, "freezer.state").trimmingWhitespace) == "FROZEN"
        case .v2(let dir)?: return (try? Cgroup.v2Frozen(dir)) ?? false
        case nil: return false
        }
    }

    static func v2Frozen(_ dir: String) throws -> Bool {
        try CgroupFile.readKeyed(dir, "cgroup.events")?["frozen"] == 1
    }

    /// Sends `signal` to every process in the cgroup and its children.
    ///
    /// `SIGKILL` with a unified hierarchy whose `cgroup.kill` exists (Linux 5.14+, v2
    /// or hybrid): one write, and the kernel kills every member, forks included.
    /// Otherwise the group is frozen, each process signalled, and thawed, so a process
    /// forking meanwhile cannot escape. A group that was frozen before stays frozen,
    /// except for `SIGKILL` (frozen tasks die only once thawed). Without any freezer the
    /// processes are signalled in a plain loop, and so they are when freezing fails (the
    /// freeze error is thrown after signalling). A process that exits meanwhile is not
    /// an error.
    ///
    /// Returns once every process is signalled, not once they are gone: wait for
    /// `pids()` to be empty (or reap the init process) before `remove()`.
    public func kill(signal: Int32) throws {
        if signal == SIGKILL, let unified, CgroupFile.exists(unified.directory, "cgroup.kill") {
            try CgroupFile.write(unified.directory, "cgroup.kill", "1")
            return
        }
        let canFreeze = freezer != nil
        let wasFrozen = isFrozen
        var firstError: Error?
        if canFreeze {
            do { try freeze() } catch { firstError = error }
        }
        for pid in try pids() {
            if Glibc.kill(pid, signal) != 0 && errno != ESRCH && firstError == nil {
                firstError = SystemError(errno: errno, stage: "kill \(pid) (signal \(signal)) in cgroup \(path)")
            }
        }
        if canFreeze && (!wasFrozen || signal == SIGKILL) { try thaw() }
        if let firstError { throw firstError }
    }
}
