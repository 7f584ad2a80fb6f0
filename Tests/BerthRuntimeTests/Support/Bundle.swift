import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Where the executables under test are: `BERTH_BIN_DIR`, or `<package root>/.build/debug`.
enum Binaries {
    static let directory: String = {
        if let dir = ProcessInfo.processInfo.environment["BERTH_BIN_DIR"], !dir.isEmpty { return dir }
        // This file is <package root>/Tests/BerthRuntimeTests/Support/Bundle.swift.
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { url.deleteLastPathComponent() }
        return url.appendingPathComponent(".build/debug").path
    }()

    static var berthRuntime: String { directory + "/berth-runtime" }
    static let runc = "/usr/sbin/runc"
    static let busybox = "/bin/busybox"
}

/// The busybox applets every test rootfs gets as symlinks in /bin.
let busyboxApplets = [
    "sh", "ls", "id", "cat", "hostname", "mkdir", "grep", "env", "pwd", "sleep", "echo", "touch", "true", "false",
    "head", "tail", "dd", "mount", "sort", "awk", "readlink", "stat", "wc", "ps", "kill", "printf", "test", "seq",
    "rm", "ln", "tr", "cut", "uname", "umask", "yes", "mknod", "stty", "tty",
]

/// A private temporary directory with a short path (`/tmp/br.XXXXXX`), so socket paths
/// inside it stay far below the 108-byte limit of `sun_path`.
final class Scratch: Sendable {
    let path: String

    init() throws {
        var template = Array("/tmp/br.XXXXXX".utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw TestFailure("mkdtemp: \(String(cString: strerror(errno)))")
        }
        path = String(cString: made)
    }

    func callAsFunction(_ name: String) -> String { path + "/" + name }

    @discardableResult
    func write(_ name: String, _ text: String, mode: mode_t = 0o644) throws -> String {
        let file = self(name)
        try FileManager.default.createDirectory(atPath: (file as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try Data(text.utf8).write(to: URL(fileURLWithPath: file))
        chmod(file, mode)
        return file
    }

    /// Unmounts anything a runtime left mounted below the scratch directory (on the host:
    /// that is itself a bug), then removes it. Never removes through a leftover mount:
    /// if one cannot be unmounted, the directory is left for a human to look at.
    func remove() {
        for mountPoint in mounts(under: path).sorted(by: >) {
            _ = umount2(mountPoint, Int32(MNT_DETACH))
        }
        guard mounts(under: path).isEmpty else { return }
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// Mount points on the host at or below `dir`.
func mounts(under dir: String) -> [String] {
    guard let table = readText("/proc/self/mounts") else { return [] }
    return table.split(separator: "\n").compactMap { line in
        let fields = line.split(separator: " ")
        guard fields.count > 1 else { return nil }
        let point = String(fields[1])
        return point == dir || point.hasPrefix(dir + "/") ? point : nil
    }
}

/// A config.json as a JSON object, edited in place by key paths.
struct Config {
    var json: [String: Any]

    subscript(path: String...) -> Any? {
        get { Self.get(json, path[...]) }
        set { json = Self.set(json, path[...], newValue) }
    }

    private static func get(_ object: [String: Any], _ path: ArraySlice<String>) -> Any? {
        guard let key = path.first else { return object }
        let value = object[key]
        if path.count == 1 { return value }
        guard let nested = value as? [String: Any] else { return nil }
        return get(nested, path.dropFirst())
    }

    private static func set(_ object: [String: Any], _ path: ArraySlice<String>, _ value: Any?) -> [String: Any] {
        var object = object
        guard let key = path.first else { return object }
        if path.count == 1 {
            object[key] = value
        } else {
            object[key] = set(object[key] as? [String: Any] ?? [:], path.dropFirst(), value)
        }
        return object
    }

    var args: [String] {
        get { self["process", "args"] as? [String] ?? [] }
        set { self["process", "args"] = newValue }
    }

    /// `sh -c SCRIPT` as the process.
    mutating func shell(_ script: String) { args = ["sh", "-c", script] }

    mutating func appendMount(_ mount: [String: Any]) {
        var mounts = self["mounts"] as? [[String: Any]] ?? []
        mounts.append(mount)
        self["mounts"] = mounts
    }

    mutating func append(_ value: Any, to path: String...) {
        var array = Self.get(json, path[...]) as? [Any] ?? []
        array.append(value)
        json = Self.set(json, path[...], array)
    }

    func data() throws -> Data {
        try JSONSerialization.data(withJSONObject: json, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
    }
}

/// An OCI bundle: `config.json` and a busybox `rootfs`.
struct Bundle {
    let path: String
    var rootfs: String { path + "/rootfs" }
    var configPath: String { path + "/config.json" }

    /// Builds the rootfs: /bin/busybox and its applets, /etc/passwd and /etc/group (with
    /// extra groups), empty /proc /dev /sys /tmp; and config.json from `berth-runtime
    /// spec` with `terminal: false`.
    static func make(at path: String) async throws -> Bundle {
        let bundle = Bundle(path: path)
        let fm = FileManager.default
        for dir in ["bin", "etc", "proc", "dev", "sys", "tmp", "root"] {
            try fm.createDirectory(atPath: bundle.rootfs + "/" + dir, withIntermediateDirectories: true)
        }
        chmod(bundle.rootfs + "/tmp", 0o1777)
        try fm.copyItem(atPath: Binaries.busybox, toPath: bundle.rootfs + "/bin/busybox")
        for applet in busyboxApplets {
            try fm.createSymbolicLink(atPath: bundle.rootfs + "/bin/" + applet, withDestinationPath: "busybox")
        }
        try Data("""
            root:x:0:0:root:/root:/bin/sh
            daemon:x:1:1:daemon:/usr/sbin:/bin/sh
            user:x:1000:1000:user:/tmp:/bin/sh

            """.utf8).write(to: URL(fileURLWithPath: bundle.rootfs + "/etc/passwd"))
        try Data("""
            root:x:0:
            daemon:x:1:
            wheel:x:10:user
            uucp:x:20:user
            user:x:1000:

            """.utf8).write(to: URL(fileURLWithPath: bundle.rootfs + "/etc/group"))
        let spec = try await runProgram(Binaries.berthRuntime, ["spec", "--bundle", path])
        guard spec.status == 0 else { throw TestFailure("berth-runtime spec failed:\n\(spec)") }
        var config = try bundle.config()
        config["process", "terminal"] = false
        try bundle.write(config)
        return bundle
    }

    func config() throws -> Config {
        let data = try Data(contentsOf: URL(fileURLWithPath: configPath))
        guard let json = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw TestFailure("\(configPath) is not a JSON object")
        }
        return Config(json: json)
    }

    func write(_ config: Config) throws {
        try config.data().write(to: URL(fileURLWithPath: configPath))
    }

    func edit(_ change: (inout Config) throws -> Void) throws {
        var config = try config()
        try change(&config)
        try write(config)
    }
}
