import BerthArchive
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// containerd's `TestBreakouts` (archive/tar_test.go), case for case, then Berth's own
/// cases aimed at the canary next to root: `..`, absolute names and symlinks pointing at
/// the real outside directory, a directory replaced by a symlink between two entries
/// (CVE-2025-47290), metadata through symlinks (CVE-2021-32760), hard links out, device
/// nodes, duplicates. In containerd's cases `/etc` means root's etc; a broken applier would
/// write the host's, which `expectCanaryIntact` also checks.
@Suite struct BreakoutTests {
    static let containerd: [BreakoutCase] = [
        .init("SymlinkAbsolute", { _ in
            [.dir("etc"), .symlink("/etc", "localetc"), .file("/localetc/unbroken", "unbroken")]
        }, .applies(unbroken)),
        .init("SymlinkUpAndOut", { _ in
            [.dir("etc"), .dir("dummy"), .symlink("/dummy/../etc", "localetc"), .file("/localetc/unbroken", "unbroken")]
        }, .applies(unbroken)),
        .init("SymlinkMultipleAbsolute", { _ in
            [.dir("etc"), .dir("dummy"), .symlink("/etc", "/dummy/etc"), .symlink("/dummy/etc", "localetc"),
             .file("/dummy/etc/unbroken", "unbroken")]
        }, .applies(unbroken)),
        .init("SymlinkMultipleRelative", { _ in
            [.dir("etc"), .dir("dummy"), .symlink("/etc", "/dummy/etc"), .symlink("./dummy/etc", "localetc"),
             .file("/dummy/etc/unbroken", "unbroken")]
        }, .applies(unbroken)),
        .init("SymlinkEmptyFile", { _ in
            [.dir("etc"), .file("etc/emptied", "notempty"), .symlink("/etc", "localetc"), .file("/localetc/emptied", "")]
        }, .applies(fileValue("etc/emptied", ""))),
        .init("HardlinkRelative", { _ in
            [.dir("etc", mode: 0o770), .file("/etc/passwd", "inside"), .dir("breakouts"),
             .symlink("../../etc", "breakouts/d1"), .link("/breakouts/d1/passwd", "breakouts/mypasswd")]
        }, .applies(sameFile("/breakouts/mypasswd", "/etc/passwd"))),
        .init("HardlinkDownAndOut", { _ in
            [.dir("etc", mode: 0o770), .file("/etc/passwd", "inside"), .dir("breakouts"), .dir("downandout"),
             .symlink("../downandout/../../etc", "breakouts/d1"), .link("/breakouts/d1/passwd", "breakouts/mypasswd")]
        }, .applies(sameFile("/breakouts/mypasswd", "/etc/passwd"))),
        .init("HardlinkAbsolute", { _ in
            [.dir("etc", mode: 0o770), .file("/etc/passwd", "inside"), .symlink("/etc", "localetc"),
             .link("/localetc/passwd", "localpasswd")]
        }, .applies(sameFile("localpasswd", "/etc/passwd"))),
        .init("HardlinkRelativeLong", { _ in
            [.dir("etc", mode: 0o770), .file("/etc/passwd", "inside"), .symlink("../../../../../../../etc", "localetc"),
             .link("/localetc/passwd", "localpasswd")]
        }, .applies(sameFile("localpasswd", "/etc/passwd"))),
        .init("HardlinkRelativeUpAndOut", { _ in
            [.dir("etc", mode: 0o770), .file("/etc/passwd", "inside"), .symlink("upandout/../../../etc", "localetc"),
             .link("/localetc/passwd", "localpasswd")]
        }, .applies(sameFile("localpasswd", "/etc/passwd"))),
        .init("HardlinkDirectRelative", { _ in
            [.dir("etc", mode: 0o770), .file("/etc/passwd", "inside"), .link("../../../../../etc/passwd", "localpasswd")]
        }, .applies(sameFile("localpasswd", "/etc/passwd"))),
        .init("HardlinkDirectAbsolute", { _ in
            [.dir("etc", mode: 0o770), .file("/etc/passwd", "inside"), .link("/etc/passwd", "localpasswd")]
        }, .applies(sameFile("localpasswd", "/etc/passwd"))),
        .init("SymlinkParentDirectory", { _ in
            [.dir("etc", mode: 0o770), .file("/etc/passwd", "inside"), .symlink("/etc/", ".."), .link("/etc/passwd", "localpasswd")]
        }, .applies(sameFile("/localpasswd", "/etc/passwd"))),
        // libarchive's writer refuses an empty name: raw ustar headers.
        .init("SymlinkEmptyFilename", raw: { _ in
            TarBuilder.header("etc/", type: "5", mode: 0o770) + TarBuilder.rawFile("/etc/passwd", "inside")
                + TarBuilder.header("", type: "2", link: "/etc/") + TarBuilder.header("localpasswd", type: "1", link: "/etc/passwd")
                + TarBuilder.end
        }, .applies(sameFile("/localpasswd", "/etc/passwd"))),
        .init("SymlinkParentRelative", { _ in
            [.dir("etc", mode: 0o770), .file("/etc/passwd", "inside"), .symlink("/etc/", "localetc/sub/.."),
             .link("/etc/passwd", "/localetc/localpasswd")]
        }, .applies(sameFile("/localetc/localpasswd", "/etc/passwd"))),
        .init("SymlinkSlashEnded", { _ in
            [.dir("etc", mode: 0o770), .file("/etc/passwd", "inside"), .dir("localetc/", mode: 0o770),
             .link("/etc/passwd", "/localetc/localpasswd")]
        }, .applies(sameFile("/localetc/localpasswd", "/etc/passwd"))),
        .init("SymlinkOverrideDirectory", setup: etcPasswd(localetc: true), { _ in
            [.symlink("/etc", "localetc"), .link("/etc/passwd", "/localetc/localpasswd")]
        }, .applies(sameFile("/localetc/localpasswd", "/etc/passwd"))),
        .init("SymlinkOverrideDirectoryRelative", setup: etcPasswd(localetc: true), { _ in
            [.symlink("../../etc", "localetc"), .link("/etc/passwd", "/localetc/localpasswd")]
        }, .applies(sameFile("/localetc/localpasswd", "/etc/passwd"))),
        .init("DirectoryOverrideSymlink", setup: { s in
            try etcPasswd()(s)
            try symlink(s, "/etc", "localetc")
        }, { _ in
            [.dir("/localetc/"), .link("/etc/passwd", "/localetc/localpasswd")]
        }, .applies(sameFile("/localetc/localpasswd", "/etc/passwd"))),
        .init("DirectoryOverrideSymlinkAndHardlink", setup: { s in
            try etcPasswd()(s)
            try symlink(s, "etc", "localetc")
            try hardlink(s, "/etc/passwd", "/localetc/localpasswd")
        }, { _ in
            [.dir("/localetc/"), .file("/localetc/localpasswd", "different")]
        }, .applies(notSameFile("/localetc/localpasswd", "/etc/passwd"))),
        .init("WhiteoutRootParent", setup: etcPasswd(), { _ in [.file(".wh...", "")] }, .fails(.unsafeEntry)),
        .init("WhiteoutParent", setup: etcPasswd(), { _ in [.file("etc/.wh...", "")] }, .fails(.unsafeEntry)),
        .init("WhiteoutRoot", setup: etcPasswd(), { _ in [.file(".wh..", "")] }, .fails(.unsafeEntry)),
        .init("WhiteoutCurrentDirectory", setup: etcPasswd(), { _ in [.file("etc/.wh..", "")] }, .fails(.unsafeEntry)),
        .init("WhiteoutSymlink", setup: { s in
            try etcPasswd("all users")(s)
            try symlink(s, "/etc", "localetc")
        }, { _ in [.file(".wh.localetc", "")] },
        .applies(all(fileValue("etc/passwd", "all users"), fileNotExists("localetc")))),
        .init("WhiteoutSymlinkPath", setup: { s in
            try etcPasswd("all users")(s)
            try file(s, "etc/whitedout", "ahhhh whiteout")
            try symlink(s, "/etc", "localetc")
        }, { _ in [.file("localetc/.wh.whitedout", "")] },
        .applies(all(fileValue("etc/passwd", "all users"), fileNotExists("etc/whitedout")))),
        .init("WhiteoutDirectoryName", setup: { s in
            try etcPasswd("all users")(s)
            try file(s, "etc/whitedout", "ahhhh whiteout")
            try symlink(s, "/etc", "localetc")
        }, { _ in [.file(".wh.etc/somefile", "non-empty")] },
        .applies(all(fileValue("etc/passwd", "all users"), fileValue(".wh.etc/somefile", "non-empty")))),
        .init("WhiteoutDeadSymlinkParent", setup: { s in
            try etcPasswd("all users")(s)
            try symlink(s, "/dne", "localetc")
        }, { _ in [.file("localetc/.wh.etc", "")] }, .applies(fileValue("etc/passwd", "all users"))),
        .init("WhiteoutRelativePath", setup: { s in
            try etcPasswd("all users")(s)
            try symlink(s, "/dne", "localetc")
        }, { _ in [.file("dne/../.wh.etc", "")] }, .applies(fileNotExists("etc/passwd"))),
        .init("HardlinkSymlinkBeforeCreateTarget", { _ in
            [.dir("etc", mode: 0o770), .symlink("/etc/passwd", "localpasswd"), .link("localpasswd", "localpasswd-dup"),
             .file("/etc/passwd", "after")]
        }, .applies(sameFile("localpasswd-dup", "/etc/passwd"))),
        .init("HardlinkSymlinkRelative", { _ in
            [.dir("etc", mode: 0o770), .file("/etc/passwd", "inside"), .symlink("../../../../../etc/passwd", "passwdlink"),
             .link("/passwdlink", "localpasswd")]
        }, .applies(all(sameSymlink("/localpasswd", "/passwdlink"), sameFile("/localpasswd", "/etc/passwd")))),
        .init("HardlinkSymlinkAbsolute", { _ in
            [.dir("etc", mode: 0o770), .file("/etc/passwd", "inside"), .symlink("/etc/passwd", "passwdlink"),
             .link("/passwdlink", "localpasswd")]
        }, .applies(all(sameSymlink("/localpasswd", "/passwdlink"), sameFile("/localpasswd", "/etc/passwd")))),
        // containerd's perm400 file is our canary (0640); the hard link asks for 0777.
        .init("HardlinkSymlinkChmod", { s in
            var sketchy = TarEntry.link(s.outside + "/also-exists-outside-root", "sketchylink")
            sketchy.mode = 0o777
            return [.symlink(s.canary, s.outside + "/also-exists-outside-root"), sketchy]
        }, .applies { s, r in sameSymlink("sketchylink", s.outside + "/also-exists-outside-root")(s, r) }),
    ]

    @Test(arguments: containerd)
    func containerdBreakout(_ c: BreakoutCase) throws {
        try run(c)
    }

    /// Aimed at the real sibling directory `outside` and its canary.
    static let berth: [BreakoutCase] = [
        .init("DotDotName", { _ in [.file("../outside/canary", "pwned")] },
              .applies(fileValue("outside/canary", "pwned"))),
        .init("AbsoluteName", { s in [.file(s.canary, "pwned")] },
              .applies { s, r in fileValue(String(s.canary.dropFirst()), "pwned")(s, r) }),
        .init("SymlinkRelativeOutThenFile", { _ in
            [.symlink("../outside", "escape"), .file("escape/canary", "pwned")]
        }, .applies(all(fileValue("outside/canary", "pwned"), sameSymlink("escape", "escape")))),
        .init("SymlinkAbsoluteOutThenFile", { s in
            [.symlink(s.outside, "escape"), .file("escape/canary", "pwned")]
        }, .applies { s, r in fileValue(String(s.canary.dropFirst()), "pwned")(s, r) }),
        .init("SymlinkChainOut", { _ in
            [.symlink("b", "a"), .symlink("/../../../outside", "b"), .file("a/canary", "pwned")]
        }, .applies(fileValue("outside/canary", "pwned"))),
        .init("FileReplacesSymlinkToCanary", { s in
            [.symlink(s.canary, "c"), .file("c", "pwned", mode: 0o777)]
        }, .applies(fileValue("c", "pwned"))),
        .init("SymlinkMetadataNotFollowed", { s in
            var link = TarEntry.symlink(s.canary, "c")
            link.mode = 0o777
            link.uid = 4242
            link.gid = 4242
            link.mtime = 12345
            return [link]
        }, .applies { s, _ in
            #expect(s.lstatInRoot("c").map { $0.st_mode & S_IFMT == S_IFLNK && $0.st_uid == 4242 } == true)
        }),
        .init("DirectoryReplacesSymlinkOut", { s in
            [.symlink(s.outside, "d"), .dir("d", mode: 0o777)]
        }, .applies { s, _ in
            #expect(s.lstatInRoot("d").map { $0.st_mode & S_IFMT == S_IFDIR && $0.st_mode & 0o777 == 0o777 } == true)
        }),
        .init("DirectoryThenSymlinkInterleaved", { s in
            [.dir("a"), .file("a/one", "1"), .symlink(s.outside, "a"), .file("a/canary", "pwned"), .dir("a/sub", mode: 0o777)]
        }, .applies { s, r in
            fileValue(String(s.canary.dropFirst()), "pwned")(s, r)
            #expect(s.lstatInRoot("a").map { $0.st_mode & S_IFMT == S_IFLNK } == true)
        }),
        .init("DirectoryThenRelativeSymlinkInterleaved", { _ in
            [.dir("a"), .symlink("../../outside", "a"), .file("a/canary", "pwned"), .link("a/canary", "a/hard")]
        }, .applies(all(fileValue("outside/canary", "pwned"), sameFile("outside/canary", "outside/hard")))),
        .init("HardlinkAbsoluteOut", { s in [.link(s.canary, "h")] }, .fails(.unsafeEntry)),
        .init("HardlinkDotDotOut", { _ in [.link("../outside/canary", "h")] }, .fails(.unsafeEntry)),
        .init("HardlinkThroughSymlinkOut", { s in [.symlink(s.outside, "o"), .link("o/canary", "h")] }, .fails(.unsafeEntry)),
        .init("HardlinkToDirectory", { _ in [.dir("d"), .link("d", "h")] }, .fails(.unsafeEntry)),
        .init("WhiteoutThroughSymlinkOut", { s in [.symlink(s.outside, "o"), .file("o/.wh.canary", "")] },
              .applies(fileNotExists("o/.wh.canary"))),
        .init("WhiteoutDotDotOut", { _ in [.file("../outside/.wh.canary", "")] }, .applies(fileNotExists("outside"))),
        .init("OpaqueThroughSymlinkOut", { _ in [.symlink("../outside", "o"), .file("o/.wh..wh..opq", "")] },
              .applies(fileNotExists("outside"))),
        .init("DeviceNodesSkipped", { _ in
            [.dir("dev"), TarEntry(name: "dev/null2", kind: .charDevice(1, 3), mode: 0o666),
             TarEntry(name: "dev/sda", kind: .blockDevice(8, 0), mode: 0o660)]
        }, .applies { s, r in
            #expect(s.lstatInRoot("dev/null2") == nil && s.lstatInRoot("dev/sda") == nil)
            #expect(r.skipped == ["dev/null2: device node", "dev/sda: device node"])
        }),
        .init("DuplicatesLaterWins", { _ in
            [.file("f", "one"), .file("f", "two"), .dir("d"), .file("d/x", "x"), .file("d", "file now"),
             .file("g", "g"), .dir("g", mode: 0o700), .symlink("f", "h"), .file("h", "regular"),
             .link("f", "l"), .file("l", "unlinked")]
        }, .applies { s, r in
            fileValue("f", "two")(s, r)
            fileValue("d", "file now")(s, r)
            fileValue("h", "regular")(s, r)
            fileValue("l", "unlinked")(s, r)
            #expect(s.lstatInRoot("g").map { $0.st_mode & 0o7777 == 0o700 && $0.st_mode & S_IFMT == S_IFDIR } == true)
            #expect(s.lstatInRoot("f")?.st_nlink == 1)
        }),
        .init("SymlinkLoop", { _ in [.symlink("b", "a"), .symlink("a", "b"), .file("a/x", "x")] }, .fails(.io)),
        .init("ProcSelfRootIsJustAPath", { _ in
            [.symlink("/proc/self/root/", "p"), .file("p/escaped", "no")]
        }, .applies(fileValue("proc/self/root/escaped", "no"))),
    ]

    @Test(arguments: berth)
    func berthBreakout(_ c: BreakoutCase) throws {
        try run(c)
    }

    func run(_ c: BreakoutCase) throws {
        let s = try Sandbox()
        defer { s.cleanup() }
        try c.setup(s)
        let layer = c.layer(s)
        switch c.expectation {
        case let .applies(validate):
            validate(s, try s.apply(layer))
        case let .fails(kind):
            expectArchiveError(kind) { try s.apply(layer) }
        }
        s.expectCanaryIntact()
    }
}
