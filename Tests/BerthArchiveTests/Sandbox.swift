import BerthArchive
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A temporary directory under /tmp holding the layer `root`, and next to it `outside`
/// with a canary file that no layer may touch. Removed by `cleanup()`.
final class Sandbox {
    let directory: String
    let root: String
    let outside: String
    let canary: String
    static let canaryContent = "precious, do not touch"
    static let canaryMtime = 1_000_000_000

    init() throws {
        var template = Array("/tmp/berth-archive-test-XXXXXX".utf8CString)
        guard mkdtemp(&template) != nil else { throw SandboxError("mkdtemp: errno \(errno)") }
        directory = String(cString: template)
        root = directory + "/root"
        outside = directory + "/outside"
        canary = outside + "/canary"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: false)
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: false)
        try write(canary, Self.canaryContent, mode: 0o640)
        setTimes(canary, Self.canaryMtime)
    }

    func cleanup() {
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Applies `layer` (written to a file next to root) with `options`.
    @discardableResult
    func apply(_ layer: [UInt8], _ options: ApplyOptions = ApplyOptions(whiteouts: .native)) throws -> ApplyResult {
        let path = directory + "/layer"
        try Data(layer).write(to: URL(fileURLWithPath: path))
        defer { unlink(path) }
        return try LayerApplier.apply(file: path, into: root, options: options)
    }

    /// The canary and its directory are exactly as created, and nothing the tests name on
    /// the host (containerd's cases aim at /etc) appeared there.
    func expectCanaryIntact(sourceLocation: SourceLocation = #_sourceLocation) {
        #expect((try? String(contentsOfFile: canary, encoding: .utf8)) == Self.canaryContent, sourceLocation: sourceLocation)
        var st = stat()
        #expect(lstat(canary, &st) == 0, sourceLocation: sourceLocation)
        #expect(st.st_mode & 0o7777 == 0o640, sourceLocation: sourceLocation)
        #expect(st.st_mode & S_IFMT == S_IFREG, sourceLocation: sourceLocation)
        #expect(st.st_mtim.tv_sec == Self.canaryMtime, sourceLocation: sourceLocation)
        #expect(st.st_nlink == 1, "a hard link to the canary was made", sourceLocation: sourceLocation)
        #expect((try? FileManager.default.contentsOfDirectory(atPath: outside)) == ["canary"], sourceLocation: sourceLocation)
        for host in ["/etc/unbroken", "/etc/emptied", "/etc/localpasswd", "/localetc", "/breakout", "/tmp/canary"] {
            #expect(access(host, F_OK) != 0, "\(host) appeared on the host", sourceLocation: sourceLocation)
        }
    }

    /// `path` resolved inside root the way the layer sees it: every symlink, the last one
    /// included, followed as if root were `/` (containerd's `fs.RootPath`).
    func rootPath(_ path: String) -> String {
        var pending = path.split(separator: "/").map(String.init)
        var resolved: [String] = []
        var links = 0
        while !pending.isEmpty {
            let component = pending.removeFirst()
            if component == "." { continue }
            if component == ".." { _ = resolved.popLast(); continue }
            let candidate = root + "/" + (resolved + [component]).joined(separator: "/")
            if links < 64, let target = try? FileManager.default.destinationOfSymbolicLink(atPath: candidate) {
                links += 1
                if target.hasPrefix("/") { resolved = [] }
                pending = target.split(separator: "/").map(String.init) + pending
            } else {
                resolved.append(component)
            }
        }
        return root + "/" + resolved.joined(separator: "/")
    }

    /// lstat of `path` relative to root, no symlink followed.
    func lstatInRoot(_ path: String) -> stat? {
        var st = stat()
        return lstat(root + "/" + path, &st) == 0 ? st : nil
    }

    func read(_ path: String) -> String? {
        try? String(contentsOfFile: root + "/" + path, encoding: .utf8)
    }
}

struct SandboxError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

func write(_ path: String, _ content: String, mode: mode_t = 0o644) throws {
    guard FileManager.default.createFile(atPath: path, contents: Data(content.utf8)) else {
        throw SandboxError("create \(path)")
    }
    chmod(path, mode)
}

func setTimes(_ path: String, _ seconds: Int) {
    var times = [timespec(tv_sec: seconds, tv_nsec: 0), timespec(tv_sec: seconds, tv_nsec: 0)]
    utimensat(AT_FDCWD, path, &times, AT_SYMLINK_NOFOLLOW)
}

/// lgetxattr(2), looked up at run time (the test target does not link the C shims).
func xattr(_ path: String, _ name: String) -> [UInt8]? {
    typealias LGetXattr = @convention(c) (UnsafePointer<CChar>, UnsafePointer<CChar>, UnsafeMutableRawPointer?, Int) -> Int
    guard let symbol = dlsym(nil, "lgetxattr") else { return nil }
    let lgetxattr = unsafeBitCast(symbol, to: LGetXattr.self)
    var buffer = [UInt8](repeating: 0, count: 4096)
    let n = buffer.withUnsafeMutableBytes { lgetxattr(path, name, $0.baseAddress, $0.count) }
    return n < 0 ? nil : Array(buffer[0..<n])
}

/// Expects `body` to throw an `ArchiveError` of `kind`.
func expectArchiveError(_ kind: ArchiveError.Kind, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) {
    do {
        try body()
        Issue.record("expected ArchiveError(.\(kind)), got success", sourceLocation: sourceLocation)
    } catch let error as ArchiveError {
        #expect(error.kind == kind, "\(error)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected ArchiveError(.\(kind)), got \(error)", sourceLocation: sourceLocation)
    }
}
