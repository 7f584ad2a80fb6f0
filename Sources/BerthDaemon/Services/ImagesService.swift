import BerthAPI
import BerthContent
import BerthEvents
import BerthImages
import BerthMetadata
import BerthOCI
import BerthRPC
import BerthSnapshots
import BerthSystem
import NIOPosix
#if canImport(Glibc)
import Glibc
#endif

/// `images.*`: the image store, import and export, resolving an image for a container.
/// Archives are read and written by the daemon at a path the client names (berthctl
/// streams a file or its stdin through a FIFO it makes), so blob bytes never travel in
/// frames. Work runs on the blocking thread pool.
struct ImagesService: Sendable {
    let images: ImageStore
    let content: ContentStore
    let leases: LeaseStore
    let snapshotters: SnapshotterTable
    let namespaces: NamespaceStore
    let events: any EventPublisher
    let gc: GCScheduler
    /// `[images] max_layer_bytes`.
    let maxLayerBytes: Int64

    func register(_ router: inout Router) {
        router.register(API.imagesImport) { p, context in
            // Progress goes to the caller's connection, as `images.progress` notifications.
            let connection = p.progress == true ? context.connection : nil
            return try await run {
                try importImages(p) { progress in
                    var progress = progress
                    progress.path = p.path
                    connection?.notify(method: ImportProgress.method, params: progress)
                }
            }
        }
        router.register(API.imagesExport) { p, _ in try await run { try export(p) } }
        router.register(API.imagesList) { p, _ in
            try await run {
                let filter = try ImageFilter(p.filters ?? [])
                return ListImagesResponse(images: try images.list(namespace: p.namespace ?? "default").map(\.image).filter(filter.matches))
            }
        }
        router.register(API.imagesGet) { p, _ in try await run { try get(p) } }
        router.register(API.imagesDelete) { p, _ in
            let ns = p.namespace ?? "default"
            let deleted = try await run { try images.delete(namespace: ns, name: p.name) }
            events.publish(EventTopics.imagesDelete, namespace: ns, ImageDeleteEvent(name: deleted))
            if p.sync == true { _ = try await gc.collect(dryRun: false) } else { gc.schedule() }
            return Empty()
        }
        router.register(API.imagesTag) { p, _ in
            try await run {
                let ns = p.namespace ?? "default"
                let source = try images.get(namespace: ns, name: p.source)
                let name = try ImageImporter.normalizeName(p.target)
                let stored = try images.put(namespace: ns, Image(name: name, target: source.target, labels: source.labels), replace: p.force == true)
                publish(ns, stored.image, created: stored.created)
                return ImageResponse(image: stored.image)
            }
        }
        router.register(API.imagesUpdate) { p, _ in
            try await run {
                let ns = p.namespace ?? "default"
                let image = try images.update(namespace: ns, name: p.name, labels: p.labels, mask: p.updateMask ?? [])
                events.publish(EventTopics.imagesUpdate, namespace: ns, ImageUpdateEvent(name: image.name, labels: image.labels))
                return ImageResponse(image: image)
            }
        }
        router.register(API.systemGC) { p, _ in try await gc.collect(dryRun: p.dryRun == true) }
    }

    func importImages(_ p: ImportImagesRequest, progress: (@Sendable (ImportProgress) -> Void)? = nil) throws -> ImportImagesResponse {
        let ns = p.namespace ?? "default"
        try namespaces.ensure(ns)
        let snapshotter = p.unpack == false ? nil : try snapshotters.get(p.snapshotter)
        let fd = try openForReading(p.path)
        defer { close(fd) }
        // What the archive held that no kept image uses (other platforms), or everything
        // a failed import stored, goes in the collection that follows.
        defer { gc.schedule() }
        let importer = ImageImporter(images: images, content: content, leases: leases, events: events)
        let result = try importer.importArchive(from: fd, options: .init(
            namespace: ns, rootfsTar: p.rootfsTar == true, name: p.name, allPlatforms: p.allPlatforms == true,
            snapshotter: snapshotter, labels: p.labels ?? [:], maxLayerBytes: maxLayerBytes, progress: progress))
        for (image, created) in result.images { publish(ns, image, created: created) }
        return ImportImagesResponse(images: result.images.map(\.image), bytesRead: result.bytesRead, blobsStored: result.blobsStored,
                                    layersUnpacked: result.layersUnpacked, layersReused: result.layersReused)
    }

    func export(_ p: ExportImagesRequest) throws -> ExportImagesResponse {
        let fd = try openForWriting(p.path)
        defer { close(fd) }
        let result = try ImageExporter(images: images, content: content)
            .export(namespace: p.namespace ?? "default", names: p.names, allPlatforms: p.allPlatforms == true, to: fd)
        return ExportImagesResponse(bytesWritten: result.bytesWritten, blobs: result.blobs)
    }

    func get(_ p: GetImageRequest) throws -> ImageResponse {
        let ns = p.namespace ?? "default"
        let image = try images.get(namespace: ns, name: p.name)
        guard p.resolve == true else { return ImageResponse(image: image) }
        var platform = Platform.host
        if let text = p.platform {
            guard let parsed = Platform(parsing: text) else { throw BerthError.invalidArgument("platform \"\(text)\" is not os/arch[/variant]") }
            platform = parsed
        }
        let snapshotter = try snapshotters.get(p.snapshotter)
        let resolved = try ImageInspector(content: content, namespace: ns).resolve(image, platform: platform, snapshotter: snapshotter)
        return ImageResponse(image: image, resolved: resolved)
    }

    func publish(_ namespace: String, _ image: Image, created: Bool) {
        if created {
            events.publish(EventTopics.imagesCreate, namespace: namespace, ImageCreateEvent(name: image.name, labels: image.labels))
        } else {
            events.publish(EventTopics.imagesUpdate, namespace: namespace, ImageUpdateEvent(name: image.name, labels: image.labels))
        }
    }

    /// Opens an archive to import: a regular file or a FIFO, by absolute path.
    func openForReading(_ path: String) throws -> Int32 {
        guard path.hasPrefix("/") else { throw BerthError.invalidArgument("path \"\(path)\" must be absolute") }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw BerthError.invalidArgument("open \(path): \(String(cString: strerror(errno)))") }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG || (st.st_mode & S_IFMT) == S_IFIFO else {
            close(fd)
            throw BerthError.invalidArgument("\(path) is not a regular file or a FIFO")
        }
        return fd
    }

    /// Opens where an export goes: an existing FIFO, or a new file (never an existing
    /// file: the daemon writes with its own privileges).
    func openForWriting(_ path: String) throws -> Int32 {
        guard path.hasPrefix("/") else { throw BerthError.invalidArgument("path \"\(path)\" must be absolute") }
        if FileSystem.fileType(path) == S_IFIFO {
            let fd = open(path, O_WRONLY | O_CLOEXEC)
            guard fd >= 0 else { throw BerthError.invalidArgument("open \(path): \(String(cString: strerror(errno)))") }
            return fd
        }
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            let e = errno
            if e == EEXIST { throw BerthError.alreadyExists("\(path) exists: export writes a new file or into a FIFO") }
            throw BerthError.invalidArgument("create \(path): \(String(cString: strerror(e)))")
        }
        return fd
    }

    private func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await NIOThreadPool.singleton.runIfActive(body)
    }
}
