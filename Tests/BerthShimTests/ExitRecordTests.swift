import BerthAPI
import BerthShim
import BerthSystem
import Foundation
import Testing

/// exit.json is written by hand (no JSONEncoder on the exit path) into a file created
/// with the task; what berthd and `berth-shim delete` read back must not change.
@Suite struct ExitRecordTests {
    static func sortedJSON(_ record: ExitRecord) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return Array(try encoder.encode(record))
    }

    @Test func theHandWrittenRecordIsWhatJSONEncoderWrites() throws {
        for record in [ExitRecord(pid: 26183, exitStatus: 137, exitedAt: Timestamp.now()),
                       ExitRecord(pid: 0, exitStatus: 255, exitedAt: "2026-11-26T04:00:00.000000001Z"),
                       ExitRecord(pid: 1, exitStatus: 0, exitedAt: "")] {
            let bytes = try record.encoded()
            #expect(bytes == (try Self.sortedJSON(record)))
            #expect(try JSONDecoder().decode(ExitRecord.self, from: Data(bytes)) == record)
        }
    }

    @Test func aTimeThatNeedsEscapingStillMakesValidJSON() throws {
        let record = ExitRecord(pid: 7, exitStatus: 1, exitedAt: "a \"quoted\" \\ time\n")
        #expect(try JSONDecoder().decode(ExitRecord.self, from: Data(try record.encoded())) == record)
    }

    @Test func aPreparedFileBecomesExitJSONOnlyWhenCommitted() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("exit-record-\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let prepared = try ExitRecord.Prepared(bundle: dir)
        #expect(ExitRecord.read(from: dir) == nil) // an empty temporary file is not a record
        let record = ExitRecord(pid: 42, exitStatus: 137, exitedAt: Timestamp.now())
        try prepared.commit(record)
        #expect(ExitRecord.read(from: dir) == record)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == [ExitRecord.fileName])
    }
}
