import BerthCgroups
import BerthSystem
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

extension CgroupTests {
    /// create → add → pids → remove on the host's own layout (hybrid here).
    @Suite("lifecycle")
    struct Lifecycle {
        @Test("create makes the directory in every hierarchy; add puts the process in each; remove leaves none")
        func createAddRemove() throws {
            let fx = try Fixture()
            defer { fx.cleanup() }
            let cg = fx.cgroup
            #expect(cg.mode == CgroupMode.detect())
            #expect(cg.exists())
            let dirs = cg.directories
            #expect(dirs.keys.contains("memory") && dirs.keys.contains("pids") && dirs.keys.contains("freezer"), "\(dirs)")
            if isHybridHost { #expect(dirs[""] == "/sys/fs/cgroup/unified\(cg.path)") }
            for dir in dirs.values { #expect(FileSystem.fileType(dir) == S_IFDIR, "\(dir)") }

            let sleeper = try fx.start("exec /bin/sleep 30")
            let pid = sleeper.processIdentifier
            let lines = procCgroups(pid)
            for (controllers, _) in dirs {
                #expect(lines[controllers] == cg.path, "\(controllers) in \(lines)")
            }
            #expect(try cg.pids() == [pid])

            try cg.kill(signal: SIGKILL)
            #expect(waitForExit(sleeper, seconds: 5))
            #expect(waitUntil(seconds: 2) { (try? cg.pids())?.isEmpty ?? false })
            try cg.remove()
            #expect(!cg.exists())
            for dir in dirs.values { #expect(FileSystem.fileType(dir) == nil, "\(dir) left behind") }
            try cg.remove() // gone already: not an error
        }

        @Test("remove takes child cgroups with it")
        func removeWithChildren() throws {
            let fx = try Fixture()
            defer { fx.cleanup() }
            for dir in fx.cgroup.directories.values { #expect(mkdir(dir + "/inner", 0o755) == 0, "\(dir)") }
            try fx.cgroup.remove()
            for dir in fx.cgroup.directories.values { #expect(FileSystem.fileType(dir) == nil, "\(dir)") }
        }

        @Test("pids lists processes of child cgroups too")
        func pidsRecursive() throws {
            let fx = try Fixture()
            defer { fx.cleanup() }
            let a = try fx.start("exec /bin/sleep 30")
            let innerPath = fx.cgroup.path + "/inner"
            let inner = try Cgroup(path: innerPath)
            try inner.create()
            let b = try fx.start("exec /bin/sleep 30", addToCgroup: false)
            try inner.add(pid: b.processIdentifier)
            #expect(try fx.cgroup.pids() == [a.processIdentifier, b.processIdentifier].sorted())
            #expect(try inner.pids() == [b.processIdentifier])
        }

        @Test("absolute and relative paths name the same cgroup; '..' and empty paths are refused")
        func paths() throws {
            let a = try Cgroup(path: "/berth/ctr1"), b = try Cgroup(path: "berth/ctr1"), c = try Cgroup(path: "berth//./ctr1/")
            #expect(a.path == "/berth/ctr1" && b.path == a.path && c.path == a.path)
            #expect(a.directories == b.directories)
            #expect(a.directories["memory"] == "/sys/fs/cgroup/memory/berth/ctr1")
            for bad in ["", "/", "../escape", "a/../../b"] {
                #expect(throws: SystemError.self, "\(bad)") { try Cgroup(path: bad) }
                do { _ = try Cgroup(path: bad) } catch let e as SystemError { #expect(e.errno == EINVAL) }
            }
            #expect(!(try Cgroup(path: "berth-never-made/\(UInt32.random(in: 0...UInt32.max))").exists()))
            // A v2 view of something that is not cgroup2 is refused, not mkdir'ed into.
            #expect(throws: SystemError.self) { try Cgroup(path: "x", root: "/tmp", mode: .v2) }
        }

        @Test("v1 cpuset.cpus and cpuset.mems are copied from the parent at create")
        func cpusetInherited() throws {
            guard let cpusetRoot = try Cgroup(path: "x").directories["cpuset"].map(FileSystem.parentDirectory(of:)) else { return }
            let fx = try Fixture()
            defer { fx.cleanup() }
            let dir = try #require(fx.cgroup.directories["cpuset"])
            #expect(readText(dir + "/cpuset.cpus") == readText(cpusetRoot + "/cpuset.cpus"))
            #expect(readText(dir + "/cpuset.mems") == readText(cpusetRoot + "/cpuset.mems"))
            #expect(readText(dir + "/cpuset.cpus")?.isEmpty == false)
        }

        @Test("freeze stops every task (freezer.state FROZEN, process in D state); thaw resumes them")
        func freezeThaw() throws {
            let fx = try Fixture()
            defer { fx.cleanup() }
            let cg = fx.cgroup
            let busy = try fx.start("while :; do :; done")
            let pid = busy.processIdentifier
            #expect(!cg.isFrozen)
            try cg.freeze()
            #expect(cg.isFrozen)
            if let freezer = cg.directories["freezer"] { #expect(readText(freezer + "/freezer.state") == "FROZEN") }
            #expect(waitUntil(seconds: 2) { processState(pid) == "D" }, "state \(String(describing: processState(pid)))")
            try cg.freeze() // again: not an error
            // A frozen busy loop uses no CPU.
            let before = try #require(try cg.stats().cpu).usageNanoseconds
            usleep(200_000)
            let after = try #require(try cg.stats().cpu).usageNanoseconds
            #expect(after - before < 20_000_000, "\(after - before) ns while frozen")

            try cg.thaw()
            #expect(!cg.isFrozen)
            #expect(waitUntil(seconds: 2) { processState(pid) == "R" })
            try cg.thaw() // again: not an error
        }

        /// The host's layout (on hybrid: one write to the unified hierarchy's
        /// cgroup.kill), and the v1 hierarchies alone (freeze, SIGKILL each, thaw).
        static var killModes: [CgroupMode?] { CgroupMode.detect() == .hybrid ? [nil, .v1] : [nil] }

        @Test("kill(SIGKILL) kills a whole process tree, forks included", arguments: killModes)
        func killTree(mode: CgroupMode?) throws {
            let fx = try Fixture(mode: mode)
            defer { fx.cleanup() }
            let cg = fx.cgroup
            let shell = try fx.start("/bin/sleep 60 & /bin/sleep 60 & (/bin/sleep 60 &); while :; do /bin/sleep 60 & sleep 0.05; done")
            #expect(waitUntil(seconds: 3) { ((try? cg.pids()) ?? []).count >= 5 })
            let members = try cg.pids()
            #expect(members.contains(shell.processIdentifier))
            try cg.kill(signal: SIGKILL)
            #expect(waitForExit(shell, seconds: 5))
            #expect(waitUntil(seconds: 5) { (try? cg.pids())?.isEmpty ?? false }, "\((try? cg.pids()) ?? [])")
            for pid in members { #expect(waitUntil(seconds: 2) { isDead(pid) }, "\(pid) survived") }
            try cg.remove()
            #expect(!cg.exists())
        }

        @Test("kill(SIGTERM) signals every process through freeze, signal, thaw; a paused group stays paused")
        func killTerm() throws {
            let fx = try Fixture()
            defer { fx.cleanup() }
            let cg = fx.cgroup
            try fx.start("/bin/sleep 60 & /bin/sleep 60 & wait")
            #expect(waitUntil(seconds: 3) { ((try? cg.pids()) ?? []).count == 3 })
            let members = try cg.pids()
            try cg.kill(signal: SIGTERM)
            #expect(!cg.isFrozen)
            for pid in members { #expect(waitUntil(seconds: 3) { isDead(pid) }, "\(pid) survived SIGTERM") }

            // A paused group stays paused; the signal waits and is delivered on resume.
            let sleeper = try fx.start("exec /bin/sleep 60")
            try cg.freeze()
            try cg.kill(signal: SIGTERM)
            #expect(cg.isFrozen)
            #expect(!isDead(sleeper.processIdentifier))
            try cg.thaw()
            #expect(waitForExit(sleeper, seconds: 3))
        }
    }
}
