import BerthAPI
import BerthOCI
import BerthSystem
#if canImport(Glibc)
import Glibc
#endif

/// Finds the default seccomp profile a container gets when its spec names none
/// (contrib/seccomp/default.json, installed or in the source tree).
enum SeccompProfileLocator {
    static var candidates: [String] {
        if let env = getenv("BERTH_SECCOMP_PROFILE") { return [String(cString: env)] }
        let binDir = FileSystem.parentDirectory(of: selfExecutable())
        var paths = ["\(binDir)/../share/berth/seccomp/default.json", "/usr/local/share/berth/seccomp/default.json",
                     "/usr/share/berth/seccomp/default.json", "/etc/berth/seccomp/default.json"]
        // A build tree: <repo>/.build/<triple>/debug/berthd → <repo>/contrib/seccomp/default.json
        var dir = binDir
        for _ in 0..<4 {
            dir = FileSystem.parentDirectory(of: dir)
            paths.append(dir + "/contrib/seccomp/default.json")
        }
        return paths
    }

    static func load() -> Spec.Seccomp? {
        for path in candidates {
            if let bytes = try? FileSystem.readFile(path, limit: 4 << 20), let profile = try? WireJSON.decode(Spec.Seccomp.self, from: bytes) {
                return profile
            }
        }
        return nil
    }
}
