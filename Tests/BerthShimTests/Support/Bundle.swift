import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// An OCI bundle for one test container: `config.json` from `berth-runtime spec`
/// (terminal off, the given args, a cgroup of its own) and a busybox rootfs.
enum TestBundle {
    static let applets = ["sh", "echo", "sleep", "cat", "id", "ls", "true", "yes", "head", "wc", "kill"]

    /// Fills `directory` (which must exist) with `config.json` and `rootfs/`.
    static func make(at directory: String, args: [String], cgroupsPath: String) async throws {
        let spec = try await runProgram(Binaries.runtime, ["spec"], directory: directory)
        guard spec.status == 0 else { throw TestFailure("berth-runtime spec failed: \(spec)") }
        let configPath = directory + "/config.json"
        guard var config = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: configPath))) as? [String: Any],
              var process = config["process"] as? [String: Any], var linux = config["linux"] as? [String: Any] else {
            throw TestFailure("berth-runtime spec wrote an unexpected config.json")
        }
        process["terminal"] = false
        process["args"] = args
        config["process"] = process
        linux["cgroupsPath"] = cgroupsPath
        config["linux"] = linux
        try JSONSerialization.data(withJSONObject: config, options: [.sortedKeys]).write(to: URL(fileURLWithPath: configPath))

        let rootfs = directory + "/rootfs"
        let fm = FileManager.default
        for dir in ["bin", "proc", "dev", "sys", "tmp", "etc"] {
            try fm.createDirectory(atPath: rootfs + "/" + dir, withIntermediateDirectories: true)
        }
        // A hard link when /tmp and /bin share a file system, a copy otherwise.
        if link("/bin/busybox", rootfs + "/bin/busybox") != 0 {
            try fm.copyItem(atPath: "/bin/busybox", toPath: rootfs + "/bin/busybox")
        }
        for applet in applets {
            try fm.createSymbolicLink(atPath: rootfs + "/bin/" + applet, withDestinationPath: "busybox")
        }
    }
}
