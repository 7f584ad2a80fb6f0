import BerthArchive
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// One case of the breakout table: a root prepared by `setup`, a layer, and what must
/// follow. Every case also checks that the canary outside root is untouched.
struct BreakoutCase: Sendable, CustomTestStringConvertible {
    enum Expectation: Sendable {
        case applies(@Sendable (Sandbox, ApplyResult) -> Void)
        case fails(ArchiveError.Kind)
    }

    var name: String
    var setup: @Sendable (Sandbox) throws -> Void = { _ in }
    var layer: @Sendable (Sandbox) -> [UInt8]
    var expectation: Expectation
    var testDescription: String { name }

    init(_ name: String, setup: @escaping @Sendable (Sandbox) throws -> Void = { _ in },
         _ entries: @escaping @Sendable (Sandbox) -> [TarEntry], _ expectation: Expectation) {
        self.name = name
        self.setup = setup
        self.layer = { TarBuilder.tar(entries($0)) }
        self.expectation = expectation
    }

    init(_ name: String, raw: @escaping @Sendable (Sandbox) -> [UInt8], _ expectation: Expectation) {
        self.name = name
        self.layer = raw
        self.expectation = expectation
    }
}

// MARK: validators, in the shape of containerd's

func unbroken(_ s: Sandbox, _: ApplyResult) {
    #expect(s.read("etc/unbroken") == "unbroken")
}

func sameFile(_ a: String, _ b: String) -> @Sendable (Sandbox, ApplyResult) -> Void {
    { s, _ in
        var sa = stat(), sb = stat()
        let pa = s.rootPath(a), pb = s.rootPath(b)
        #expect(lstat(pa, &sa) == 0, "\(pa)")
        #expect(lstat(pb, &sb) == 0, "\(pb)")
        #expect(sa.st_ino == sb.st_ino && sa.st_dev == sb.st_dev, "\(a) and \(b) are different files")
    }
}

func notSameFile(_ a: String, _ b: String) -> @Sendable (Sandbox, ApplyResult) -> Void {
    { s, _ in
        var sa = stat(), sb = stat()
        #expect(lstat(s.rootPath(a), &sa) == 0)
        #expect(lstat(s.rootPath(b), &sb) == 0)
        #expect(sa.st_ino != sb.st_ino, "\(a) and \(b) are the same file")
    }
}

func sameSymlink(_ a: String, _ b: String) -> @Sendable (Sandbox, ApplyResult) -> Void {
    { s, _ in
        let ta = try? FileManager.default.destinationOfSymbolicLink(atPath: s.root + "/" + a)
        let tb = try? FileManager.default.destinationOfSymbolicLink(atPath: s.root + "/" + b)
        #expect(ta != nil && ta == tb, "\(a) -> \(ta ?? "not a symlink"), \(b) -> \(tb ?? "not a symlink")")
    }
}

func fileValue(_ path: String, _ content: String) -> @Sendable (Sandbox, ApplyResult) -> Void {
    { s, _ in #expect(s.read(path) == content, "\(path)") }
}

func fileNotExists(_ path: String) -> @Sendable (Sandbox, ApplyResult) -> Void {
    { s, _ in #expect(s.lstatInRoot(path) == nil, "\(path) exists") }
}

func all(_ checks: (@Sendable (Sandbox, ApplyResult) -> Void)...) -> @Sendable (Sandbox, ApplyResult) -> Void {
    { s, r in checks.forEach { $0(s, r) } }
}

// MARK: setup helpers, in the shape of containerd's fstest

func mkdir(_ s: Sandbox, _ path: String, _ mode: mode_t = 0o755) throws {
    try FileManager.default.createDirectory(atPath: s.root + "/" + path, withIntermediateDirectories: true)
    chmod(s.root + "/" + path, mode)
}

func file(_ s: Sandbox, _ path: String, _ content: String) throws {
    try write(s.root + "/" + path, content)
}

func symlink(_ s: Sandbox, _ target: String, _ name: String) throws {
    guard Glibc.symlink(target, s.root + "/" + name) == 0 else { throw SandboxError("symlink \(name): errno \(errno)") }
}

/// A hard link `name` to `target`, both resolved in root (fstest.Link).
func hardlink(_ s: Sandbox, _ target: String, _ name: String) throws {
    guard link(s.rootPath(target), s.rootPath(name)) == 0 else { throw SandboxError("link \(name): errno \(errno)") }
}

/// /etc/passwd "inside" (and /localetc/ when asked), as containerd's override cases start.
func etcPasswd(_ content: String = "inside", localetc: Bool = false) -> @Sendable (Sandbox) throws -> Void {
    { s in
        try mkdir(s, "etc")
        try file(s, "etc/passwd", content)
        if localetc { try mkdir(s, "localetc") }
    }
}
