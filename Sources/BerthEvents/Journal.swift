import BerthSystem
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The bounded on-disk log of events (`<root>/events/`), what `afterSeq` replays from.
///
/// The journal is a directory of segment files, each named by the first seq it holds
/// (`00000000000000000042.journal`) and holding records in seq order (`JournalRecord`).
/// One writer appends a batch at a time (`append`: written, so a berthd killed right
/// after loses nothing), hands it to the subscribers, then makes it durable (`sync`:
/// `fdatasync`) before it takes the next batch. When the newest segment reaches
/// `segmentBytes`, the next batch starts a new one, and the oldest segments are deleted
/// while the journal is over `maxBytes` or they were last written more than `maxAge`
/// ago. The newest segment is never deleted, so the last seq always survives a restart.
///
/// Numbers are never reused, even when the machine crashes between a batch's delivery
/// and its `fdatasync`: seqs are handed out only below a durable reservation (the
/// `reserved` file: this boot's id and a seq, renewed 1,024 seqs at a time), and a
/// journal opened in a later boot that ends below its reservation resumes after the
/// reservation (a gap, reported in `recovery.skipped`), not after its last record.
/// A clean `close()` sets the reservation to the last seq, so a reboot after a clean
/// stop leaves no gap.
///
/// Opening the journal recovers it: a record torn by a crash at the end of the newest
/// segment (short, or failing its CRC) is truncated away and reported in `recovery`.
public final class Journal: Sendable {
    public struct Options: Sendable {
        public var directory: String
        /// Bound on the total size of the segments (the newest one included).
        public var maxBytes: Int
        /// Segments last written longer ago than this are deleted.
        public var maxAgeSeconds: Double
        /// A new segment is started when the newest reaches this size.
        public var segmentBytes: Int

        public init(directory: String, maxBytes: Int = 64 << 20, maxAgeSeconds: Double = 168 * 3600, segmentBytes: Int? = nil) {
            self.directory = directory
            self.maxBytes = maxBytes
            self.maxAgeSeconds = maxAgeSeconds
            self.segmentBytes = segmentBytes ?? min(8 << 20, max(16 << 10, maxBytes / 16))
        }
    }

    /// What opening the journal found.
    public struct Recovery: Sendable, Equatable {
        /// The newest seq in the journal (0 when it has never held an event).
        public var lastSeq: UInt64
        /// Bytes of a torn tail cut from the newest segment.
        public var truncatedBytes: Int
        public var segments: Int
        /// Seqs skipped because the machine restarted since the journal was last
        /// closed cleanly: events up to the reservation may have been delivered and then
        /// lost with the page cache, so numbering resumes after it.
        public var skipped: UInt64 = 0
    }

    /// How far past the last appended seq a reservation reaches.
    static let reservationBlock: UInt64 = 1024
    static let reservationFile = "reserved"

    struct Segment: Sendable, Equatable {
        var base: UInt64
        var size: Int
        /// Seconds since the epoch of the last write.
        var modified: Double
    }

    private struct State {
        /// Oldest first; the last one is where appends go.
        var segments: [Segment] = []
        var lastSeq: UInt64 = 0
        /// Every seq up to this one is gone (deleted by retention, or older than the
        /// journal's first segment).
        var deletedThrough: UInt64 = 0
        var lastRetention: Double = 0
    }

    public let options: Options
    public let recovery: Recovery
    private let state = Mutex(State())
    /// The newest segment's descriptor, opened for append; used by the one writer.
    private let active = Mutex<(fd: Int32, size: Int)?>(nil)
    /// The reservation file (-1 once closed) and the seq it reserves through.
    private let reservation = Mutex<(fd: Int32, through: UInt64)>((-1, 0))
    private let bootID: String

    public init(_ options: Options) throws {
        self.options = options
        try FileSystem.makeDirectory(options.directory, mode: 0o700)
        var segments = try Self.listSegments(options.directory)
        var recovery = Recovery(lastSeq: 0, truncatedBytes: 0, segments: segments.count)
        var lastSeq: UInt64 = 0
        if var newest = segments.last {
            let path = Self.path(options.directory, newest.base)
            let (validSize, last) = try Self.scanTail(path)
            if validSize < newest.size {
                recovery.truncatedBytes = newest.size - validSize
                try Self.truncate(path, to: validSize)
                newest.size = validSize
                segments[segments.count - 1] = newest
            }
            lastSeq = last ?? (newest.base - 1)
            let fd = try retryingEINTR("open \(path)") { open(path, O_WRONLY | O_APPEND | O_CLOEXEC) }
            active.withLock { $0 = (fd, newest.size) }
        }
        bootID = Self.currentBootID()
        let reservationPath = options.directory + "/" + Self.reservationFile
        if let (boot, reserved) = Self.readReservation(reservationPath), boot != bootID, reserved > lastSeq {
            recovery.skipped = reserved - lastSeq
            lastSeq = reserved
        }
        let reservationFD = try retryingEINTR("open \(reservationPath)") { open(reservationPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600) }
        reservation.withLock { $0 = (reservationFD, lastSeq) } // renewed, with this boot's id, by the first append
        try FileSystem.syncDirectory(options.directory) // the reservation file itself survives a crash
        recovery.lastSeq = lastSeq
        self.recovery = recovery
        state.withLock { s in
            s.segments = segments
            s.lastSeq = lastSeq
            s.deletedThrough = segments.first.map { $0.base - 1 } ?? lastSeq
        }
        if recovery.skipped > 0 {
            // The jump is recorded in the journal at once, as an empty segment named after
            // the next seq: a berthd stopped before its first event, and started again in
            // this boot, then resumes after the reservation too, not after the old records.
            try active.withLock { a in try rotate(&a, base: lastSeq + 1) }
        }
        applyRetention()
    }

    deinit {
        close()
    }

    /// Makes what was appended durable, sets the reservation to the last seq (a later
    /// boot then resumes right after it) and closes the files. Further appends fail.
    public func close() {
        let synced = active.withLock { a -> Bool in
            defer { a = nil }
            guard let fd = a?.fd else { return true }
            defer { Glibc.close(fd) }
            return fdatasync(fd) == 0
        }
        let last = lastSeq
        reservation.withLock { r in
            guard r.fd >= 0 else { return }
            if synced { _ = try? Self.writeReservation(r.fd, bootID: bootID, through: last) }
            Glibc.close(r.fd)
            r.fd = -1
        }
    }

    /// The newest seq written.
    public var lastSeq: UInt64 { state.withLock { $0.lastSeq } }

    /// Every seq at or below this is no longer in the journal.
    public var deletedThrough: UInt64 { state.withLock { $0.deletedThrough } }

    /// The oldest seq a replay can start after (`afterSeq` must be at least this).
    public var oldestReplayableAfter: UInt64 { deletedThrough }

    /// Total bytes of all segments.
    public var totalBytes: Int { state.withLock { $0.segments.reduce(0) { $0 + $1.size } } }

    var segments: [Segment] { state.withLock { $0.segments } }

    // MARK: writing

    /// Appends `records` (in seq order, each above `lastSeq`): written, not yet durable
    /// (`sync` does that). On failure nothing of the batch stays in the journal.
    func append(_ records: [EventRecord]) throws {
        guard let first = records.first, let last = records.last else { return }
        try reserve(through: last.seq)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(records.reduce(0) { $0 + $1.json.count + JournalRecord.headerSize })
        for record in records { JournalRecord.append(seq: record.seq, body: record.json, to: &bytes) }
        let rotated = try active.withLock { a -> Bool in
            var rotated = false
            if a == nil || a!.size >= options.segmentBytes {
                try rotate(&a, base: first.seq)
                rotated = true
            }
            let (fd, size) = a!
            do {
                try Self.writeAll(fd, bytes, what: "journal segment")
            } catch {
                _ = ftruncate(fd, off_t(size))
                throw error
            }
            a!.size = size + bytes.count
            return rotated
        }
        let now = Self.now()
        let due = state.withLock { s -> Bool in
            s.segments[s.segments.count - 1].size += bytes.count
            s.segments[s.segments.count - 1].modified = now
            s.lastSeq = last.seq
            return rotated || now - s.lastRetention > 10
        }
        if due { applyRetention() }
    }

    /// Makes every appended record durable (`fdatasync` of the newest segment; older
    /// segments were synced before the next batch was appended).
    func sync() throws {
        try active.withLock { a in
            guard let fd = a?.fd else { return }
            try retryingEINTR("fdatasync journal segment") { fdatasync(fd) }
        }
    }

    /// Whether appending a batch that ends at `seq` is a write and nothing more: the
    /// reservation already covers it and the newest segment has room.
    func appendIsOnlyAWrite(through seq: UInt64) -> Bool {
        reservation.withLock { $0.fd >= 0 && seq <= $0.through }
            && active.withLock { a in a.map { $0.size < options.segmentBytes } ?? false }
    }

    /// Makes sure the durable reservation covers `seq` before any subscriber can see it.
    private func reserve(through seq: UInt64) throws {
        try reservation.withLock { r in
            guard r.fd >= 0 else { throw SystemError(errno: EBADF, stage: "write journal: closed") }
            guard seq > r.through else { return }
            let through = seq + Self.reservationBlock
            try Self.writeReservation(r.fd, bootID: bootID, through: through)
            r.through = through
        }
    }

    private func rotate(_ a: inout (fd: Int32, size: Int)?, base: UInt64) throws {
        if let fd = a?.fd { Glibc.close(fd) }
        a = nil
        let path = Self.path(options.directory, base)
        let fd = try retryingEINTR("create \(path)") { open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0o600) }
        do {
            try FileSystem.syncDirectory(options.directory)
        } catch {
            Glibc.close(fd)
            throw error
        }
        a = (fd, 0)
        state.withLock { s in
            if s.segments.last?.base == base { s.segments.removeLast() } // an empty one left by a failed write
            s.segments.append(Segment(base: base, size: 0, modified: Self.now()))
        }
    }

    /// Deletes the oldest segments while the journal is over its size bound or they are
    /// older than the age bound, never the newest one.
    func applyRetention() {
        let now = Self.now()
        let doomed = state.withLock { s -> [UInt64] in
            s.lastRetention = now
            var doomed: [UInt64] = []
            var total = s.segments.reduce(0) { $0 + $1.size }
            while s.segments.count > 1 {
                let oldest = s.segments[0]
                guard total > options.maxBytes || now - oldest.modified > options.maxAgeSeconds else { break }
                s.segments.removeFirst()
                total -= oldest.size
                s.deletedThrough = s.segments[0].base - 1
                doomed.append(oldest.base)
            }
            return doomed
        }
        for base in doomed { unlink(Self.path(options.directory, base)) }
    }

    // MARK: files

    static func path(_ directory: String, _ base: UInt64) -> String {
        let digits = String(base)
        return directory + "/" + String(repeating: "0", count: max(0, 20 - digits.count)) + digits + ".journal"
    }

    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    /// The kernel's id of this boot; when unreadable, a random one (every restart then
    /// counts as a reboot, which may leave gaps but never reuses a seq).
    static func currentBootID() -> String {
        let bytes = (try? FileSystem.readFile("/proc/sys/kernel/random/boot_id", limit: 128)) ?? []
        let id = String(decoding: bytes, as: UTF8.self).split(whereSeparator: { $0 == "\n" || $0 == " " }).first.map(String.init)
        return id ?? "unknown-\(UInt64.random(in: 1...UInt64.max))"
    }

    /// `(boot id, seq)` from the reservation file, nil when absent or unreadable.
    static func readReservation(_ path: String) -> (String, UInt64)? {
        guard let bytes = try? FileSystem.readFile(path, limit: 256) else { return nil }
        let words = String(decoding: bytes, as: UTF8.self).split(whereSeparator: { $0 == " " || $0 == "\n" })
        guard words.count == 2, let seq = UInt64(words[1]) else { return nil }
        return (String(words[0]), seq)
    }

    /// One fixed-size line rewritten in place, then `fdatasync`.
    static func writeReservation(_ fd: Int32, bootID: String, through: UInt64) throws {
        var line = Array("\(bootID) \(through)\n".utf8)
        line += [UInt8](repeating: UInt8(ascii: " "), count: max(0, 80 - line.count))
        let written = line.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        guard written == line.count else { throw SystemError(errno: written < 0 ? errno : EIO, stage: "write journal reservation") }
        try retryingEINTR("fdatasync journal reservation") { fdatasync(fd) }
    }

    private static func listSegments(_ directory: String) throws -> [Segment] {
        guard let dir = opendir(directory) else { throw SystemError(errno: errno, stage: "opendir \(directory)") }
        defer { closedir(dir) }
        var segments: [Segment] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard name.hasSuffix(".journal"), name.utf8.count == 28,
                  let base = UInt64(name.prefix(20)), base > 0 else { continue }
            var st = stat()
            let path = self.path(directory, base)
            guard stat(path, &st) == 0 else { continue }
            segments.append(Segment(base: base, size: Int(st.st_size),
                                    modified: Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) / 1e9))
        }
        return segments.sorted { $0.base < $1.base }
    }

    /// The length of the valid prefix of a segment and the seq of its last record.
    private static func scanTail(_ path: String) throws -> (validSize: Int, lastSeq: UInt64?) {
        let fd = try retryingEINTR("open \(path)") { open(path, O_RDONLY | O_CLOEXEC) }
        defer { Glibc.close(fd) }
        var reader = SegmentReader(fd: fd)
        var offset = 0
        var last: UInt64?
        while case let .record(seq, _, size) = try reader.record(at: offset) {
            if let last, seq <= last { break } // out of order: not ours
            last = seq
            offset += size
        }
        return (offset, last)
    }

    private static func truncate(_ path: String, to size: Int) throws {
        let fd = try retryingEINTR("open \(path)") { open(path, O_WRONLY | O_CLOEXEC) }
        defer { Glibc.close(fd) }
        try retryingEINTR("truncate \(path)") { ftruncate(fd, off_t(size)) }
        try retryingEINTR("fsync \(path)") { fsync(fd) }
    }

    static func writeAll(_ fd: Int32, _ bytes: [UInt8], what: String) throws {
        var offset = 0
        while offset < bytes.count {
            let n = try retryingEINTR("write \(what)") {
                bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
            }
            offset += n
        }
    }
}

/// Reads records of one segment file through a buffer.
struct SegmentReader {
    let fd: Int32
    private var buffer: [UInt8] = []
    /// File offset of `buffer[0]`.
    private var bufferOffset = 0
    static let chunk = 256 << 10

    init(fd: Int32) {
        self.fd = fd
    }

    /// The record starting at file offset `offset`.
    mutating func record(at offset: Int) throws -> JournalRecord.Decoded {
        var decoded = decodeBuffered(at: offset)
        if case let .incomplete(needed) = decoded {
            try fill(at: offset, count: max(Self.chunk, needed))
            decoded = decodeBuffered(at: offset)
        }
        return decoded
    }

    /// The seq and size of the record at `offset` from its header alone (no CRC check):
    /// for skipping records already known to be complete.
    mutating func header(at offset: Int) throws -> (seq: UInt64, size: Int)? {
        if offset < bufferOffset || offset + JournalRecord.headerSize > bufferOffset + buffer.count {
            try fill(at: offset, count: Self.chunk)
        }
        let i = offset - bufferOffset
        guard i + JournalRecord.headerSize <= buffer.count else { return nil }
        var length = 0
        for b in buffer[i..<(i + 4)] { length = length << 8 | Int(b) }
        var seq: UInt64 = 0
        for b in buffer[(i + 8)..<(i + 16)] { seq = seq << 8 | UInt64(b) }
        guard length > 0, length <= JournalRecord.maxBody else { return nil }
        return (seq, JournalRecord.headerSize + length)
    }

    private func decodeBuffered(at offset: Int) -> JournalRecord.Decoded {
        guard offset >= bufferOffset, offset <= bufferOffset + buffer.count else {
            return .incomplete(needed: JournalRecord.headerSize)
        }
        return JournalRecord.decode(buffer[(offset - bufferOffset)...])
    }

    private mutating func fill(at offset: Int, count: Int) throws {
        var bytes = [UInt8](repeating: 0, count: count)
        var got = 0
        while got < count {
            let n = try retryingEINTR("read journal segment") {
                bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + got, count - got, off_t(offset + got)) }
            }
            if n == 0 { break }
            got += n
        }
        bytes.removeLast(count - got)
        buffer = bytes
        bufferOffset = offset
    }
}
