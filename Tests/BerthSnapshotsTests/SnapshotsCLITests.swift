import BerthAPI
import BerthSystem
import Foundation
import Testing

/// `berthctl snapshots` against a real berthd: the commands are shaped like
/// `ctr snapshots`, and `mounts` prints a command line that works in a shell.
@Suite(.serialized) struct SnapshotsCLITests {
    func ctl(_ daemon: DaemonProcess, _ arguments: String) throws -> (status: Int32, output: String) {
        try shell("'\(Binaries.berthctl)' \(arguments)", environment: ["BERTH_ADDRESS": daemon.address])
    }

    @Test func mountsPrintsACommandLineThatWorksEvenFor200Layers() async throws {
        try await withDaemonProcess { daemon, directory in
            let target = directory + "/target"
            try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
            #expect(try ctl(daemon, "snapshots prepare base-key").status == 0)
            let line = try ctl(daemon, "snapshots mounts \(target) base-key").output
            #expect(line.hasPrefix("mount -t bind "))
            #expect(try shell(line).status == 0, "the printed line mounts: \(line)")
            try write(target + "/hello", "hi")
            // A container that another suite clones at this moment copies the mount into
            // its namespace, whose propagation can hold it busy for a moment: then
            // detached, as berthd's own cleanup does (removeBundle).
            do { try Mounting.unmount(target) } catch { try Mounting.unmount(target, detach: true) }
            #expect(try ctl(daemon, "snapshots commit l0 base-key").status == 0)

            // 199 more layers through the API, each adding one file.
            let client = try await daemon.client()
            defer { client.close() }
            for i in 1..<200 {
                let m = try await client.call(API.snapshotsPrepare, PrepareSnapshotRequest(key: "k\(i)", parent: "l\(i - 1)")).mounts[0]
                let upper = try #require(m.options.first { $0.hasPrefix("upperdir=") }).dropFirst("upperdir=".count)
                try write("\(upper)/f\(i)", "\(i)")
                try await client.call(API.snapshotsCommit, CommitSnapshotRequest(name: "l\(i)", key: "k\(i)"))
            }
            #expect(try ctl(daemon, "snapshots prepare top l199").status == 0)
            let long = try ctl(daemon, "snapshots mounts \(target) top").output
            #expect(long.hasPrefix("(cd "), "past 4096 bytes of options the line mounts from the layers' directory: \(long.prefix(120))")
            let run = try shell(long)
            #expect(run.status == 0, "the printed 200-layer line mounts")
            defer { try? Mounting.unmount(target) }
            #expect(listing(target).count == 200)
            #expect(read(target + "/hello") == "hi" && read(target + "/f199") == "199")
        }
    }

    @Test func listTreeInfoLabelUsageAndRemove() async throws {
        try await withDaemonProcess { daemon, _ in
            #expect(try ctl(daemon, "snapshots prepare a").status == 0)
            #expect(try ctl(daemon, "snapshots commit base a").status == 0)
            #expect(try ctl(daemon, "snapshots prepare child base").status == 0)
            #expect(try ctl(daemon, "snapshots view look base").status == 0)
            #expect(try ctl(daemon, "snapshots --snapshotter native prepare nat").status == 0)

            let ls = try ctl(daemon, "snapshots ls").output.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
            #expect(ls == [["KEY", "PARENT", "KIND"], ["base", "committed"], ["child", "base", "active"], ["look", "base", "view"]])
            #expect(try ctl(daemon, "snapshots ls kind==view").output.contains("look"))
            #expect(!(try ctl(daemon, "snapshots ls kind==view").output.contains("child")))
            #expect(try ctl(daemon, "snapshots --snapshotter native ls").output.contains("nat"), "--snapshotter before the verb, as ctr")
            #expect(try ctl(daemon, "snapshots ls --snapshotter native").output.contains("nat"))
            #expect(try ctl(daemon, "snapshots tree").output == "base\n  \\_ child\n  \\_ look\n")

            #expect(try ctl(daemon, "snapshots label child team=ci tier=gold").output == "team=ci,tier=gold\n")
            #expect(try ctl(daemon, "snapshots label child tier=").output == "team=ci\n")
            let info = try WireJSON.decode(SnapshotInfo.self, from: Array(try ctl(daemon, "snapshots info child").output.utf8))
            #expect(info.name == "child" && info.parent == "base" && info.kind == .active && info.labels == ["team": "ci"])

            let usage = try ctl(daemon, "snapshots usage -b base").output.split(separator: "\n")
            #expect(usage.count == 2 && usage[0].hasPrefix("KEY"))
            #expect(try ctl(daemon, "snapshots usage").output.split(separator: "\n").count == 4, "no key: every snapshot")

            let rm = try ctl(daemon, "snapshots rm base child")
            #expect(rm.status != 0, "base has children when it is tried first; child is removed anyway")
            func keys() throws -> [String?] { try ctl(daemon, "snapshots ls").output.split(separator: "\n").map { $0.split(separator: " ").first.map(String.init) } }
            #expect(try keys() == ["KEY", "base", "look"])
            #expect(try ctl(daemon, "snapshots rm look base").status == 0)
            #expect(try keys() == ["KEY"])
            #expect(try ctl(daemon, "snapshots info base").status != 0)
        }
    }
}
