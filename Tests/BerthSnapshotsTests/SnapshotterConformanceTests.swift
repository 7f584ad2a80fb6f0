import BerthAPI
@testable import BerthSnapshots
import BerthSystem
import CBerthLinux
import Foundation
import Testing

/// The one conformance suite every snapshotter passes, modeled on containerd's
/// `core/snapshots/testsuite`. Each test runs against each implementation, with real
/// mounts of what `mounts` returns, and cleans up its mounts and directories even when
/// it fails.
/// makedev(1, 3): /dev/null.
let nullDevice: dev_t = 0x103

@Suite(.serialized) struct SnapshotterConformanceTests {
    static let all = Implementation.allCases

    @Test(arguments: all) func basicPrepareMountCommitView(_ impl: Implementation) throws {
        try withFixture(impl) { f in
            let s = f.snapshotter
            let mounts = try s.prepare(namespace: "default", key: "base-active", parent: nil, labels: [:])
            #expect(!mounts.isEmpty)
            try f.withMounted(mounts) { dir in
                try write(dir + "/a", "apple")
                try write(dir + "/dir/b", "banana")
            }
            try s.commit(namespace: "default", name: "base", key: "base-active", labels: [:])
            expectKind(.notFound, "the active key is gone after commit") { _ = try s.stat(namespace: "default", key: "base-active") }

            let childMounts = try s.prepare(namespace: "default", key: "child-active", parent: "base", labels: [:])
            try f.withMounted(childMounts) { dir in
                #expect(read(dir + "/a") == "apple")
                #expect(read(dir + "/dir/b") == "banana")
                try write(dir + "/c", "cherry")
            }
            try s.commit(namespace: "default", name: "child", key: "child-active", labels: [:])

            let view = try s.view(namespace: "default", key: "child-view", parent: "child", labels: [:])
            try f.withMounted(view) { dir in
                #expect(listing(dir) == ["a", "c", "dir"])
                #expect(read(dir + "/c") == "cherry")
            }
            // The base is unchanged by its child.
            let baseView = try s.view(namespace: "default", key: "base-view", parent: "base", labels: [:])
            try f.withMounted(baseView) { dir in #expect(listing(dir) == ["a", "dir"]) }
        }
    }

    @Test(arguments: all) func statOfEachKind(_ impl: Implementation) throws {
        try withFixture(impl) { f in
            let s = f.snapshotter
            _ = try s.prepare(namespace: "default", key: "a", parent: nil, labels: ["l": "1"])
            let active = try s.stat(namespace: "default", key: "a")
            #expect(active.name == "a" && active.kind == .active && active.parent == nil && active.labels == ["l": "1"])
            #expect(!active.createdAt.isEmpty && active.createdAt == active.updatedAt)

            try s.commit(namespace: "default", name: "c", key: "a", labels: ["m": "2"])
            let committed = try s.stat(namespace: "default", key: "c")
            #expect(committed.name == "c" && committed.kind == .committed && committed.parent == nil && committed.labels == ["m": "2"])

            _ = try s.view(namespace: "default", key: "v", parent: "c", labels: [:])
            let view = try s.stat(namespace: "default", key: "v")
            #expect(view.kind == .view && view.parent == "c")

            _ = try s.prepare(namespace: "default", key: "a2", parent: "c", labels: [:])
            #expect(try s.stat(namespace: "default", key: "a2").parent == "c")
            expectKind(.notFound) { _ = try s.stat(namespace: "default", key: "nope") }
        }
    }

    @Test(arguments: all) func transitivityAcrossAChain(_ impl: Implementation) throws {
        try withFixture(impl) { f in
            try f.layer("l1", parent: nil, ["one": "1"])
            try f.layer("l2", parent: "l1", ["two": "2"])
            try f.layer("l3", parent: "l2", ["three": "3", "one": "uno"])
            let view = try f.snapshotter.view(namespace: "default", key: "v", parent: "l3", labels: [:])
            try f.withMounted(view) { dir in
                #expect(listing(dir) == ["one", "three", "two"])
                #expect(read(dir + "/one") == "uno")
            }
            let mid = try f.snapshotter.view(namespace: "default", key: "v2", parent: "l2", labels: [:])
            try f.withMounted(mid) { dir in
                #expect(listing(dir) == ["one", "two"])
                #expect(read(dir + "/one") == "1")
            }
        }
    }

    @Test(arguments: all) func fileUpdatesAndDeletionsAcrossLayers(_ impl: Implementation) throws {
        try withFixture(impl) { f in
            try f.layer("l1", parent: nil, ["a": "old", "b": "doomed", "keep/x": "x"])
            try f.layer("l2", parent: "l1", ["a": "new", "b": nil])
            let top = try f.snapshotter.view(namespace: "default", key: "top", parent: "l2", labels: [:])
            try f.withMounted(top) { dir in
                #expect(read(dir + "/a") == "new")
                #expect(!exists(dir + "/b"), "a file deleted in an upper layer is gone in the view")
                #expect(read(dir + "/keep/x") == "x")
            }
            let bottom = try f.snapshotter.view(namespace: "default", key: "bottom", parent: "l1", labels: [:])
            try f.withMounted(bottom) { dir in
                #expect(read(dir + "/a") == "old")
                #expect(read(dir + "/b") == "doomed")
            }
            // Deleting again on top of the deletion, and re-creating, both work.
            try f.layer("l3", parent: "l2", ["b": "reborn"])
            let reborn = try f.snapshotter.view(namespace: "default", key: "reborn", parent: "l3", labels: [:])
            try f.withMounted(reborn) { dir in #expect(read(dir + "/b") == "reborn") }
        }
    }

    @Test(arguments: all) func opaqueDirectories(_ impl: Implementation) throws {
        try withFixture(impl) { f in
            try f.layer("l1", parent: nil, ["d/x": "x", "d/y": "y", "d/sub/z": "z"])
            // Remove the directory and make a new one of the same name: nothing of the
            // lower one may show through.
            try f.layer("l2", parent: "l1", ["d/new": "n"], remove: ["d"])
            let view = try f.snapshotter.view(namespace: "default", key: "v", parent: "l2", labels: [:])
            try f.withMounted(view) { dir in
                #expect(listing(dir + "/d") == ["new"])
            }
            try f.layer("l3", parent: "l2", ["d/more": "m"])
            let view3 = try f.snapshotter.view(namespace: "default", key: "v3", parent: "l3", labels: [:])
            try f.withMounted(view3) { dir in #expect(listing(dir + "/d") == ["more", "new"]) }
        }
    }

    @Test(arguments: all) func viewIsReadOnly(_ impl: Implementation) throws {
        try withFixture(impl) { f in
            try f.layer("l1", parent: nil, ["a": "1"])
            try f.layer("l2", parent: "l1", ["b": "2"])
            for (key, parent) in [("v1", "l1"), ("v2", "l2")] { // one parent: a bind; two: an overlay
                let view = try f.snapshotter.view(namespace: "default", key: key, parent: parent, labels: [:])
                try f.withMounted(view) { dir in
                    #expect(open(dir + "/new", O_WRONLY | O_CREAT, 0o644) == -1 && errno == EROFS, "writing in view \(key) must fail with EROFS")
                    #expect(unlink(dir + "/a") == -1 && errno == EROFS)
                }
            }
            let empty = try f.snapshotter.view(namespace: "default", key: "v0", parent: nil, labels: [:])
            try f.withMounted(empty) { dir in
                #expect(listing(dir).isEmpty)
                #expect(mkdir(dir + "/x", 0o755) == -1 && errno == EROFS)
            }
            expectKind(.failedPrecondition, "a view cannot be committed") {
                try f.snapshotter.commit(namespace: "default", name: "c", key: "v1", labels: [:])
            }
        }
    }

    @Test(arguments: all) func removeRules(_ impl: Implementation) throws {
        try withFixture(impl) { f in
            let s = f.snapshotter
            try f.layer("base", parent: nil, ["a": "1"])
            _ = try s.prepare(namespace: "default", key: "child", parent: "base", labels: [:])
            expectKind(.failedPrecondition, "a parent with children") { try s.remove(namespace: "default", key: "base") }
            expectKind(.alreadyExists) { _ = try s.prepare(namespace: "default", key: "child", parent: nil, labels: [:]) }
            expectKind(.alreadyExists, "a key and a name share one space") { _ = try s.view(namespace: "default", key: "base", parent: nil, labels: [:]) }
            expectKind(.notFound) { _ = try s.prepare(namespace: "default", key: "x", parent: "missing", labels: [:]) }
            expectKind(.invalidArgument, "an active parent") { _ = try s.prepare(namespace: "default", key: "x", parent: "child", labels: [:]) }
            expectKind(.failedPrecondition, "mounts of a committed snapshot") { _ = try s.mounts(namespace: "default", key: "base") }
            expectKind(.alreadyExists, "commit onto an existing name") { try s.commit(namespace: "default", name: "base", key: "child", labels: [:]) }
            expectKind(.failedPrecondition, "commit of a committed snapshot") { try s.commit(namespace: "default", name: "b2", key: "base", labels: [:]) }
            expectKind(.notFound) { try s.remove(namespace: "default", key: "missing") }
            expectKind(.notFound) { try s.commit(namespace: "default", name: "n", key: "missing", labels: [:]) }
            #expect(try s.stat(namespace: "default", key: "child").kind == .active, "failed calls changed nothing")

            try s.remove(namespace: "default", key: "child")
            try s.remove(namespace: "default", key: "base")
            #expect(try s.list(namespace: "default", filters: []).isEmpty)
            #expect(listing(f.root + "/snapshots").isEmpty, "no directory outlives its snapshot")
        }
    }

    @Test(arguments: all) func listFilters(_ impl: Implementation) throws {
        try withFixture(impl) { f in
            let s = f.snapshotter
            try f.layer("base", parent: nil, [:])
            try s.update(namespace: "default", info: SnapshotInfo(name: "base", kind: .committed, labels: ["tier": "gold", "a.b/c": "x"], createdAt: "", updatedAt: ""), fieldPaths: [])
            _ = try s.prepare(namespace: "default", key: "act", parent: "base", labels: ["tier": "silver"])
            _ = try s.view(namespace: "default", key: "vw", parent: "base", labels: [:])
            _ = try s.prepare(namespace: "default", key: "lone", parent: nil, labels: [:])
            func names(_ filters: [String]) throws -> [String] { try s.list(namespace: "default", filters: filters).map(\.name) }
            #expect(try names([]) == ["act", "base", "lone", "vw"])
            #expect(try names(["kind==active"]) == ["act", "lone"])
            #expect(try names(["kind==view"]) == ["vw"])
            #expect(try names(["parent==base"]) == ["act", "vw"])
            #expect(try names(["parent==base,kind==view"]) == ["vw"], ", is AND")
            #expect(try names(["kind==view", "kind==committed"]) == ["base", "vw"], "several filters are OR")
            #expect(try names(["name==lone"]) == ["lone"])
            #expect(try names(["name!=lone"]) == ["act", "base", "vw"])
            #expect(try names(["name~=^(a|b)"]) == ["act", "base"])
            #expect(try names(["labels.tier"]) == ["act", "base"])
            #expect(try names(["labels.tier==gold"]) == ["base"])
            #expect(try names(["labels.\"a.b/c\"==x"]) == ["base"])
            #expect(try names(["labels.\"tier\"==\"silver\""]) == ["act"])
            expectKind(.invalidArgument) { _ = try names(["size==3"]) }
            expectKind(.invalidArgument) { _ = try names(["name~=("]) }
            var walked: [String] = []
            try s.walk(namespace: "default", filters: ["kind==committed"]) { walked.append($0.name) }
            #expect(walked == ["base"])
        }
    }

    @Test(arguments: all) func labels(_ impl: Implementation) throws {
        try withFixture(impl) { f in
            let s = f.snapshotter
            _ = try s.prepare(namespace: "default", key: "a", parent: nil, labels: ["x": "1", "y": "2"])
            let before = try s.stat(namespace: "default", key: "a")
            var info = before
            info.labels = ["y": "", "z": "3"]
            let updated = try s.update(namespace: "default", info: info, fieldPaths: ["labels.y", "labels.z"])
            #expect(updated.labels == ["x": "1", "z": "3"])
            #expect(updated.updatedAt > before.updatedAt && updated.createdAt == before.createdAt)
            info.labels = ["only": "this"]
            #expect(try s.update(namespace: "default", info: info, fieldPaths: []).labels == ["only": "this"])
            #expect(try s.stat(namespace: "default", key: "a").labels == ["only": "this"])
            expectKind(.invalidArgument) { _ = try s.update(namespace: "default", info: info, fieldPaths: ["parent"]) }
            info.labels = ["": "x"]
            expectKind(.invalidArgument) { _ = try s.update(namespace: "default", info: info, fieldPaths: ["labels"]) }
            info.name = "missing"
            expectKind(.notFound) { _ = try s.update(namespace: "default", info: info, fieldPaths: []) }
        }
    }

    @Test(arguments: all) func usageCountsOnlyTheSnapshotsOwnData(_ impl: Implementation) throws {
        try withFixture(impl) { f in
            let s = f.snapshotter
            let big = String(repeating: "x", count: 1 << 20)
            try f.layer("base", parent: nil, ["big": big])
            let baseUsage = try s.usage(namespace: "default", key: "base")
            #expect(baseUsage.size >= 1 << 20 && baseUsage.inodes >= 1)

            let mounts = try s.prepare(namespace: "default", key: "a", parent: "base", labels: [:])
            let empty = try s.usage(namespace: "default", key: "a")
            #expect(empty.size < 1 << 16, "the parent's megabyte is not counted: \(empty)")
            try f.withMounted(mounts) { dir in try write(dir + "/half", String(repeating: "y", count: 1 << 19)) }
            let grown = try s.usage(namespace: "default", key: "a")
            #expect(grown.size >= 1 << 19 && grown.size < (1 << 19) + (1 << 17), "\(grown)")
            #expect(grown.inodes >= empty.inodes + 1)
            try s.commit(namespace: "default", name: "top", key: "a", labels: [:])
            #expect(try s.usage(namespace: "default", key: "top") == grown, "usage is recorded at commit")
            _ = try s.view(namespace: "default", key: "v", parent: "top", labels: [:])
            #expect(try s.usage(namespace: "default", key: "v").size < 1 << 16)
        }
    }

    @Test(arguments: all) func closeAndReopen(_ impl: Implementation) throws {
        try withFixture(impl) { f in
            try f.layer("base", parent: nil, ["a": "1"])
            _ = try f.snapshotter.prepare(namespace: "default", key: "work", parent: "base", labels: ["k": "v"])
            let old = f.snapshotter
            old.close()
            old.close() // closing twice is not an error
            expectKind(.failedPrecondition) { _ = try old.stat(namespace: "default", key: "base") }
            try f.reopen()
            let s = f.snapshotter
            #expect(try s.list(namespace: "default", filters: []).map(\.name) == ["base", "work"])
            #expect(try s.stat(namespace: "default", key: "work").labels == ["k": "v"])
            try f.withMounted(try s.mounts(namespace: "default", key: "work")) { dir in #expect(read(dir + "/a") == "1") }
            #expect(try s.cleanup().isEmpty, "a clean shutdown leaves nothing to clean")
        }
    }

    @Test(arguments: all) func keysAreNeverPaths(_ impl: Implementation) throws {
        try withFixture(impl) { f in
            let s = f.snapshotter
            let before = listing(f.directory)
            for key in ["../../x", "/etc/passwd", "a/../../../b", ".", "sha256:abc def"] {
                let mounts = try s.prepare(namespace: "default", key: key, parent: nil, labels: [:])
                #expect(mounts.allSatisfy { $0.source.hasPrefix(f.root + "/snapshots/") })
                #expect(try s.stat(namespace: "default", key: key).name == key)
            }
            #expect(listing(f.directory) == before, "nothing created beside the snapshotter's root")
            #expect(listing(f.root + "/snapshots").allSatisfy { Int($0) != nil }, "only numbered directories")
            expectKind(.invalidArgument) { _ = try s.prepare(namespace: "default", key: "", parent: nil, labels: [:]) }
            expectKind(.invalidArgument) { _ = try s.prepare(namespace: "default", key: "a\nb", parent: nil, labels: [:]) }
            expectKind(.invalidArgument) { _ = try s.prepare(namespace: "../ns", key: "k", parent: nil, labels: [:]) }
        }
    }

    @Test(arguments: all) func namespacesAreSeparate(_ impl: Implementation) throws {
        try withFixture(impl) { f in
            let s = f.snapshotter
            try f.layer("base", parent: nil, ["a": "1"])
            _ = try s.prepare(namespace: "other", key: "base", parent: nil, labels: [:])
            expectKind(.notFound, "a parent from another namespace is invisible") { _ = try s.prepare(namespace: "other", key: "x", parent: "extract-none", labels: [:]) }
            #expect(try s.stat(namespace: "other", key: "base").kind == .active)
            #expect(try s.stat(namespace: "default", key: "base").kind == .committed)
            #expect(try s.list(namespace: "other", filters: []).map(\.name) == ["base"])
            try s.remove(namespace: "other", key: "base")
            #expect(try s.stat(namespace: "default", key: "base").kind == .committed)
        }
    }
}
