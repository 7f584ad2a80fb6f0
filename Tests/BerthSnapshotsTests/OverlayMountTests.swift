import BerthAPI
@testable import BerthSnapshots
import BerthSystem
import Foundation
import Testing

/// The overlay layout's mounts, and both ways `MountExecutor` mounts chains past
/// mount(2)'s 4096-byte option limit.
@Suite(.serialized) struct OverlayMountTests {
    /// Builds a chain of `count` committed layers, each adding one file, written
    /// straight into its upper directory.
    func chain(_ f: Fixture, _ count: Int) throws -> String {
        var parent: String?
        for i in 0..<count {
            let mounts = try f.snapshotter.prepare(namespace: "default", key: "k\(i)", parent: parent, labels: [:])
            let upper = mounts[0].options.first { $0.hasPrefix("upperdir=") }.map { String($0.dropFirst(9)) } ?? mounts[0].source
            try write("\(upper)/f\(i)", "\(i)")
            try f.snapshotter.commit(namespace: "default", name: "l\(i)", key: "k\(i)", labels: [:])
            parent = "l\(i)"
        }
        return parent!
    }

    @Test(arguments: [MountExecutor.LongOverlayStrategy.lowerdirPlus, .relativePaths])
    func longChainsMountWithEitherStrategy(_ strategy: MountExecutor.LongOverlayStrategy) throws {
        try withFixture(.overlayfs) { f in
            let top = try chain(f, 250)
            let mounts = try f.snapshotter.prepare(namespace: "default", key: "rw", parent: top, labels: [:])
            #expect(mounts[0].options.joined(separator: ",").utf8.count > 4096)
            try f.withMounted(mounts, strategy: strategy) { dir in
                #expect(listing(dir).count == 250)
                #expect(read(dir + "/f0") == "0")
                try write(dir + "/new", "n")
            }
            let upper = mounts[0].options.first { $0.hasPrefix("upperdir=") }!.dropFirst(9)
            #expect(read("\(upper)/new") == "n", "the write went to the active snapshot's upper directory")
            let view = try f.snapshotter.view(namespace: "default", key: "ro", parent: top, labels: [:])
            try f.withMounted(view, strategy: strategy) { dir in
                #expect(listing(dir).count == 250)
                #expect(open(dir + "/x", O_WRONLY | O_CREAT, 0o644) == -1 && errno == EROFS)
            }
        }
    }

    /// Mount flags given as options (`ro`, `nosuid`, `nodev`) hold on a long overlay,
    /// whichever way it is mounted.
    @Test(arguments: [MountExecutor.LongOverlayStrategy.lowerdirPlus, .relativePaths])
    func longOverlaysKeepTheirMountFlags(_ strategy: MountExecutor.LongOverlayStrategy) throws {
        try withFixture(.overlayfs) { f in
            let top = try chain(f, 120)
            var mounts = try f.snapshotter.prepare(namespace: "default", key: "rw", parent: top, labels: [:])
            mounts[0].options += ["ro", "nosuid", "nodev"]
            #expect(mounts[0].options.joined(separator: ",").utf8.count > 4096)
            try f.withMounted(mounts, strategy: strategy) { dir in
                let line = try #require(String(decoding: try FileSystem.readFile("/proc/self/mountinfo", limit: 1 << 24), as: UTF8.self)
                    .split(separator: "\n").first { $0.split(separator: " ")[4] == dir })
                let perMount = Set(line.split(separator: " ")[5].split(separator: ","))
                #expect(perMount.isSuperset(of: ["ro", "nosuid", "nodev"]), "\(perMount)")
                #expect(open(dir + "/x", O_WRONLY | O_CREAT, 0o644) == -1 && errno == EROFS)
            }
        }
    }

    @Test func mountShapesFollowContainerd() throws {
        try withFixture(.overlayfs) { f in
            let s = f.snapshotter
            let base = try s.prepare(namespace: "default", key: "a", parent: nil, labels: [:])
            #expect(base == [Mount(type: "bind", source: f.root + "/snapshots/1/fs", options: ["rw", "rbind"])])
            try s.commit(namespace: "default", name: "l1", key: "a", labels: [:])
            #expect(try s.view(namespace: "default", key: "v", parent: "l1", labels: [:])
                == [Mount(type: "bind", source: f.root + "/snapshots/1/fs", options: ["ro", "rbind"])])
            let active = try s.prepare(namespace: "default", key: "b", parent: "l1", labels: [:])
            #expect(active[0].type == "overlay" && active[0].source == "overlay")
            #expect(active[0].options.contains("upperdir=\(f.root)/snapshots/3/fs"))
            #expect(active[0].options.contains("workdir=\(f.root)/snapshots/3/work"))
            #expect(active[0].options.last == "lowerdir=\(f.root)/snapshots/1/fs")
            #expect(active[0].options.contains("index=off") == FileManager.default.fileExists(atPath: "/sys/module/overlay/parameters/index"))
            try s.commit(namespace: "default", name: "l2", key: "b", labels: [:])
            let view2 = try s.view(namespace: "default", key: "v2", parent: "l2", labels: [:])
            #expect(view2[0].type == "overlay")
            #expect(view2[0].options.last == "lowerdir=\(f.root)/snapshots/3/fs:\(f.root)/snapshots/1/fs", "nearest layer first")
            #expect(!view2[0].options.contains { $0.hasPrefix("upperdir=") })
        }
    }

    @Test func relativeOptionsShareTheLongestCommonDirectory() {
        let m = Mount(type: "overlay", source: "overlay", options: [
            "index=off", "upperdir=/r/s/snapshots/9/fs", "workdir=/r/s/snapshots/9/work", "lowerdir=/r/s/snapshots/8/fs:/r/s/snapshots/7/fs",
        ])
        let (dir, options) = m.relativeOverlayOptions()!
        #expect(dir == "/r/s/snapshots")
        #expect(options == ["index=off", "upperdir=9/fs", "workdir=9/work", "lowerdir=8/fs:7/fs"])
        #expect(Mount(type: "bind", source: "/x", options: ["ro"]).relativeOverlayOptions() == nil)
    }
}

extension MountExecutor.LongOverlayStrategy: CustomTestStringConvertible {
    public var testDescription: String {
        switch self {
        case .automatic: "automatic"
        case .lowerdirPlus: "lowerdir+"
        case .relativePaths: "relative paths"
        }
    }
}
