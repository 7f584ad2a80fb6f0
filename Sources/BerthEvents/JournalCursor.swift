#if canImport(Glibc)
import Glibc
#endif

/// A reading position in the journal, for one subscription's replay.
///
/// It keeps its segment open, so a segment deleted by retention while it is being read
/// stays readable to the end; moving on to the next segment then shows the loss (the
/// subscription checks `Journal.deletedThrough`). Not thread-safe: one subscription
/// uses it from its transport's serial context.
final class JournalCursor {
    private let journal: Journal
    private var fd: Int32 = -1
    private var base: UInt64 = 0
    private var reader: SegmentReader?
    private var offset = 0
    /// Every record at or below this seq in the open segment has been passed.
    private var position: UInt64 = 0

    init(journal: Journal) {
        self.journal = journal
    }

    deinit {
        if fd >= 0 { close(fd) }
    }

    /// Records with `after < seq <= through`, oldest first, at most `limit` of them.
    /// Fewer (or none) when the journal holds no more in that range yet.
    func read(after: UInt64, through: UInt64, limit: Int) throws -> [EventRecord] {
        if fd < 0 || after != position {
            guard try seek(after) else { return [] }
        }
        var out: [EventRecord] = []
        while out.count < limit, position < through {
            // Skip what the caller has passed without checking CRCs (it was read before
            // or lies before the replay's start).
            if let (seq, size) = try reader!.header(at: offset), seq <= after {
                offset += size
                position = seq
                continue
            }
            switch try reader!.record(at: offset) {
            case let .record(seq, body, size):
                guard seq <= through else { return out }
                offset += size
                position = seq
                out.append(try EventRecord(seq: seq, json: Array(body)))
            case .incomplete, .corrupt:
                // The end of what this segment holds: go on to the next, if any.
                guard try openNext() else { return out }
            }
        }
        return out
    }

    /// Opens the segment that holds the first record after `after`.
    private func seek(_ after: UInt64) throws -> Bool {
        let segments = journal.segments
        guard let target = segments.last(where: { $0.base <= after + 1 }) ?? segments.first else { return false }
        guard try open(target.base) else {
            return try openNext()
        }
        // Records up to `after` are then skipped by seq.
        position = target.base - 1
        return true
    }

    /// Opens the segment after the current one; false when there is none.
    private func openNext() throws -> Bool {
        var current = base
        while true {
            guard let next = journal.segments.first(where: { $0.base > current }) else { return false }
            if try open(next.base) {
                position = next.base - 1
                return true
            }
            current = next.base // deleted meanwhile: try the one after it
        }
    }

    private func open(_ segmentBase: UInt64) throws -> Bool {
        if fd >= 0 { close(fd) }
        fd = -1
        reader = nil
        let path = Journal.path(journal.options.directory, segmentBase)
        let newFD = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard newFD >= 0 else {
            if errno == ENOENT { return false }
            throw JournalReadError(path: path, errno: errno)
        }
        fd = newFD
        base = segmentBase
        reader = SegmentReader(fd: newFD)
        offset = 0
        return true
    }
}

struct JournalReadError: Error, CustomStringConvertible {
    let path: String
    let errno: Int32
    var description: String { "open \(path): \(String(cString: strerror(errno)))" }
}
