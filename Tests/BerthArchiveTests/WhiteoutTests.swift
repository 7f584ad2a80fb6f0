import BerthArchive
import BerthSystem
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Whiteouts and opaque directories in both modes. Overlay mode is checked by the kernel:
/// the applied root is mounted as an overlay's upper directory over a lower one.
@Suite struct WhiteoutTests {
    /// The lower layer both modes start from.
    private func makeLower(_ path: String) throws {
        for dir in ["", "/d", "/d/sub", "/keepdir"] {
            try FileManager.default.createDirectory(atPath: path + dir, withIntermediateDirectories: true)
        }
        for (name, content) in [("a", "lower a"), ("keep", "lower keep"), ("d/x", "lower x"), ("d/y", "lower y"),
                                ("d/sub/z", "lower z"), ("keepdir/k", "lower k")] {
            try write(path + "/" + name, content)
        }
    }

    /// Deletes `a` and `keepdir/gone-already` (absent below), makes `d` opaque with the
    /// marker between this layer's own entries in `d`, and adds `d/sub/w` below a
    /// directory the lower layer also has.
    private let layer = TarBuilder.tar([
        .file(".wh.a", ""),
        .dir("d"),
        .file("d/new", "upper new"),
        .dir("d/sub"),
        .file("d/sub/w", "upper w"),
        .file("d/.wh..wh..opq", ""),
        .file("d/after", "after the marker"),
        .dir("keepdir"),
        .file("keepdir/.wh.gone-already", ""),
    ])

    private func names(_ path: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted()
    }

    @Test func nativeModeRemovesWhitedOutAndOpaqueContent() throws {
        let s = try Sandbox()
        defer { s.cleanup() }
        try makeLower(s.root)
        let result = try s.apply(layer, ApplyOptions(whiteouts: .native))
        #expect(result.entries == 9)
        #expect(names(s.root) == ["d", "keep", "keepdir"])
        #expect(names(s.root + "/d") == ["after", "new", "sub"])
        #expect(names(s.root + "/d/sub") == ["w"])
        #expect(names(s.root + "/keepdir") == ["k"])
        #expect(s.read("keep") == "lower keep")
        s.expectCanaryIntact()
    }

    @Test func overlayModeMakesDevicesAndOpaqueXattrs() throws {
        let s = try Sandbox()
        defer { s.cleanup() }
        let result = try s.apply(layer, ApplyOptions(whiteouts: .overlay))
        #expect(result.skipped.isEmpty)
        let a = s.lstatInRoot("a")
        #expect(a.map { $0.st_mode & S_IFMT == S_IFCHR && $0.st_rdev == 0 } == true)
        #expect(s.lstatInRoot("keepdir/gone-already").map { $0.st_mode & S_IFMT == S_IFCHR } == true)
        #expect(xattr(s.root + "/d", "trusted.overlay.opaque") == Array("y".utf8))
        #expect(xattr(s.root + "/d/sub", "trusted.overlay.opaque") == nil)
        #expect(names(s.root + "/d") == ["after", "new", "sub"])
        // No whiteout file is ever left as itself.
        let all = FileManager.default.enumerator(atPath: s.root)?.allObjects as? [String] ?? []
        #expect(!all.contains { $0.split(separator: "/").last!.hasPrefix(".wh.") })
    }

    /// The kernel's view: mount lower + the applied upper and look.
    @Test func overlayMountHidesWhitedOutAndOpaqueLowerFiles() throws {
        let s = try Sandbox()
        defer { s.cleanup() }
        let lower = s.directory + "/lower", upper = s.root, work = s.directory + "/work", merged = s.directory + "/merged"
        try makeLower(lower)
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: false)
        try FileManager.default.createDirectory(atPath: merged, withIntermediateDirectories: false)
        try s.apply(layer, ApplyOptions(whiteouts: .overlay))
        try Mounting.mount(source: "overlay", target: merged, type: "overlay", flags: 0,
                           data: "lowerdir=\(lower),upperdir=\(upper),workdir=\(work)")
        defer { try? Mounting.unmount(merged, detach: true) }
        #expect(names(merged) == ["d", "keep", "keepdir"])
        #expect(names(merged + "/d") == ["after", "new", "sub"])
        #expect(names(merged + "/d/sub") == ["w"])
        #expect(names(merged + "/keepdir") == ["k"])
        #expect((try? String(contentsOfFile: merged + "/keep", encoding: .utf8)) == "lower keep")
        #expect((try? String(contentsOfFile: merged + "/d/new", encoding: .utf8)) == "upper new")
        try Mounting.unmount(merged)
        #expect(!Mounting.isMountPoint(merged))
    }

    /// A whiteout of something this same layer made earlier removes it in native mode and
    /// replaces it by a whiteout device in overlay mode.
    @Test(arguments: [WhiteoutMode.native, .overlay])
    func whiteoutAfterOwnEntry(_ mode: WhiteoutMode) throws {
        let s = try Sandbox()
        defer { s.cleanup() }
        try s.apply(TarBuilder.tar([.dir("x"), .file("x/f", "f"), .file(".wh.x", "")]), ApplyOptions(whiteouts: mode))
        let x = s.lstatInRoot("x")
        switch mode {
        case .native: #expect(x == nil)
        case .overlay: #expect(x.map { $0.st_mode & S_IFMT == S_IFCHR } == true)
        }
    }

    /// Overlay-mode whiteouts through symlinks land inside the root too, and an opaque
    /// marker at the root sets the xattr on the root itself.
    @Test func overlayWhiteoutsStayInside() throws {
        let s = try Sandbox()
        defer { s.cleanup() }
        try s.apply(TarBuilder.tar([
            .symlink(s.outside, "o"), .file("o/.wh.canary", ""),
            .symlink("../../outside", "r"), .file("r/.wh..wh..opq", ""),
            .file("../outside/.wh.other", ""),
        ]), ApplyOptions(whiteouts: .overlay))
        #expect(s.lstatInRoot(String(s.canary.dropFirst())).map { $0.st_mode & S_IFMT == S_IFCHR } == true)
        #expect(xattr(s.root + "/outside", "trusted.overlay.opaque") == Array("y".utf8))
        #expect(s.lstatInRoot("outside/other").map { $0.st_mode & S_IFMT == S_IFCHR } == true)
        #expect(xattr(s.outside, "trusted.overlay.opaque") == nil)
        s.expectCanaryIntact()
    }

    @Test(arguments: [".wh.", "d/.wh.", ".wh..", ".wh..."])
    func invalidWhiteoutNames(_ name: String) throws {
        let s = try Sandbox()
        defer { s.cleanup() }
        for mode in [WhiteoutMode.native, .overlay] {
            expectArchiveError(.unsafeEntry) { try s.apply(TarBuilder.tar([.file(name, "")]), ApplyOptions(whiteouts: mode)) }
        }
    }
}
