import BerthDigest
import CArchive
import CBerthLinux
#if canImport(Glibc)
import Glibc
#endif

/// Decompression on its own thread, handing the uncompressed tar stream to the extractor
/// through a few reusable buffers.
///
/// The producer thread reads the layer from a descriptor with libarchive's compression
/// filters and its `raw` format (so gzip, zstd and plain tar are told apart from the bytes),
/// hashes every uncompressed byte (the diffID), counts them against the limit, and queues
/// each filled buffer. The consumer — libarchive's tar reader on the caller's thread — takes
/// buffers through `archive_read_open`'s read callback and gives each back on its next call,
/// which is when libarchive lets go of it. This is the split `tar -xzf` gets from running
/// gzip in another process: inflating and creating files overlap on two cores.
///
/// Only `bufferCount` buffers exist, so a slow disk stalls decompression instead of growing
/// memory. `cancel()` stops the producer wherever it waits: on a free buffer (condition
/// variable) or on the source descriptor (an eventfd polled next to it), so `join()`
/// returns even when the source is a pipe whose writer has stalled.
final class DecompressPipe: @unchecked Sendable {
    static let bufferSize = 1 << 20
    static let bufferCount = 4

    private let lock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let changed = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private let buffers: [UnsafeMutableRawPointer]
    // Guarded by `lock`.
    private var free: [Int]
    private var filled: [(index: Int, count: Int)] = []
    private var held: Int?
    private var finished = false
    private var cancelled = false
    private var failure: ArchiveError?

    private let source: Int32
    private let cancelEvent: Int32
    private let limit: Int64
    private let hasher = SHA256()
    private var thread: pthread_t?

    /// - Parameters:
    ///   - source: the layer, compressed or not; read from its current offset, never closed.
    ///   - limit: the most uncompressed bytes accepted.
    init(source: Int32, limit: Int64) throws {
        let event = berth_eventfd_nonblocking()
        guard event >= 0 else { throw ArchiveError(.io, "eventfd: errno \(-event)") }
        self.source = source
        self.cancelEvent = event
        self.limit = limit
        buffers = (0..<Self.bufferCount).map { _ in
            UnsafeMutableRawPointer.allocate(byteCount: Self.bufferSize, alignment: 4096)
        }
        free = Array(0..<Self.bufferCount)
        pthread_mutex_init(lock, nil)
        pthread_cond_init(changed, nil)
    }

    deinit {
        precondition(thread == nil, "DecompressPipe released without join()")
        close(cancelEvent)
        buffers.forEach { $0.deallocate() }
        pthread_cond_destroy(changed)
        pthread_mutex_destroy(lock)
        lock.deallocate()
        changed.deallocate()
    }

    private func locked<T>(_ body: () -> T) -> T {
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        return body()
    }

    // MARK: lifecycle

    /// Starts the producer thread.
    func start() throws {
        var tid = pthread_t()
        let context = Unmanaged.passRetained(self).toOpaque()
        let rc = pthread_create(&tid, nil, { context in
            let pipe = Unmanaged<DecompressPipe>.fromOpaque(context!).takeRetainedValue()
            pipe.produce()
            return nil
        }, context)
        guard rc == 0 else {
            Unmanaged<DecompressPipe>.fromOpaque(context).release()
            throw ArchiveError(.io, "pthread_create: errno \(rc)")
        }
        thread = tid
    }

    /// Makes the producer stop at its next wait or read; what it produced is dropped.
    func cancel() {
        locked {
            cancelled = true
            pthread_cond_broadcast(changed)
        }
        var one: UInt64 = 1
        _ = write(cancelEvent, &one, 8)
    }

    /// Waits for the producer thread to end. Call once, after the stream is drained or cancelled.
    func join() {
        guard let tid = thread else { return }
        pthread_join(tid, nil)
        thread = nil
    }

    /// The producer's failure (corrupt compression, limit, read error), which explains any
    /// failure the tar reader reports after it.
    var error: ArchiveError? { locked { failure } }

    /// After `join()` of a stream read to its end: its digest and size.
    func finish() -> (digest: Digest, size: Int64) {
        (hasher.finish(), hasher.count)
    }

    // MARK: consumer side (libarchive's read callback on the extracting thread)

    /// The next filled buffer; the one returned before goes back to the producer.
    /// Returns the byte count, 0 at the end of the stream, -1 on failure.
    func read(into pointer: UnsafeMutablePointer<UnsafeRawPointer?>?) -> Int {
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        if let index = held {
            free.append(index)
            held = nil
            pthread_cond_broadcast(changed)
        }
        while filled.isEmpty && !finished && failure == nil && !cancelled {
            pthread_cond_wait(changed, lock)
        }
        if failure != nil || cancelled { return -1 }
        guard !filled.isEmpty else { return 0 }
        let next = filled.removeFirst()
        held = next.index
        pointer?.pointee = UnsafeRawPointer(buffers[next.index])
        return next.count
    }

    /// Reads and discards the rest of the stream (what follows the tar's end blocks is
    /// still part of the diffID). Throws the producer's failure.
    func drain() throws {
        while true {
            let n = read(into: nil)
            if n == 0 { return }
            if n < 0 { throw error ?? ArchiveError(.corrupt, "layer stream ended early") }
        }
    }

    // MARK: producer side

    private func fail(_ error: ArchiveError) {
        locked {
            if failure == nil { failure = error }
            pthread_cond_broadcast(changed)
        }
    }

    /// A free buffer, or nil once cancelled.
    private func takeFree() -> Int? {
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        while free.isEmpty && !cancelled { pthread_cond_wait(changed, lock) }
        return cancelled ? nil : free.removeLast()
    }

    private func giveBack(_ index: Int) {
        locked { free.append(index) }
    }

    private func produce() {
        let reader = SourceReader(fd: source, cancelEvent: cancelEvent)
        guard let archive = archive_read_new() else { return fail(ArchiveError(.io, "archive_read_new failed")) }
        defer { archive_read_free(archive) }
        Compression.supportInProcessFilters(archive)
        archive_read_support_format_raw(archive)
        let context = Unmanaged.passUnretained(reader).toOpaque()
        var rc = archive_read_open(archive, context, nil, { _, context, buffer in
            Unmanaged<SourceReader>.fromOpaque(context!).takeUnretainedValue().read(buffer)
        }, nil)
        if rc == ARCHIVE_OK {
            var entry: OpaquePointer?
            rc = archive_read_next_header(archive, &entry)
        }
        guard rc == ARCHIVE_OK else {
            return fail(reader.failure ?? ArchiveError.fromArchive(archive, "layer is empty or not tar, gzip or zstd"))
        }
        var total: Int64 = 0
        var block: UnsafeRawPointer?
        var blockSize = 0
        var blockUsed = 0
        var offset: la_int64_t = 0
        var ended = false
        while !ended {
            guard let index = takeFree() else { return }
            // Fill the buffer from libarchive's blocks (archive_read_data would wait for a
            // whole buffer even when the source has stalled), and hand it over when full,
            // at the end, or when the source's last read came back short: a pipe with
            // nothing more for now, whose data the extractor should not wait on.
            var filledBytes = 0
            while filledBytes < Self.bufferSize {
                if blockUsed == blockSize {
                    let rc = archive_read_data_block(archive, &block, &blockSize, &offset)
                    if rc == ARCHIVE_EOF { ended = true; break }
                    guard rc >= ARCHIVE_WARN else {
                        giveBack(index)
                        return fail(reader.failure ?? ArchiveError.fromArchive(archive, "decompressing layer"))
                    }
                    blockUsed = 0
                }
                let n = min(blockSize - blockUsed, Self.bufferSize - filledBytes)
                if n > 0 { memcpy(buffers[index] + filledBytes, block! + blockUsed, n) }
                blockUsed += n
                filledBytes += n
                if reader.lastReadShort && blockUsed == blockSize { break }
            }
            total += Int64(filledBytes)
            if total > limit {
                giveBack(index)
                return fail(ArchiveError(.limitExceeded, "layer is over \(limit) bytes uncompressed"))
            }
            hasher.update(UnsafeRawBufferPointer(start: buffers[index], count: filledBytes))
            locked {
                if filledBytes > 0 { filled.append((index, filledBytes)) } else { free.append(index) }
                if ended { finished = true }
                pthread_cond_broadcast(changed)
            }
        }
    }
}

/// The compressed side: reads the source descriptor in 1 MiB pieces for libarchive,
/// polling it together with the cancel eventfd so a blocked read can be abandoned.
private final class SourceReader {
    let fd: Int32
    let cancelEvent: Int32
    let buffer = UnsafeMutableRawPointer.allocate(byteCount: 1 << 20, alignment: 4096)
    var failure: ArchiveError?
    /// Whether the last read returned less than asked: the source has nothing more for now.
    var lastReadShort = false

    init(fd: Int32, cancelEvent: Int32) {
        self.fd = fd
        self.cancelEvent = cancelEvent
    }

    deinit { buffer.deallocate() }

    func read(_ out: UnsafeMutablePointer<UnsafeRawPointer?>?) -> Int {
        var fds = [pollfd(fd: fd, events: Int16(POLLIN), revents: 0),
                   pollfd(fd: cancelEvent, events: Int16(POLLIN), revents: 0)]
        while true {
            let ready = poll(&fds, 2, -1)
            if ready < 0 {
                if errno == EINTR { continue }
                failure = ArchiveError(.io, "poll layer source: errno \(errno)")
                return -1
            }
            if fds[1].revents != 0 {
                failure = ArchiveError(.io, "layer read cancelled")
                return -1
            }
            let n = Glibc.read(fd, buffer, 1 << 20)
            if n < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                failure = ArchiveError(.io, "read layer: \(String(cString: strerror(errno)))")
                return -1
            }
            lastReadShort = n < 1 << 20
            out?.pointee = UnsafeRawPointer(buffer)
            return n
        }
    }
}
