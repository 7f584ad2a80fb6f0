import BerthAPI
import BerthDigest
import BerthOCI
import BerthSystem
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A busybox root file system layer (gzip) with users and groups for the image `User`
/// tests: nobody 65534:65534, app 1000:1000 and a member of staff (50); `/work` exists.
func busyboxLayer(in scratch: Scratch) throws -> Layer {
    let root = try makeBusyboxRootfs(in: scratch)
    try """
        root:x:0:0:root:/:/bin/sh
        app:x:1000:1000:app:/work:/bin/sh
        nobody:x:65534:65534:nobody:/nonexistent:/bin/false

        """.write(toFile: root + "/etc/passwd", atomically: true, encoding: .utf8)
    try "root:x:0:\nstaff:x:50:app\napp:x:1000:\nnogroup:x:65534:\n".write(toFile: root + "/etc/group", atomically: true, encoding: .utf8)
    try FileManager.default.createDirectory(atPath: root + "/work", withIntermediateDirectories: true)
    try FileManager.default.createDirectory(atPath: root + "/usr/bin", withIntermediateDirectories: true)
    for applet in ["pwd", "wc", "tr"] {
        try FileManager.default.createSymbolicLink(atPath: root + "/bin/" + applet, withDestinationPath: "busybox")
    }
    return try Layer.fromDirectory(root, compression: .gzip)
}

/// The run config of an image: PATH plus `env`, and the rest as given.
func runConfig(user: String? = nil, env: [String] = [], entrypoint: [String]? = nil, cmd: [String]? = nil,
               workingDir: String? = nil) -> ImageConfig.RunConfig {
    .init(user: user, env: ["PATH=/bin:/usr/bin"] + env, entrypoint: entrypoint, cmd: cmd, workingDir: workingDir)
}

/// An OCI image layout tar of one image on `layer`, named `name` (io.containerd.image.name).
func ociArchive(_ scratch: Scratch, _ file: String, layer: Layer, run: ImageConfig.RunConfig, name: String) throws -> String {
    let builder = try ArchiveBuilder()
    let manifest = try builder.image([layer], config: ArchiveBuilder.config([layer], run: run))
    try builder.layout([(manifest, name)])
    try builder.tar(to: scratch(file))
    return scratch(file)
}

/// A docker-save tar of one image on `layer` (uncompressed, as docker writes it).
func dockerSaveArchive(_ scratch: Scratch, _ file: String, layer: Layer, run: ImageConfig.RunConfig, tags: [String]) throws -> String {
    let builder = try ArchiveBuilder()
    try FileManager.default.removeItem(atPath: builder.directory + "/blobs")
    let config = try json(ArchiveBuilder.config([layer], run: run))
    let configName = SHA256.digest(config).encoded + ".json"
    try builder.write(configName, config)
    try builder.write("abc123/layer.tar", layer.blob)
    try builder.write("abc123/VERSION", Array("1.0".utf8))
    let entry: [String: AnyCodable] = ["Config": .string(configName), "RepoTags": .strings(tags), "Layers": .strings(["abc123/layer.tar"])]
    try builder.write("manifest.json", try json([entry]))
    try builder.tar(to: scratch(file))
    return scratch(file)
}

enum AnyCodable: Encodable {
    case string(String), strings([String])
    func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case let .string(s): try c.encode(s)
        case let .strings(s): try c.encode(s)
        }
    }
}

/// Runs `berthctl ARGS… < file` through a pipe (`cat file | berthctl …`), so berthctl
/// reads a stream that is not a regular file.
func berthctlPiped(_ file: String, _ arguments: [String], address: String) async throws -> CommandResult {
    try await runProgram("/bin/sh", ["-c", #"f="$1"; shift; cat "$f" | exec "$@""#, "sh", file, Binaries.berthctl] + arguments,
                         environment: ["BERTH_ADDRESS": address])
}

/// `images ls -q` as a list.
func imageNames(_ address: String) async throws -> [String] {
    let ls = try await berthctl("images", "ls", "-q", address: address)
    guard ls.status == 0 else { throw TestFailure("images ls -q: \(ls)") }
    return ls.stdout.split(separator: "\n").map(String.init)
}

/// Snapshot keys of the overlayfs snapshotter.
func snapshotKeys(_ address: String) async throws -> [String] {
    let ls = try await berthctl("snapshots", "ls", "--format", "json", address: address)
    guard ls.status == 0 else { throw TestFailure("snapshots ls: \(ls)") }
    struct Info: Decodable { let name: String }
    return try JSONDecoder().decode([Info].self, from: Data(ls.stdout.utf8)).map(\.name)
}

/// What a failed import or a finished run may have left behind in `daemon`: ingests,
/// extract-* snapshots, mounts under its root or state, images. Empty when clean.
func leftovers(_ daemon: TestDaemon) async throws -> [String] {
    var found: [String] = []
    let ingest = daemon.root + "/content/ingest"
    found += ((try? FileManager.default.contentsOfDirectory(atPath: ingest)) ?? []).map { "ingest \($0)" }
    found += try await snapshotKeys(daemon.address).filter { $0.hasPrefix("extract-") }.map { "snapshot \($0)" }
    found += (Mounting.mountPoints(under: daemon.root) + Mounting.mountPoints(under: daemon.state)).map { "mount \($0)" }
    found += try await imageNames(daemon.address).map { "image \($0)" }
    return found
}

/// The contents of a text file, nil when it cannot be read.
func text(_ path: String) -> String? { try? String(contentsOfFile: path, encoding: .utf8) }

func listing(_ path: String) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted()
}
