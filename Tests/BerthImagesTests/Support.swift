import BerthAPI
import BerthContent
import BerthDigest
@testable import BerthImages
import BerthMetadata
import BerthOCI
import BerthSnapshots
import BerthSystem
import Foundation
import Testing

// MARK: shell

/// Runs `/bin/sh -c script` with `args` as `$1…`; throws with its stderr unless it exits 0.
@discardableResult
func sh(_ script: String, _ args: String...) throws -> String {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/bin/sh")
    p.arguments = ["-c", script, "sh"] + args
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    let errors = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    guard p.terminationStatus == 0 else {
        throw ShellFailure(description: "sh -c \(script) \(args): status \(p.terminationStatus): \(String(decoding: errors, as: UTF8.self))")
    }
    return String(decoding: data, as: UTF8.self)
}

struct ShellFailure: Error, CustomStringConvertible { let description: String }

func makeTemporaryDirectory(_ prefix: String) throws -> String {
    var template = Array("/tmp/\(prefix)-XXXXXX".utf8CString)
    guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
        throw ShellFailure(description: "mkdtemp: errno \(errno)")
    }
    return String(cString: made)
}

func readBytes(_ path: String) throws -> [UInt8] { Array(try Data(contentsOf: URL(fileURLWithPath: path))) }
func writeBytes(_ path: String, _ bytes: [UInt8]) throws { try Data(bytes).write(to: URL(fileURLWithPath: path)) }

func json(_ value: some Encodable) throws -> [UInt8] {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return Array(try encoder.encode(value))
}

// MARK: layers

enum LayerCompression { case none, gzip, zstd }

/// A layer blob as it goes in an image, and its diffID (the digest of the plain tar).
struct Layer {
    var blob: [UInt8]
    var diffID: Digest
    var mediaType: String
    var digest: Digest { SHA256.digest(blob) }
    var descriptor: Descriptor { Descriptor(mediaType: mediaType, digest: digest.string, size: Int64(blob.count)) }

    /// A layer of `files` (path → contents; a path ending in `/` is a directory), made by
    /// the tar CLI from a staging directory, sorted by name, owned by root.
    static func make(_ files: [String: String], compression: LayerCompression = .none, docker: Bool = false) throws -> Layer {
        let staging = try makeTemporaryDirectory("bil")
        defer { try? FileManager.default.removeItem(atPath: staging) }
        try FileManager.default.createDirectory(atPath: staging + "/t", withIntermediateDirectories: true)
        for (path, contents) in files {
            let full = staging + "/t/" + path
            if path.hasSuffix("/") {
                try FileManager.default.createDirectory(atPath: full, withIntermediateDirectories: true)
            } else {
                try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                try writeBytes(full, Array(contents.utf8))
            }
        }
        return try fromDirectory(staging + "/t", compression: compression, docker: docker)
    }

    /// A layer of everything under `directory`.
    static func fromDirectory(_ directory: String, compression: LayerCompression = .none, docker: Bool = false) throws -> Layer {
        let out = try makeTemporaryDirectory("bit")
        defer { try? FileManager.default.removeItem(atPath: out) }
        try sh(#"tar --sort=name --numeric-owner --owner=0 --group=0 --mtime=@0 -C "$1" -cf "$2/l.tar" ."#, directory, out)
        let plain = try readBytes(out + "/l.tar")
        let blob: [UInt8]
        let mediaType: String
        switch compression {
        case .none:
            blob = plain
            mediaType = docker ? MediaType.dockerLayer : MediaType.ociLayer
        case .gzip:
            try sh(#"gzip -n -c "$1" > "$1.c""#, out + "/l.tar")
            blob = try readBytes(out + "/l.tar.c")
            mediaType = docker ? MediaType.dockerLayerGzip : MediaType.ociLayerGzip
        case .zstd:
            try sh(#"zstd -q -c "$1" > "$1.c""#, out + "/l.tar")
            blob = try readBytes(out + "/l.tar.c")
            mediaType = MediaType.ociLayerZstd
        }
        return Layer(blob: blob, diffID: SHA256.digest(plain), mediaType: mediaType)
    }
}

// MARK: archives

/// Builds an OCI image layout (or a docker-save tree) in a staging directory, then tars it.
final class ArchiveBuilder {
    let directory: String

    init() throws {
        directory = try makeTemporaryDirectory("bia")
        try FileManager.default.createDirectory(atPath: directory + "/blobs/sha256", withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    /// Writes `bytes` as `blobs/sha256/<digest>` and returns its descriptor.
    @discardableResult
    func blob(_ bytes: [UInt8], _ mediaType: String) throws -> Descriptor {
        let digest = SHA256.digest(bytes)
        try writeBytes(directory + "/blobs/sha256/" + digest.encoded, bytes)
        return Descriptor(mediaType: mediaType, digest: digest.string, size: Int64(bytes.count))
    }

    /// A config for `layers` on `platform` (diffIDs from the layers unless given).
    static func config(_ layers: [Layer], platform: Platform = .host, diffIDs: [String]? = nil,
                       run: ImageConfig.RunConfig? = nil) -> ImageConfig {
        ImageConfig(created: "2024-01-01T00:00:00Z", architecture: platform.architecture, os: platform.os, variant: platform.variant,
                    config: run ?? .init(env: ["PATH=/bin"]), rootfs: .init(diffIDs: diffIDs ?? layers.map(\.diffID.string)))
    }

    /// Stores the layers, config and manifest; returns the manifest's descriptor.
    func image(_ layers: [Layer], config: ImageConfig? = nil, platform: Platform? = nil) throws -> Descriptor {
        for layer in layers { try blob(layer.blob, layer.mediaType) }
        let configDescriptor = try blob(try json(config ?? Self.config(layers)), MediaType.ociConfig)
        var manifest = try blob(try json(ImageManifest(config: configDescriptor, layers: layers.map(\.descriptor))), MediaType.ociManifest)
        manifest.platform = platform
        return manifest
    }

    /// `oci-layout` and `index.json` naming `manifests` (each with `io.containerd.image.name` when given).
    func layout(_ manifests: [(Descriptor, String?)]) throws {
        try writeBytes(directory + "/oci-layout", try json(ImageLayoutMarker()))
        let entries = manifests.map { d, name in
            var d = d
            if let name { d.annotations = [ImageAnnotations.containerdImageName: name] }
            return d
        }
        try writeBytes(directory + "/index.json", try json(ImageIndex(manifests: entries)))
    }

    func write(_ path: String, _ bytes: [UInt8]) throws {
        let full = directory + "/" + path
        try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try writeBytes(full, bytes)
    }

    /// The tree as a tar at `path` (entries `./…`, as `tar -C dir .` writes them).
    func tar(to path: String) throws {
        try sh(#"tar --sort=name --numeric-owner --owner=0 --group=0 -C "$1" -cf "$2" ."#, directory, path)
    }
}

// MARK: fixture

/// A content store, lease store, image store and both snapshotters on a private
/// directory with their own database, as berthd wires them.
final class ImageFixture: @unchecked Sendable {
    let directory: String
    let database: Database
    let content: ContentStore
    let leases: LeaseStore
    let images: ImageStore
    let overlay: LocalSnapshotter
    let native: LocalSnapshotter
    let namespace = "default"
    private var mounts = 0

    var contentRoot: String { directory + "/content" }
    var importer: ImageImporter { ImageImporter(images: images, content: content, leases: leases) }
    var collector: GarbageCollector {
        let snapshotters: [any Snapshotter] = [overlay, native]
        return GarbageCollector(database: database, images: images, content: content, leases: leases, snapshotters: { snapshotters })
    }

    init() throws {
        directory = try makeTemporaryDirectory("bim")
        database = try Database(path: directory + "/metadata.db")
        content = try ContentStore(root: directory + "/content", database: database)
        leases = LeaseStore(database)
        images = ImageStore(database)
        overlay = try LocalSnapshotter.overlay(root: directory + "/snapshots/overlayfs", database: database)
        native = try LocalSnapshotter.native(root: directory + "/snapshots/native", database: database)
        try NamespaceStore(database).ensure(namespace)
    }

    /// Unmounts anything left under the fixture and removes it.
    func tearDown() {
        for point in Mounting.mountPoints(under: directory).reversed() { try? Mounting.unmount(point, detach: true) }
        overlay.close()
        native.close()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Imports the archive at `path`.
    @discardableResult
    func importFile(_ path: String, snapshotter: LocalSnapshotter? = nil, rootfsTar: Bool = false, name: String? = nil,
                    allPlatforms: Bool = false) throws -> ImageImporter.Imported {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ShellFailure(description: "open \(path): errno \(errno)") }
        defer { close(fd) }
        return try importer.importArchive(from: fd, options: .init(namespace: namespace, rootfsTar: rootfsTar, name: name,
                                                                  allPlatforms: allPlatforms, snapshotter: snapshotter))
    }

    /// The file names under content/blobs/sha256.
    func blobFiles() -> Set<String> {
        Set((try? FileManager.default.contentsOfDirectory(atPath: contentRoot + "/blobs/sha256")) ?? [])
    }

    func ingests() -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: contentRoot + "/ingest")) ?? []
    }

    func snapshots(_ s: LocalSnapshotter) throws -> [SnapshotInfo] {
        try s.list(namespace: namespace, filters: [])
    }

    func hasBlob(_ digest: String) -> Bool { blobFiles().contains(String(digest.dropFirst(7))) }

    /// Mounts a read-only view of committed snapshot `parent`, runs `body` on it, and
    /// always unmounts and removes the view.
    func withView<T>(_ s: LocalSnapshotter, of parent: String, _ body: (String) throws -> T) throws -> T {
        mounts += 1
        let key = "test-view-\(mounts)"
        let target = directory + "/mnt\(mounts)"
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
        let m = try s.view(namespace: namespace, key: key, parent: parent, labels: [:])
        defer { try? s.remove(namespace: namespace, key: key) }
        try MountExecutor.mount(m, at: target)
        defer { try? MountExecutor.unmount(target) }
        return try body(target)
    }
}

/// Runs `body` with a fresh fixture and always tears it down.
func withFixture<T>(_ body: (ImageFixture) throws -> T) throws -> T {
    let fixture = try ImageFixture()
    defer { fixture.tearDown() }
    return try body(fixture)
}

func kind(_ error: any Error) -> ErrorKind? { (error as? BerthError)?.kind }

/// The platform that is not this machine's, for a fake second manifest.
var otherPlatform: Platform {
    Platform.host.architecture == "amd64" ? Platform(architecture: "arm64", os: "linux", variant: "v8") : Platform(architecture: "amd64", os: "linux")
}

func listing(_ path: String) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted()
}

/// The contents of a text file, nil when it cannot be read.
func text(_ path: String) -> String? { try? String(contentsOfFile: path, encoding: .utf8) }
