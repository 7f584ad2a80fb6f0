import BerthAPI
@testable import BerthSnapshots
import BerthSystem
import CBerthLinux
import Foundation
import Testing

/// The conformance suite, continued: file attributes across layers, and long chains.
extension SnapshotterConformanceTests {
    @Test(arguments: all) func attributesSurviveLayers(_ impl: Implementation) throws {
        try withFixture(impl) { f in
            let s = f.snapshotter
            let mounts = try s.prepare(namespace: "default", key: "a", parent: nil, labels: [:])
            try f.withMounted(mounts) { dir in
                try write(dir + "/owned", "o")
                #expect(chown(dir + "/owned", 1234, 5678) == 0 && chmod(dir + "/owned", 0o4750) == 0)
                #expect(berth_lsetxattr(dir + "/owned", "user.color", "blue", 4) == 0)
                #expect(link(dir + "/owned", dir + "/hardlink") == 0)
                #expect(symlink("/nowhere/at/all", dir + "/link") == 0)
                #expect(mknod(dir + "/null", S_IFCHR | 0o666, nullDevice) == 0)
                #expect(mkfifo(dir + "/fifo", 0o600) == 0)
                var times = [timespec(tv_sec: 1_000_000_000, tv_nsec: 123_456_789), timespec(tv_sec: 1_100_000_000, tv_nsec: 987_654_321)]
                #expect(utimensat(AT_FDCWD, dir + "/owned", &times, 0) == 0)
                try FileManager.default.createDirectory(atPath: dir + "/private", withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
                #expect(chown(dir + "/private", 42, 43) == 0)
            }
            try s.commit(namespace: "default", name: "base", key: "a", labels: [:])
            _ = try s.prepare(namespace: "default", key: "child", parent: "base", labels: [:])
            try f.withMounted(try s.mounts(namespace: "default", key: "child")) { dir in
                var st = stat()
                #expect(lstat(dir + "/owned", &st) == 0)
                #expect(st.st_uid == 1234 && st.st_gid == 5678 && st.st_mode & 0o7777 == 0o4750)
                #expect(st.st_mtim.tv_sec == 1_100_000_000 && st.st_mtim.tv_nsec == 987_654_321)
                #expect(st.st_nlink == 2, "hard links stay links")
                var st2 = stat()
                #expect(lstat(dir + "/hardlink", &st2) == 0 && st2.st_ino == st.st_ino)
                var value = [CChar](repeating: 0, count: 16)
                #expect(berth_lgetxattr(dir + "/owned", "user.color", &value, 16) == 4)
                #expect(String(cString: value) == "blue")
                #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: dir + "/link")) == "/nowhere/at/all")
                #expect(lstat(dir + "/null", &st) == 0 && st.st_mode & S_IFMT == S_IFCHR && st.st_rdev == nullDevice)
                #expect(lstat(dir + "/fifo", &st) == 0 && st.st_mode & S_IFMT == S_IFIFO)
                #expect(lstat(dir + "/private", &st) == 0 && st.st_uid == 42 && st.st_mode & 0o777 == 0o700)
            }
        }
    }

    @Test(arguments: all) func chainOf200LayersMounts(_ impl: Implementation) throws {
        try withFixture(impl) { f in
            var parent: String?
            for i in 0..<200 {
                let name = "layer-\(i)"
                let key = "k-\(i)"
                let mounts = try f.snapshotter.prepare(namespace: "default", key: key, parent: parent, labels: [:])
                if i % 50 == 0 || i == 199 {
                    try f.withMounted(mounts) { dir in try write("\(dir)/f\(i)", "\(i)") }
                } else {
                    // Write into the snapshot through a mount only every 50 layers, to keep
                    // the test fast; the rest are written by path in the upper directory.
                    let id = try #require(mounts.first.flatMap { m in
                        (m.options.first { $0.hasPrefix("upperdir=") }.map { String($0.dropFirst(9)) } ?? m.source)
                    })
                    try write("\(id)/f\(i)", "\(i)")
                }
                try f.snapshotter.commit(namespace: "default", name: name, key: key, labels: [:])
                parent = name
            }
            let mounts = try f.snapshotter.prepare(namespace: "default", key: "top", parent: parent, labels: [:])
            if impl == .overlayfs {
                let data = mounts[0].options.joined(separator: ",")
                #expect(data.utf8.count > 4096, "the chain is past mount(2)'s limit")
            }
            try f.withMounted(mounts) { dir in
                #expect(listing(dir).count == 200)
                #expect(read(dir + "/f0") == "0" && read(dir + "/f199") == "199")
                try write(dir + "/top", "t")
            }
            try f.snapshotter.commit(namespace: "default", name: "top", key: "top", labels: [:])
        }
    }

    /// containerd's RootPermission: a child's root directory has its parent's mode
    /// and owner, so a container's `/` is what the image says.
    @Test(arguments: all) func rootKeepsTheParentsModeAndOwner(_ impl: Implementation) throws {
        try withFixture(impl) { f in
            let mounts = try f.snapshotter.prepare(namespace: "default", key: "a", parent: nil, labels: [:])
            try f.withMounted(mounts) { dir in
                #expect(chmod(dir, 0o750) == 0 && chown(dir, 7, 8) == 0)
            }
            try f.snapshotter.commit(namespace: "default", name: "base", key: "a", labels: [:])
            for (key, make) in [("b", true), ("c", false)] {
                let child = make
                    ? try f.snapshotter.prepare(namespace: "default", key: key, parent: "base", labels: [:])
                    : try f.snapshotter.view(namespace: "default", key: key, parent: "base", labels: [:])
                try f.withMounted(child) { dir in
                    var st = stat()
                    #expect(stat(dir, &st) == 0)
                    #expect(st.st_mode & 0o7777 == 0o750 && st.st_uid == 7 && st.st_gid == 8, "\(key): mode \(String(st.st_mode & 0o7777, radix: 8))")
                }
            }
        }
    }

    /// containerd's Chown and MoveFileFromLowerLayer: changing the owner of, or
    /// renaming, a file of a lower layer changes it in the child only.
    @Test(arguments: all) func chownAndRenameOfALowerFile(_ impl: Implementation) throws {
        try withFixture(impl) { f in
            try f.layer("base", parent: nil, ["dir/file": "content", "other": "o"])
            let mounts = try f.snapshotter.prepare(namespace: "default", key: "b", parent: "base", labels: [:])
            try f.withMounted(mounts) { dir in
                #expect(chown(dir + "/other", 1000, 1000) == 0)
                #expect(rename(dir + "/dir/file", dir + "/moved") == 0)
            }
            try f.snapshotter.commit(namespace: "default", name: "top", key: "b", labels: [:])
            let top = try f.snapshotter.view(namespace: "default", key: "vt", parent: "top", labels: [:])
            try f.withMounted(top) { dir in
                var st = stat()
                #expect(lstat(dir + "/other", &st) == 0 && st.st_uid == 1000)
                #expect(read(dir + "/moved") == "content")
                #expect(listing(dir + "/dir").isEmpty)
            }
            let base = try f.snapshotter.view(namespace: "default", key: "vb", parent: "base", labels: [:])
            try f.withMounted(base) { dir in
                var st = stat()
                #expect(lstat(dir + "/other", &st) == 0 && st.st_uid == 0)
                #expect(read(dir + "/dir/file") == "content" && !exists(dir + "/moved"))
            }
        }
    }
}
