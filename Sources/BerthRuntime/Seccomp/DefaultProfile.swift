import BerthOCI
import BerthSystem

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// Berth's default seccomp profile (`contrib/seccomp/default.json`): an allowlist in the
/// manner of moby's, for containers without CAP_SYS_ADMIN. See contrib/seccomp/README.md.
///
/// The runtime applies whatever `linux.seccomp` the bundle carries; it is the daemon (or
/// whoever writes the bundle) that puts this profile there when the user names none.
public enum DefaultSeccompProfile {
    /// Where the file is looked for, first match wins: `<exe>/../share/berth/seccomp/default.json`
    /// (an installed tree); `/usr/local/share/berth/seccomp/default.json`;
    /// `/usr/share/berth/seccomp/default.json`; `contrib/seccomp/default.json` of the
    /// source checkout this module was built from (development and tests).
    /// `$BERTH_SECCOMP_PROFILE`, when set, is the only candidate.
    public static var candidatePaths: [String] {
        if let env = getenv("BERTH_SECCOMP_PROFILE"), env.pointee != 0 {
            return [String(cString: env)]
        }
        var paths: [String] = []
        if let exe = executableDirectory() {
            paths.append(exe + "/../share/berth/seccomp/default.json")
        }
        paths.append("/usr/local/share/berth/seccomp/default.json")
        paths.append("/usr/share/berth/seccomp/default.json")
        // #filePath is <checkout>/Sources/BerthRuntime/Seccomp/DefaultProfile.swift.
        let source = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
        if source.count > 4 {
            paths.append(source.dropLast(4).joined(separator: "/") + "/contrib/seccomp/default.json")
        }
        return paths
    }

    /// The first readable file of `candidatePaths`, or nil when none is.
    public static var bundledPath: String? {
        candidatePaths.first { access($0, R_OK) == 0 }
    }

    /// Reads and decodes an OCI `linux.seccomp` object (not a whole config.json).
    ///
    /// Only the JSON is checked here; `SeccompCompiler.compile` checks the vocabulary.
    /// Throws `SystemError` when the file cannot be read and `DecodingError` when it is not
    /// a seccomp object.
    public static func load(from path: String) throws -> Spec.Seccomp {
        let bytes = try FileSystem.readFile(path, limit: 4 << 20)
        return try JSONDecoder().decode(Spec.Seccomp.self, from: Data(bytes))
    }

    /// The bundled profile, loaded.
    public static func loadBundled() throws -> Spec.Seccomp {
        guard let path = bundledPath else {
            throw SystemError(errno: ENOENT, stage: "default seccomp profile (looked in \(candidatePaths.joined(separator: ", ")))")
        }
        return try load(from: path)
    }

    private static func executableDirectory() -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard n > 0 else { return nil }
        let path = String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard let slash = path.lastIndex(of: "/") else { return nil }
        return String(path[..<slash])
    }
}
