import ArgumentParser
import BerthAPI
#if canImport(Glibc)
import Glibc
#endif

/// `berthctl run`, shaped like `ctr run`: create the container and its task, stream its
/// output, and exit with its exit status.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a container: berthctl run [flags] (IMAGE | --rootfs DIR) ID [CMD [ARG...]]")

    @OptionGroup var globals: GlobalOptions
    @OptionGroup var specOptions: SpecOptions
    @Option(help: "Root file system directory (instead of an image).") var rootfs: String?
    @Option(help: "Snapshotter of the image's layers and the container's root file system.") var snapshotter: String = Snapshots.defaultSnapshotter
    @Flag(help: "Remove the container after it exits.") var rm = false
    @Flag(name: [.short, .long], help: "Do not wait for the container.") var detach = false
    @Flag(name: [.short, .long], help: "Allocate a terminal: raw mode, stdin forwarded, size changes followed.") var tty = false
    @Option(help: "Where the task's output goes: file:///path (JSON lines).") var logURI: String?
    @Argument(help: "The image, then the container id (with --rootfs: the container id only).") var first: String
    @Argument(parsing: .captureForPassthrough, help: "The command and its arguments.") var rest: [String] = []

    /// The image (nil with --rootfs), the container id and the command.
    var words: (image: String?, id: String, args: [String]) {
        get throws {
            if rootfs != nil { return (nil, first, rest) }
            guard let id = rest.first, !id.hasPrefix("-") else { throw ValidationError("give IMAGE ID [CMD...], or --rootfs DIR ID [CMD...]") }
            return (first, id, Array(rest.dropFirst()))
        }
    }

    func run() async throws {
        if tty && detach { throw ValidationError("--tty needs the foreground: drop --detach") }
        let (imageName, id, args) = try words
        let root = try rootfs.map(absolute)
        let namespace = globals.resolvedNamespace
        let logPath = try logURI.map(parseLogURI)
        let status: Int32 = try await globals.withClient { client in
            var image: ResolvedImage?
            var storedName: String?
            if let imageName {
                let found = try await client.call(API.imagesGet, GetImageRequest(namespace: namespace, name: imageName, resolve: true, snapshotter: snapshotter))
                image = found.resolved
                storedName = found.image.name
                guard image?.unpacked == true else {
                    throw ValidationError("image \(imageName) is not unpacked in \(snapshotter): import it again with --snapshotter \(snapshotter)")
                }
            }
            var (spec, labels) = try specOptions.spec(namespace: namespace, id: id, args: args, image: image?.config)
            if tty {
                spec.process?.terminal = true
                if let (width, height) = TerminalMode.size() { spec.process?.consoleSize = .init(height: height, width: width) }
                spec.process?.env?.append("TERM=" + (environment("TERM") ?? "xterm"))
            }
            var container = Container(id: id, runtime: .init(name: specOptions.runtime), spec: spec, labels: labels)
            if let image, let imageName {
                // The container's own writable layer on the image's top layer, as ctr's.
                container.image = storedName ?? imageName
                container.snapshotter = snapshotter
                container.snapshotKey = id
                try await client.call(API.snapshotsPrepare, PrepareSnapshotRequest(snapshotter: snapshotter, namespace: namespace, key: id,
                                                                                   parent: image.chainIDs.last))
            }
            do {
                // By hand, not JSONEncoder: its first use of a spec's types costs a fresh berthctl ~1.3 ms.
                _ = try await client.callRaw(API.containersCreate.name,
                                             paramsJSON: CreateContainerRequest(namespace: namespace, container: container).quickJSON())
            } catch {
                if container.snapshotKey != nil {
                    _ = try? await client.call(API.snapshotsRemove, SnapshotKeyRequest(snapshotter: snapshotter, namespace: namespace, key: id))
                }
                throw error
            }
            let hasSnapshot = container.snapshotKey != nil
            let snapshotter = self.snapshotter
            @Sendable func removeContainer() async {
                _ = try? await client.quickCall(API.containersDelete, ContainerRequest(namespace: namespace, id: id))
                if hasSnapshot {
                    _ = try? await client.call(API.snapshotsRemove, SnapshotKeyRequest(snapshotter: snapshotter, namespace: namespace, key: id))
                }
            }
            var streams: OutputStreams?
            do {
                var io = TaskIO(logPath: logPath)
                if !detach && logPath == nil {
                    streams = try OutputStreams(terminal: tty)
                    io.stdout = streams!.stdoutPath
                    io.stderr = tty ? nil : streams!.stderrPath
                    io.stdin = tty ? streams!.stdinPath : nil
                    io.terminal = tty
                }
                try await client.quickCall(API.tasksCreate, CreateTaskRequest(namespace: namespace, containerID: id, rootfs: root, io: io))
                streams?.startCopying()
                try await client.quickCall(API.tasksStart, TaskRequest(namespace: namespace, containerID: id))
            } catch {
                streams?.cancel()
                _ = try? await client.call(API.tasksDelete, TaskRequest(namespace: namespace, containerID: id))
                await removeContainer()
                throw error
            }
            if detach { return 0 }
            let terminal = TerminalMode()
            if tty, let stdin = streams?.stdinPath {
                forwardStdin(to: stdin)
                terminal.enterRaw()
                let containerID = id
                terminal.onResize { width, height in
                    Task { _ = try? await client.call(API.tasksResizePty, ResizePtyRequest(namespace: namespace, containerID: containerID, width: width, height: height)) }
                }
            }
            defer { terminal.restore() }
            let exit = try await client.quickCall(API.tasksWait, TaskRequest(namespace: namespace, containerID: id), timeout: .seconds(365 * 86400))
            streams?.finish()
            _ = try? await client.quickCall(API.tasksDelete, TaskRequest(namespace: namespace, containerID: id))
            if rm { await removeContainer() }
            return exit.exitStatus
        }
        if status != 0 { throw ExitCode(status) }
    }
}

func absolute(_ path: String) throws -> String {
    if path.hasPrefix("/") { return path }
    var buffer = [CChar](repeating: 0, count: 4096)
    guard getcwd(&buffer, buffer.count) != nil else { throw ValidationError("cannot resolve \(path)") }
    return String(cString: buffer) + "/" + path
}

func parseLogURI(_ uri: String) throws -> String {
    guard uri.hasPrefix("file://") else { throw ValidationError("--log-uri must be file:///path") }
    let path = String(uri.dropFirst("file://".count))
    guard path.hasPrefix("/") else { throw ValidationError("--log-uri must be an absolute file:///path") }
    return path
}

/// FIFOs for a foreground task's stdout and stderr, copied to berthctl's own by threads
/// until the container closes them.
final class OutputStreams: @unchecked Sendable {
    let directory: String
    var stdoutPath: String { directory + "/stdout" }
    var stderrPath: String { directory + "/stderr" }
    var stdinPath: String { directory + "/stdin" }
    private var threads: [pthread_t] = []
    private var readers: [(Int32, Int32)] = []

    init(terminal: Bool = false) throws {
        var template = Array("/tmp/berthctl-XXXXXX".utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else { throw ValidationError("mkdtemp failed") }
        directory = String(cString: made)
        if terminal {
            guard mkfifo(stdinPath, 0o600) == 0 else { throw ValidationError("mkfifo \(stdinPath) failed") }
        }
        var streams: [(String, Int32)] = [(stdoutPath, Int32(1))]
        if !terminal { streams.append((stderrPath, Int32(2))) }
        for (path, target) in streams {
            guard mkfifo(path, 0o600) == 0 else { throw ValidationError("mkfifo \(path) failed") }
            // O_RDWR|O_NONBLOCK opens without a writer; then reads block until data or EOF.
            let fd = open(path, O_RDONLY | O_NONBLOCK)
            guard fd >= 0 else { throw ValidationError("open \(path) failed") }
            readers.append((fd, target))
        }
    }

    /// Starts copying, once the task exists: its process now holds the write ends, so
    /// end of file means the process (and everything it shared them with) is gone.
    func startCopying() {
        for (fd, target) in readers {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
            threads.append(copyThread(from: fd, to: target))
        }
        readers.removeAll()
    }

    /// Waits until both streams reached EOF, then removes the FIFOs.
    func finish() {
        for thread in threads { pthread_join(thread, nil) }
        cancel()
    }

    func cancel() {
        for (fd, _) in readers { close(fd) }
        readers.removeAll()
        unlink(stdoutPath)
        unlink(stderrPath)
        unlink(stdinPath)
        rmdir(directory)
    }
}

private final class CopyJob {
    let from: Int32, to: Int32
    init(from: Int32, to: Int32) { self.from = from; self.to = to }
}

/// A joinable thread copying `from` to `to` until EOF.
private func copyThread(from: Int32, to: Int32) -> pthread_t {
    var thread = pthread_t()
    let job = Unmanaged.passRetained(CopyJob(from: from, to: to)).toOpaque()
    pthread_create(&thread, nil, { raw in
        let job = Unmanaged<CopyJob>.fromOpaque(raw!).takeRetainedValue()
        var buffer = [UInt8](repeating: 0, count: 32768)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(job.from, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            _ = buffer.withUnsafeBytes { write(job.to, $0.baseAddress, n) }
        }
        close(job.from)
        return nil
    }, job)
    return thread
}
