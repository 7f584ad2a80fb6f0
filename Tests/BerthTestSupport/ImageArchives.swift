import BerthDigest
import BerthOCI
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Image archives built in tests from scratch, as skopeo, containerd's export and
/// `docker save` write them: layer tars made by the tar CLI (plain, gzip, zstd), OCI
/// image layouts and docker-save trees in a staging directory, tarred at the end.

// MARK: shell

/// Runs `/bin/sh -c script` with `args` as `$1…`; throws with its stderr unless it exits 0.
@discardableResult
public func sh(_ script: String, _ args: String...) throws -> String {
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

public struct ShellFailure: Error, CustomStringConvertible {
    public let description: String
    public init(description: String) { self.description = description }
}

public func makeTemporaryDirectory(_ prefix: String) throws -> String {
    var template = Array("/tmp/\(prefix)-XXXXXX".utf8CString)
    guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
        throw ShellFailure(description: "mkdtemp: errno \(errno)")
    }
    return String(cString: made)
}

public func readBytes(_ path: String) throws -> [UInt8] { Array(try Data(contentsOf: URL(fileURLWithPath: path))) }
public func writeBytes(_ path: String, _ bytes: [UInt8]) throws { try Data(bytes).write(to: URL(fileURLWithPath: path)) }

public func json(_ value: some Encodable) throws -> [UInt8] {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return Array(try encoder.encode(value))
}

// MARK: layers

public enum LayerCompression { case none, gzip, zstd }

/// A layer blob as it goes in an image, and its diffID (the digest of the plain tar).
public struct Layer {
    public var blob: [UInt8]
    public var diffID: Digest
    public var mediaType: String
    public var digest: Digest { SHA256.digest(blob) }
    public var descriptor: Descriptor { Descriptor(mediaType: mediaType, digest: digest.string, size: Int64(blob.count)) }

    /// A layer of `files` (path → contents; a path ending in `/` is a directory), made by
    /// the tar CLI from a staging directory, sorted by name, owned by root.
    public static func make(_ files: [String: String], compression: LayerCompression = .none, docker: Bool = false) throws -> Layer {
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
    public static func fromDirectory(_ directory: String, compression: LayerCompression = .none, docker: Bool = false) throws -> Layer {
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
public final class ArchiveBuilder {
    public let directory: String

    public init() throws {
        directory = try makeTemporaryDirectory("bia")
        try FileManager.default.createDirectory(atPath: directory + "/blobs/sha256", withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    /// Writes `bytes` as `blobs/sha256/<digest>` and returns its descriptor.
    @discardableResult
    public func blob(_ bytes: [UInt8], _ mediaType: String) throws -> Descriptor {
        let digest = SHA256.digest(bytes)
        try writeBytes(directory + "/blobs/sha256/" + digest.encoded, bytes)
        return Descriptor(mediaType: mediaType, digest: digest.string, size: Int64(bytes.count))
    }

    /// A config for `layers` on `platform` (diffIDs from the layers unless given).
    public static func config(_ layers: [Layer], platform: Platform = .host, diffIDs: [String]? = nil,
                       run: ImageConfig.RunConfig? = nil) -> ImageConfig {
        ImageConfig(created: "2024-01-01T00:00:00Z", architecture: platform.architecture, os: platform.os, variant: platform.variant,
                    config: run ?? .init(env: ["PATH=/bin"]), rootfs: .init(diffIDs: diffIDs ?? layers.map(\.diffID.string)))
    }

    /// Stores the layers, config and manifest; returns the manifest's descriptor.
    public func image(_ layers: [Layer], config: ImageConfig? = nil, platform: Platform? = nil) throws -> Descriptor {
        for layer in layers { try blob(layer.blob, layer.mediaType) }
        let configDescriptor = try blob(try json(config ?? Self.config(layers)), MediaType.ociConfig)
        var manifest = try blob(try json(ImageManifest(config: configDescriptor, layers: layers.map(\.descriptor))), MediaType.ociManifest)
        manifest.platform = platform
        return manifest
    }

    /// `oci-layout` and `index.json` naming `manifests` (each with `io.containerd.image.name` when given).
    public func layout(_ manifests: [(Descriptor, String?)]) throws {
        try writeBytes(directory + "/oci-layout", try json(ImageLayoutMarker()))
        let entries = manifests.map { d, name in
            var d = d
            if let name { d.annotations = [ImageAnnotations.containerdImageName: name] }
            return d
        }
        try writeBytes(directory + "/index.json", try json(ImageIndex(manifests: entries)))
    }

    public func write(_ path: String, _ bytes: [UInt8]) throws {
        let full = directory + "/" + path
        try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try writeBytes(full, bytes)
    }

    /// The tree as a tar at `path` (entries `./…`, as `tar -C dir .` writes them).
    public func tar(to path: String) throws {
        try sh(#"tar --sort=name --numeric-owner --owner=0 --group=0 -C "$1" -cf "$2" ."#, directory, path)
    }
}

