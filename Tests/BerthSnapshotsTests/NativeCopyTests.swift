import BerthAPI
@testable import BerthSnapshots
import BerthSystem
import Foundation
import Testing

/// What only the native snapshotter does: copy the parent's tree.
@Suite struct NativeCopyTests {
    /// A UNIX socket in a parent is not copied (it means nothing without its process);
    /// everything around it is.
    @Test func socketsAreSkipped() throws {
        try withFixture(.native) { f in
            let mounts = try f.snapshotter.prepare(namespace: "default", key: "a", parent: nil, labels: [:])
            let fs = mounts[0].source
            try write(fs + "/plain", "p")
            let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(fd) }
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            let path = fs + "/sock"
            withUnsafeMutableBytes(of: &address.sun_path) { raw in
                for (i, byte) in path.utf8.enumerated() { raw[i] = byte }
            }
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            #expect(bound == 0)
            try f.snapshotter.commit(namespace: "default", name: "base", key: "a", labels: [:])
            let child = try f.snapshotter.prepare(namespace: "default", key: "b", parent: "base", labels: [:])
            #expect(listing(child[0].source) == ["plain"])
        }
    }

    /// The copy is a copy: changing the child never changes the parent, hard links
    /// included (a hard link in the child is to the child's own inode).
    @Test func childChangesNeverReachTheParent() throws {
        try withFixture(.native) { f in
            try f.layer("base", parent: nil, ["a": "1"])
            let child = try f.snapshotter.prepare(namespace: "default", key: "b", parent: "base", labels: [:])
            try write(child[0].source + "/a", "changed")
            let view = try f.snapshotter.view(namespace: "default", key: "v", parent: "base", labels: [:])
            try f.withMounted(view) { dir in #expect(read(dir + "/a") == "1") }
        }
    }
}
