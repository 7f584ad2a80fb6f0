import BerthArchive
import BerthDigest
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// What an applied layer holds: the same tree and diffID whatever the compression, and
/// every entry's type, owner, mode, times, link and xattrs as the tar says.
@Suite struct LayerContentTests {
    static let sample: [TarEntry] = {
        var setuid = TarEntry.file("usr/bin/tool", "#!/bin/sh\necho tool\n", mode: 0o4755)
        setuid.uid = 1234
        setuid.gid = 5678
        setuid.mtime = 1_234_567_890
        setuid.mtimeNanoseconds = 123_456_789
        var private_ = TarEntry.dir("home/user", mode: 0o700)
        private_.uid = 1000
        private_.gid = 1000
        private_.mtime = 1_111_111_111
        var link = TarEntry.symlink("../usr/bin/tool", "bin/tool")
        link.uid = 42
        link.gid = 43
        link.mtime = 1_222_222_222
        var tagged = TarEntry.file("etc/tagged", "with xattrs", mode: 0o640)
        tagged.xattrs = [.init(name: "user.berth.test", value: Array("value".utf8)),
                         .init(name: "trusted.berth", value: [0, 1, 2])]
        var taggedDir = TarEntry.dir("etc/taggeddir")
        taggedDir.xattrs = [.init(name: "user.dir", value: Array("d".utf8))]
        var sticky = TarEntry.dir("tmp", mode: 0o1777)
        sticky.mtime = 1_333_333_333
        var big = TarEntry.file("data/big", "", mode: 0o600)
        big.kind = .file((0..<3_000_000).map { UInt8(truncatingIfNeeded: $0 &* 7) })
        return [
            .dir("usr"), .dir("usr/bin"), setuid, .dir("bin"), link, .dir("home"), private_, .dir("etc"),
            .file("etc/hostname", "berth\n"), .link("etc/hostname", "etc/hostname.hard"), tagged, taggedDir, sticky,
            TarEntry(name: "run/fifo", kind: .fifo, mode: 0o620), .file("empty", "", mode: 0o444),
            .file("deep/er/than/declared", "parents made implicitly"),
            .file("naïve/ünïcode-名前", "utf-8 names"), .dir("data"), big,
        ]
    }()

    /// Directories the sample does not list: made when their children come, with the
    /// current time.
    static let implicit: Set<String> = ["deep", "deep/er", "deep/er/than", "naïve", "run"]

    /// A listing of a tree: path, type, mode, owner, size, mtime, link target, content hash.
    private func snapshot(_ root: String) -> [String] {
        var out: [String] = []
        let paths = (FileManager.default.enumerator(atPath: root)?.allObjects as? [String] ?? []).sorted()
        for p in paths {
            var st = stat()
            lstat(root + "/" + p, &st)
            let mtime = Self.implicit.contains(p) ? "now" : "\(st.st_mtim.tv_sec).\(st.st_mtim.tv_nsec)"
            var line = "\(p) \(String(st.st_mode, radix: 8)) \(st.st_uid):\(st.st_gid) \(mtime)"
            switch st.st_mode & S_IFMT {
            case S_IFREG:
                let data = FileManager.default.contents(atPath: root + "/" + p) ?? Data()
                line += " \(st.st_size) \(SHA256.digest(Array(data)).short) nlink=\(st.st_nlink)"
            case S_IFLNK: line += " -> \((try? FileManager.default.destinationOfSymbolicLink(atPath: root + "/" + p)) ?? "?")"
            default: break
            }
            out.append(line)
        }
        return out
    }

    @Test func compressionsGiveTheSameTreeAndDiffID() throws {
        let tar = TarBuilder.tar(Self.sample)
        let diffID = SHA256.digest(tar)
        var trees: [[String]] = []
        for compression in Compression.allCases {
            let s = try Sandbox()
            defer { s.cleanup() }
            let layer = TarBuilder.compress(tar, compression)
            if compression != .none { #expect(layer.count < tar.count / 4) }
            let result = try s.apply(layer, ApplyOptions(whiteouts: .overlay, expectedDiffID: diffID))
            #expect(result.diffID == diffID)
            #expect(result.uncompressedSize == Int64(tar.count))
            #expect(result.entries == Self.sample.count)
            trees.append(snapshot(s.root))
        }
        #expect(trees[0].count > 20)
        #expect(trees[0] == trees[1])
        #expect(trees[0] == trees[2])
    }

    @Test(arguments: Compression.allCases)
    func wrongDiffIDIsADigestMismatch(_ compression: Compression) throws {
        let s = try Sandbox()
        defer { s.cleanup() }
        let tar = TarBuilder.tar([.file("f", "x")])
        let wrong = SHA256.digest(Array("something else".utf8))
        expectArchiveError(.digestMismatch) {
            try s.apply(TarBuilder.compress(tar, compression), ApplyOptions(whiteouts: .native, expectedDiffID: wrong))
        }
    }

    /// The diffID covers every byte, the zero blocks libarchive's writer pads with included.
    @Test func diffIDCoversTrailingPadding() throws {
        let s = try Sandbox()
        defer { s.cleanup() }
        let tar = TarBuilder.tar([.file("f", "x")]) + [UInt8](repeating: 0, count: 10240)
        let result = try s.apply(TarBuilder.compress(tar, .gzip))
        #expect(result.diffID == SHA256.digest(tar))
        #expect(result.uncompressedSize == Int64(tar.count))
    }

    @Test func metadataIsPreserved() throws {
        let s = try Sandbox()
        defer { s.cleanup() }
        let result = try s.apply(TarBuilder.tar(Self.sample), ApplyOptions(whiteouts: .native))
        #expect(result.skipped.isEmpty)

        let tool = try #require(s.lstatInRoot("usr/bin/tool"))
        #expect(tool.st_mode == S_IFREG | 0o4755)
        #expect(tool.st_uid == 1234 && tool.st_gid == 5678)
        #expect(tool.st_mtim.tv_sec == 1_234_567_890 && tool.st_mtim.tv_nsec == 123_456_789)

        let home = try #require(s.lstatInRoot("home/user"))
        #expect(home.st_mode == S_IFDIR | 0o700)
        #expect(home.st_uid == 1000 && home.st_gid == 1000)
        #expect(home.st_mtim.tv_sec == 1_111_111_111, "a directory's mtime is set after its contents")
        #expect(s.lstatInRoot("tmp")?.st_mode == S_IFDIR | 0o1777)
        #expect(s.lstatInRoot("tmp")?.st_mtim.tv_sec == 1_333_333_333)

        let link = try #require(s.lstatInRoot("bin/tool"))
        #expect(link.st_mode & S_IFMT == S_IFLNK)
        #expect(link.st_uid == 42 && link.st_gid == 43)
        #expect(link.st_mtim.tv_sec == 1_222_222_222)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: s.root + "/bin/tool") == "../usr/bin/tool")

        let hostname = try #require(s.lstatInRoot("etc/hostname"))
        let hard = try #require(s.lstatInRoot("etc/hostname.hard"))
        #expect(hostname.st_ino == hard.st_ino && hostname.st_nlink == 2)

        #expect(xattr(s.root + "/etc/tagged", "user.berth.test") == Array("value".utf8))
        #expect(xattr(s.root + "/etc/tagged", "trusted.berth") == [0, 1, 2])
        #expect(xattr(s.root + "/etc/taggeddir", "user.dir") == Array("d".utf8))
        #expect(s.lstatInRoot("etc/tagged")?.st_mode == S_IFREG | 0o640)

        #expect(s.lstatInRoot("run/fifo")?.st_mode == S_IFIFO | 0o620)
        #expect(s.lstatInRoot("empty").map { $0.st_size == 0 && $0.st_mode == S_IFREG | 0o444 } == true)
        #expect(s.read("deep/er/than/declared") == "parents made implicitly")
        #expect(s.lstatInRoot("deep/er")?.st_mode == S_IFDIR | 0o755)
        #expect(s.read("naïve/ünïcode-名前") == "utf-8 names")
        #expect(s.lstatInRoot("data/big")?.st_size == 3_000_000)
    }

    /// overlayfs's own xattrs in a tar would forge whiteouts: never set, always listed.
    @Test(arguments: [WhiteoutMode.native, .overlay])
    func overlayXattrsFromTheTarAreSkipped(_ mode: WhiteoutMode) throws {
        let s = try Sandbox()
        defer { s.cleanup() }
        var forged = TarEntry.dir("d")
        forged.xattrs = [.init(name: "trusted.overlay.opaque", value: Array("y".utf8)),
                         .init(name: "user.fine", value: Array("ok".utf8))]
        var redirect = TarEntry.file("f", "x")
        redirect.xattrs = [.init(name: "trusted.overlay.redirect", value: Array("/etc".utf8))]
        let result = try s.apply(TarBuilder.tar([forged, redirect]), ApplyOptions(whiteouts: mode))
        #expect(xattr(s.root + "/d", "trusted.overlay.opaque") == nil)
        #expect(xattr(s.root + "/d", "user.fine") == Array("ok".utf8))
        #expect(xattr(s.root + "/f", "trusted.overlay.redirect") == nil)
        #expect(result.skipped.count == 2, "\(result.skipped)")
    }

    /// An existing directory stays (its contents too) and takes the entry's mode and owner.
    @Test func existingDirectoryIsKeptAndUpdated() throws {
        let s = try Sandbox()
        defer { s.cleanup() }
        try mkdir(s, "d", 0o755)
        try file(s, "d/old", "old")
        var entry = TarEntry.dir("d", mode: 0o710)
        entry.uid = 7
        try s.apply(TarBuilder.tar([entry]))
        #expect(s.read("d/old") == "old")
        #expect(s.lstatInRoot("d").map { $0.st_mode == S_IFDIR | 0o710 && $0.st_uid == 7 } == true)
    }

    @Test func deviceNodesWhenAllowed() throws {
        let s = try Sandbox()
        defer { s.cleanup() }
        let result = try s.apply(TarBuilder.tar([TarEntry(name: "null2", kind: .charDevice(1, 3), mode: 0o666)]),
                                 ApplyOptions(whiteouts: .native, allowDeviceNodes: true))
        #expect(result.skipped.isEmpty)
        let node = try #require(s.lstatInRoot("null2"))
        #expect(node.st_mode == S_IFCHR | 0o666)
        #expect(node.st_rdev == 1 << 8 | 3, "makedev(1, 3)")
    }
}
