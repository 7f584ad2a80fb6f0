import BerthSystem
import Foundation
import Testing

/// `FileSystem.readFile`, which every cgroup, proc and state file goes through: whole
/// files of any size, proc files that report no size, and the limit.
@Suite struct FileReadingTests {
    static func temporaryFile(_ bytes: [UInt8]) throws -> String {
        let path = NSTemporaryDirectory() + "berth-read-\(UUID().uuidString)"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test(arguments: [0, 1, 4095, 4096, 4097, 8192, 100_000])
    func aRegularFileIsReadWhole(_ size: Int) throws {
        let bytes = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        let path = try Self.temporaryFile(bytes)
        defer { unlink(path) }
        #expect(try FileSystem.readFile(path, limit: 1 << 20) == bytes)
        #expect(try FileSystem.readFile(path, limit: size) == bytes) // exactly at the limit
    }

    @Test func aFileOverTheLimitIsEFBIGAndNotTruncated() throws {
        let path = try Self.temporaryFile([UInt8](repeating: 65, count: 5000))
        defer { unlink(path) }
        #expect(throws: SystemError.self) { try FileSystem.readFile(path, limit: 4999) }
        do {
            _ = try FileSystem.readFile(path, limit: 100)
            Issue.record("a 5000-byte file read under a 100-byte limit")
        } catch let error as SystemError {
            #expect(error.errno == EFBIG)
        }
    }

    /// /proc files report size 0 and are generated as they are read: the buffer grows.
    @Test func aProcFileLargerThanOneBufferIsReadWhole() throws {
        let bytes = try FileSystem.readFile("/proc/self/maps", limit: 16 << 20)
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(bytes.count > 4096, "a test process maps more than one page of text: \(bytes.count)")
        #expect(text.hasSuffix("\n"))
        #expect(text.contains("[stack]"))
        #expect(throws: SystemError.self) { try FileSystem.readFile("/proc/self/maps", limit: 1000) }
    }
}
