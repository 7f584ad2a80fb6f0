import CBerthRuntime
import Foundation
import Testing

/// Paths inside a container's root resolve inside it: openat2(RESOLVE_IN_ROOT), and the
/// component-by-component walk used where openat2 is missing, give the same answers
/// for a hostile tree of symlinks.
@Suite struct ResolveInRootTests {
    /// A root with /etc/marker = "inside" and symlinks that try to leave it.
    func makeRoot() throws -> String {
        let root = NSTemporaryDirectory() + "rir-" + UUID().uuidString
        let fm = FileManager.default
        try fm.createDirectory(atPath: root + "/etc", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: root + "/a", withIntermediateDirectories: true)
        try "inside".write(toFile: root + "/etc/marker", atomically: true, encoding: .utf8)
        try fm.createSymbolicLink(atPath: root + "/abs", withDestinationPath: "/etc")
        try fm.createSymbolicLink(atPath: root + "/rel", withDestinationPath: "../../../../etc")
        try fm.createSymbolicLink(atPath: root + "/a/up", withDestinationPath: "../../..")
        try fm.createSymbolicLink(atPath: root + "/chain", withDestinationPath: "abs")
        try fm.createSymbolicLink(atPath: root + "/loop1", withDestinationPath: "loop2")
        try fm.createSymbolicLink(atPath: root + "/loop2", withDestinationPath: "loop1")
        try fm.createSymbolicLink(atPath: root + "/shadow", withDestinationPath: "/etc/hostname")
        return root
    }

    func read(_ fd: Int32) -> String? {
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 256)
        let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
        return n >= 0 ? String(decoding: buffer[0..<n], as: UTF8.self) : nil
    }

    @Test(arguments: ["etc/marker", "/etc/marker", "abs/marker", "rel/marker", "a/up/etc/marker", "chain/marker",
                      "../../etc/marker", "a/../../etc/marker", "etc/./marker"])
    func everyPathLandsInside(_ path: String) throws {
        let root = try makeRoot()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let rootFD = open(root, BERTH_O_PATH | O_DIRECTORY | O_CLOEXEC)
        defer { close(rootFD) }
        #expect(read(berth_open_in_root(rootFD, path, O_RDONLY, 0)) == "inside", "openat2: \(path)")
        #expect(read(berth_open_in_root_fallback(rootFD, path, O_RDONLY, 0)) == "inside", "fallback: \(path)")
    }

    @Test func aSymlinkToAHostFileNamesTheSamePathInsideTheRoot() throws {
        let root = try makeRoot()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let rootFD = open(root, BERTH_O_PATH | O_DIRECTORY | O_CLOEXEC)
        defer { close(rootFD) }
        // /etc/hostname exists on the host but not in the root: both must fail, never read the host's.
        #expect(berth_open_in_root(rootFD, "shadow", O_RDONLY, 0) == -ENOENT)
        #expect(berth_open_in_root_fallback(rootFD, "shadow", O_RDONLY, 0) == -ENOENT)
    }

    @Test func symlinkLoopsAreELOOP() throws {
        let root = try makeRoot()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let rootFD = open(root, BERTH_O_PATH | O_DIRECTORY | O_CLOEXEC)
        defer { close(rootFD) }
        #expect(berth_open_in_root(rootFD, "loop1", O_RDONLY, 0) == -ELOOP)
        #expect(berth_open_in_root_fallback(rootFD, "loop1", O_RDONLY, 0) == -ELOOP)
    }

    @Test func mkdirAllCreatesInsideThroughSymlinks() throws {
        let root = try makeRoot()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let rootFD = open(root, BERTH_O_PATH | O_DIRECTORY | O_CLOEXEC)
        defer { close(rootFD) }
        let fd = berth_mkdir_all_in_root(rootFD, "abs/new/deeper", 0o755)
        #expect(fd >= 0)
        if fd >= 0 { close(fd) }
        #expect(FileManager.default.fileExists(atPath: root + "/etc/new/deeper"))
        #expect(!FileManager.default.fileExists(atPath: "/etc/new"))
    }
}
