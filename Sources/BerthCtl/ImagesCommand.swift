import ArgumentParser
import BerthAPI
import BerthOCI
#if canImport(Glibc)
import Glibc
#endif

/// `berthctl images`, shaped like `ctr images`.
struct ImagesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "images",
        abstract: "Manage images: import, export, list, inspect, tag, label, remove.",
        subcommands: [Import.self, Export.self, List.self, Info.self, Remove.self, Tag.self, Label.self, Usage.self],
        aliases: ["image", "i"]
    )

    /// Imports and exports take as long as the archive does, not berthctl's --timeout.
    static let transferTimeout: Duration = .seconds(24 * 3600)

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "import",
            abstract: "Import images from an OCI image layout tar, a docker-save tar, or (--rootfs-tar) a root file system tar; - reads stdin.")
        @OptionGroup var globals: GlobalOptions
        @Flag(help: "The archive is a root file system tar (gzip, zstd or none): make a one-layer image called --name.") var rootfsTar = false
        @Flag(help: "Keep every platform of a multi-platform image (default: the host's only).") var allPlatforms = false
        @Option(help: "The image name (needed with --rootfs-tar), or the repository that unnamed images of a layout are given.") var name: String?
        @Option(help: "Snapshotter to unpack into.") var snapshotter: String = Snapshots.defaultSnapshotter
        @Flag(help: "Store the content only; do not unpack the layers.") var noUnpack = false
        @Option(help: "Label for the images (key=value, repeatable).") var label: [String] = []
        @Argument(help: "The archive, or - for stdin.") var file: String

        func run() async throws {
            signal(SIGPIPE, SIG_IGN)
            let source = file == "-" ? 0 : open(file, O_RDONLY | O_CLOEXEC)
            guard source >= 0 else { throw failure("cannot open \(file): \(String(cString: strerror(errno)))") }
            defer { if source != 0 { close(source) } }
            var st = stat()
            let total: Int64? = fstat(source, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG ? Int64(st.st_size) : nil
            let labels = try parseLabels(label)
            let transfer = try FIFOTransfer()
            let progress = TransferProgress.ifTerminal("importing", total: total)
            if let progress { transfer.send(from: source) { progress.bytes($0) } } else { transfer.send(from: source) }
            let request = ImportImagesRequest(namespace: globals.resolvedNamespace, path: transfer.path, rootfsTar: rootfsTar ? true : nil,
                                              name: name, allPlatforms: allPlatforms ? true : nil, unpack: noUnpack ? false : nil,
                                              snapshotter: snapshotter, labels: labels.isEmpty ? nil : labels,
                                              progress: progress == nil ? nil : true)
            let result: ImportImagesResponse
            do {
                result = try await globals.withClient { client in
                    // berthd's progress notifications, while the call runs.
                    let listener = Task {
                        guard let progress else { return }
                        for await note in client.notifications where note.method == ImportProgress.method {
                            if let p = try? note.decodeParams(ImportProgress.self) { progress.layers(p) }
                        }
                    }
                    defer { listener.cancel() }
                    return try await client.call(API.imagesImport, request, timeout: ImagesCommand.transferTimeout)
                }
            } catch {
                try? transfer.finish()
                if progress != nil { writeStderr("\n") }
                throw error
            }
            try transfer.finish()
            progress?.end("\(humanSize(result.bytesRead)), \(result.blobsStored) new blobs, \(result.layersUnpacked) layers unpacked, \(result.layersReused) reused")
            if globals.format == .json { try printJSON(result) } else {
                for image in result.images { print("\(image.name)\t\(image.target.digest)") }
            }
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "export", abstract: "Export images as an OCI image layout tar; - writes stdout.")
        @OptionGroup var globals: GlobalOptions
        @Flag(help: "Export every platform present (default: the host's only).") var allPlatforms = false
        @Argument(help: "The archive to write, or -.") var file: String
        @Argument(help: "Images to export.") var names: [String]

        func run() async throws {
            signal(SIGPIPE, SIG_IGN)
            guard !names.isEmpty else { throw ValidationError("name at least one image") }
            // A file is written beside its final name and renamed over it only when the
            // export succeeded: a failed export never truncates or removes an existing file.
            let output = file == "-" ? nil : try PartialFile(file)
            let target = output?.fd ?? 1
            let transfer = try FIFOTransfer()
            transfer.receive(into: target)
            let namespace = globals.resolvedNamespace
            do {
                _ = try await globals.withClient { client in
                    try await client.call(API.imagesExport, ExportImagesRequest(namespace: namespace, path: transfer.path, names: names,
                                                                                allPlatforms: allPlatforms ? true : nil),
                                          timeout: ImagesCommand.transferTimeout)
                }
                try transfer.finish()
                try output?.commit()
            } catch {
                try? transfer.finish()
                output?.discard()
                throw error
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "ls", abstract: "List images.", aliases: ["list"])
        @OptionGroup var globals: GlobalOptions
        @Flag(name: [.short, .long], help: "Print only the names.") var quiet = false
        @Argument(help: "Filters (name==REF, name~=REGEX, labels.KEY==VALUE, target.digest==D); several are OR-ed.") var filters: [String] = []

        func run() async throws {
            let namespace = globals.resolvedNamespace
            let rows: [(Image, ResolvedImage?)] = try await globals.withClient { client in
                let images = try await client.call(API.imagesList, ListImagesRequest(namespace: namespace, filters: filters)).images
                if quiet { return images.map { ($0, nil) } }
                var rows: [(Image, ResolvedImage?)] = []
                for image in images {
                    let resolved = try? await client.call(API.imagesGet, GetImageRequest(namespace: namespace, name: image.name, resolve: true)).resolved
                    rows.append((image, resolved))
                }
                return rows
            }
            if quiet { return rows.forEach { print($0.0.name) } }
            if globals.format == .json { return try printJSON(rows.map(\.0)) }
            printTable(["REF", "TYPE", "DIGEST", "SIZE", "PLATFORMS", "LABELS"], rows.map { image, resolved in
                [image.name, image.target.mediaType, image.target.digest, resolved.map { humanSize($0.contentSize) } ?? "-",
                 resolved.map { $0.platform.description } ?? "-", formatLabels(image.labels)]
            })
        }
    }

    struct Info: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "info", abstract: "Show an image, its manifest and config for a platform, as JSON.")
        @OptionGroup var globals: GlobalOptions
        @Option(help: "os/arch[/variant] (default: the host's).") var platform: String?
        @Argument(help: "The image.") var name: String

        func run() async throws {
            let response = try await globals.withClient { client in
                try await client.call(API.imagesGet, GetImageRequest(namespace: globals.resolvedNamespace, name: name, resolve: true, platform: platform))
            }
            try printJSON(response)
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rm", abstract: "Remove images; each name is tried, and the exit status says if any failed.", aliases: ["remove", "delete", "del"])
        @OptionGroup var globals: GlobalOptions
        @Flag(help: "Wait for the garbage collection that follows.") var sync = false
        @Argument(help: "Images to remove.") var names: [String]

        func run() async throws {
            try await globals.forEachReportingFailures(names, naming: true) { client, name in
                try await client.call(API.imagesDelete, DeleteImageRequest(namespace: globals.resolvedNamespace, name: name, sync: sync ? true : nil))
                print(name)
            }
        }
    }

    struct Tag: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "tag", abstract: "Give an image another name.")
        @OptionGroup var globals: GlobalOptions
        @Flag(help: "Replace TARGET if it names another image.") var force = false
        @Argument(help: "The existing image.") var source: String
        @Argument(help: "The new name(s).") var targets: [String]

        func run() async throws {
            try await globals.withClient { client in
                for target in targets {
                    let image = try await client.call(API.imagesTag, TagImageRequest(namespace: globals.resolvedNamespace, source: source, target: target,
                                                                                     force: force ? true : nil)).image
                    print(image.name)
                }
            }
        }
    }

    struct Label: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "label", abstract: "Set labels on an image; key= removes a label. Prints the resulting labels.")
        @OptionGroup var globals: GlobalOptions
        @Argument(help: "The image.") var name: String
        @Argument(help: "Labels as key=value.") var labels: [String] = []

        func run() async throws {
            let labels = try parseLabels(labels)
            let image = try await globals.withClient { client in
                if labels.isEmpty { return try await client.call(API.imagesGet, GetImageRequest(namespace: globals.resolvedNamespace, name: name)).image }
                return try await client.call(API.imagesUpdate, UpdateImageRequest(namespace: globals.resolvedNamespace, name: name, labels: labels,
                                                                                  updateMask: labels.keys.sorted().map { "labels.\($0)" })).image
            }
            if globals.format == .json { try printJSON(image.labels) } else { print(formatLabels(image.labels)) }
        }
    }

    struct Usage: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "usage", abstract: "Show what an image occupies: its content and its unpacked snapshots.")
        @OptionGroup var globals: GlobalOptions
        @Option(help: "Snapshotter whose snapshots are counted.") var snapshotter: String = Snapshots.defaultSnapshotter
        @Flag(name: .customShort("b"), help: "Print sizes in bytes.") var bytes = false
        @Argument(help: "The image.") var name: String

        func run() async throws {
            let response = try await globals.withClient { client in
                try await client.call(API.imagesGet, GetImageRequest(namespace: globals.resolvedNamespace, name: name, resolve: true, snapshotter: snapshotter))
            }
            guard let r = response.resolved else { throw ValidationError("\(name): nothing to resolve") }
            if globals.format == .json { return try printJSON(r) }
            func size(_ n: Int64) -> String { bytes ? "\(n)" : humanSize(n) }
            printTable(["IMAGE", "PLATFORM", "LAYERS", "CONTENT", "SNAPSHOTS"], [[
                response.image.name, r.platform.description, "\(r.chainIDs.count)", size(r.contentSize),
                r.snapshotSize.map(size) ?? "not unpacked in \(snapshotter)",
            ]])
        }
    }
}

/// `berthctl gc`: runs garbage collection now.
struct GCCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gc", abstract: "Remove content and snapshots nothing refers to; --dry-run lists them, and why the rest stays.")
    @OptionGroup var globals: GlobalOptions
    @Flag(help: "Remove nothing; show what would go and the reference path that keeps each object.") var dryRun = false

    func run() async throws {
        let result = try await globals.withClient { client in
            try await client.call(API.systemGC, GCRequest(dryRun: dryRun ? true : nil), timeout: ImagesCommand.transferTimeout)
        }
        if globals.format == .json { return try printJSON(result) }
        let verb = dryRun ? "would remove" : "removed"
        for r in result.removed { print("\(verb)\t\(r.namespace)\t\(r.type)\t\(r.id)") }
        for blob in result.orphanBlobs { print("\(verb)\tblob\t\(blob)") }
        for k in result.kept ?? [] { print("keep\t\(k.resource.namespace)\t\(k.resource.type)\t\(k.resource.id)\t\(k.path.joined(separator: " → "))") }
    }
}

/// A local failure (not berthd's): `berthctl: message` on stderr, exit status 1, no usage text.
func failure(_ message: String) -> ExitCode {
    printError(message)
    return ExitCode.failure
}

/// A file written as `<dir>/.<name>.XXXXXX` and renamed to its name on `commit`, removed
/// on `discard`.
final class PartialFile {
    let path: String
    let temporary: String
    let fd: Int32

    init(_ path: String) throws {
        self.path = path
        let slash = path.lastIndex(of: "/")
        let dir = slash.map { String(path[..<$0]) } ?? "."
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        var template = Array("\(dir.isEmpty ? "/" : dir)/.\(name).XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw failure("cannot create \(path): \(String(cString: strerror(errno)))") }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        self.fd = fd
        temporary = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        let mask = umask(0)
        umask(mask)
        fchmod(fd, 0o644 & ~mask)
    }

    func commit() throws {
        let synced = fsync(fd) == 0 ? 0 : errno
        let closed = close(fd) == 0 ? 0 : errno
        guard synced == 0, closed == 0 else {
            let message = String(cString: strerror(synced != 0 ? synced : closed))
            unlink(temporary)
            throw failure("write \(path): \(message)")
        }
        guard rename(temporary, path) == 0 else {
            let message = String(cString: strerror(errno))
            unlink(temporary)
            throw failure("rename to \(path): \(message)")
        }
    }

    func discard() {
        close(fd)
        unlink(temporary)
    }
}
