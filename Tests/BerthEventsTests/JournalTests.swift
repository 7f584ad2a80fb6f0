import BerthAPI
import BerthSystem
@testable import BerthEvents
import Foundation
import Testing

@Suite struct JournalTests {
    static func records(_ seqs: ClosedRange<UInt64>, size: Int = 40) -> [EventRecord] {
        seqs.map {
            EventRecord(seq: $0, timestamp: Timestamp.now(), namespace: "default", topic: "/test/journal",
                        payloadJSON: Array(#"{"n":\#($0),"pad":"\#(String(repeating: "p", count: size))"}"#.utf8))
        }
    }

    static func readAll(_ journal: Journal, after: UInt64 = 0) throws -> [UInt64] {
        let cursor = JournalCursor(journal: journal)
        var out: [UInt64] = []
        var last = after
        while true {
            let batch = try cursor.read(after: last, through: journal.lastSeq, limit: 100)
            if batch.isEmpty { return out }
            out += batch.map(\.seq)
            last = batch.last!.seq
        }
    }

    @Test func appendedRecordsReadBackInOrderAndSurviveReopening() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let options = Journal.Options(directory: dir.path)
        do {
            let journal = try Journal(options)
            #expect(journal.recovery == .init(lastSeq: 0, truncatedBytes: 0, segments: 0))
            for start in stride(from: UInt64(1), through: 291, by: 10) { try journal.append(Self.records(start...(start + 9))) }
            #expect(journal.lastSeq == 300)
            #expect(try Self.readAll(journal) == Array(1...300))
            #expect(try Self.readAll(journal, after: 123) == Array(124...300))
            let cursor = JournalCursor(journal: journal)
            let one = try cursor.read(after: 41, through: 42, limit: 10)
            #expect(one.map(\.seq) == [42])
            #expect(try one[0].event.payload == .object(["n": .integer(42), "pad": .string(String(repeating: "p", count: 40))]))
            journal.close()
        }
        let reopened = try Journal(options)
        #expect(reopened.recovery.lastSeq == 300 && reopened.recovery.truncatedBytes == 0)
        try reopened.append(Self.records(301...305))
        #expect(try Self.readAll(reopened, after: 295) == Array(296...305))
    }

    /// A crash in the middle of a write leaves part of a record at the end: recovery
    /// cuts it off, numbering resumes after the last whole record, and appends go on.
    @Test(arguments: ["half a header", "a header without its body", "a flipped byte"])
    func aTornTailIsTruncatedNotFatal(_ damage: String) throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let options = Journal.Options(directory: dir.path)
        let path = Journal.path(dir.path, 1)
        let whole: Int
        do {
            let journal = try Journal(options)
            try journal.append(Self.records(1...10))
            journal.close()
            whole = try FileManager.default.attributesOfItem(atPath: path)[.size] as! Int
        }
        var bytes = try Array(Data(contentsOf: URL(fileURLWithPath: path)))
        var expectedLast: UInt64 = 10
        switch damage {
        case "half a header":
            var next: [UInt8] = []
            JournalRecord.append(seq: 11, body: Array("{}".utf8), to: &next)
            bytes += next.prefix(7)
        case "a header without its body":
            var next: [UInt8] = []
            JournalRecord.append(seq: 11, body: Array(#"{"a":"long body"}"#.utf8), to: &next)
            bytes += next.prefix(JournalRecord.headerSize + 3)
        default:
            bytes[bytes.count - 5] ^= 0x40 // inside record 10's body: its CRC fails
            expectedLast = 9
        }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let journal = try Journal(options)
        #expect(journal.recovery.lastSeq == expectedLast)
        #expect(journal.recovery.truncatedBytes > 0)
        let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as! Int
        #expect(expectedLast == 10 ? size == whole : size < whole)
        try journal.append(Self.records((expectedLast + 1)...(expectedLast + 3)))
        #expect(try Self.readAll(journal) == Array(1...(expectedLast + 3)))
    }

    @Test func anEmptyNewestSegmentStillCarriesTheNumbering() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        do {
            let journal = try Journal(.init(directory: dir.path))
            try journal.append(Self.records(1...5))
            journal.close()
        }
        // A crash right after rotation: the next segment exists, empty, named for seq 9
        // (6...8 were burnt by a write that failed).
        _ = FileManager.default.createFile(atPath: Journal.path(dir.path, 9), contents: nil)
        let journal = try Journal(.init(directory: dir.path))
        #expect(journal.recovery.lastSeq == 8)
    }

    @Test func rotationKeepsTheJournalUnderItsSizeBound() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let options = Journal.Options(directory: dir.path, maxBytes: 64 << 10, segmentBytes: 8 << 10)
        let journal = try Journal(options)
        var seq: UInt64 = 1
        for _ in 0..<200 { // 200 batches of 10 records of ~150 bytes: ~300 KB written
            try journal.append(Self.records(seq...(seq + 9), size: 60))
            seq += 10
            #expect(journal.totalBytes <= options.maxBytes + options.segmentBytes)
        }
        #expect(journal.segments.count > 4)
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".journal") }
        #expect(files.count == journal.segments.count)
        #expect(journal.deletedThrough > 1000)
        // What is left is contiguous up to the newest.
        let left = try Self.readAll(journal, after: journal.deletedThrough)
        #expect(left == Array((journal.deletedThrough + 1)...2000))
        journal.close()
        // Reopening keeps the bound and the numbering.
        let reopened = try Journal(options)
        #expect(reopened.recovery.lastSeq == 2000)
        #expect(reopened.deletedThrough == journal.deletedThrough)
    }

    @Test func segmentsOlderThanTheAgeBoundAreDeletedButNeverTheNewest() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let options = Journal.Options(directory: dir.path, maxBytes: 1 << 30, maxAgeSeconds: 0.5, segmentBytes: 1 << 10)
        let journal = try Journal(options)
        try journal.append(Self.records(1...20))
        try journal.append(Self.records(21...40)) // rotates: two segments
        #expect(journal.segments.count == 2)
        try await Task.sleep(for: .milliseconds(700))
        try journal.append(Self.records(41...60)) // rotates, and both old ones are too old
        #expect(journal.segments.map(\.base) == [41])
        #expect(journal.deletedThrough == 40)
        try await Task.sleep(for: .milliseconds(700))
        journal.applyRetention()
        #expect(journal.segments.map(\.base) == [41], "the newest segment stays, whatever its age")
        journal.close()
        let reopened = try Journal(options)
        #expect(reopened.recovery.lastSeq == 60)
    }

    @Test func aCursorInADeletedSegmentReadsItToTheEnd() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let journal = try Journal(.init(directory: dir.path, maxBytes: 1 << 30, segmentBytes: 1 << 10))
        try journal.append(Self.records(1...10))
        try journal.append(Self.records(11...20))
        let cursor = JournalCursor(journal: journal)
        #expect(try cursor.read(after: 0, through: 20, limit: 3).map(\.seq) == [1, 2, 3])
        unlink(Journal.path(dir.path, 1)) // as retention would
        #expect(try cursor.read(after: 3, through: 20, limit: 100).map(\.seq) == Array(4...20))
    }
}
