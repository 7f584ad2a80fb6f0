import BerthArchive
import BerthDigest
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Input that is not a well-formed layer, or too big: a clear `ArchiveError`, fast,
/// without allocating what the input claims, and the decompressor thread stopped.
@Suite struct MalformedInputTests {
    private func elapsed(_ body: () -> Void) -> Double {
        let start = ContinuousClock.now
        body()
        let d = ContinuousClock.now - start
        return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    /// The peak resident set of this process, in KiB (VmHWM).
    private func peakRSS() -> Int {
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") } ?? ""
        return Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
    }

    @Test(arguments: Compression.allCases)
    func paxHeaderOfOneGiBIsRefusedFromItsHeader(_ compression: Compression) throws {
        let s = try Sandbox()
        defer { s.cleanup() }
        // A PAX header claiming 1 GiB, followed by only a few KiB of its body.
        let layer = TarBuilder.header("PaxHeaders/x", type: "x", size: 1 << 30) + Array("30 path=aaaaaaaaaaaaaaaaaaaaa\n".utf8)
            + [UInt8](repeating: 0x41, count: 8192)
        let before = peakRSS()
        let seconds = elapsed {
            expectArchiveError(.limitExceeded) { try s.apply(TarBuilder.compress(layer, compression)) }
        }
        #expect(seconds < 2)
        #expect(peakRSS() - before < 256 << 10, "the 1 GiB header was allocated")
    }

    @Test func longNameOverMaxHeaderBytesIsRefused() throws {
        let s = try Sandbox()
        defer { s.cleanup() }
        let name = String(repeating: "d/", count: 600) + "file"
        var options = ApplyOptions(whiteouts: .native)
        options.limits.maxHeaderBytes = 1000
        expectArchiveError(.limitExceeded) { try s.apply(TarBuilder.tar([.file(name, "x")]), options) }
        var xattrs = TarEntry.file("f", "x")
        xattrs.xattrs = [.init(name: "user.big", value: [UInt8](repeating: 1, count: 2000))]
        expectArchiveError(.limitExceeded) { try s.apply(TarBuilder.tar([xattrs]), options) }
        // Within the limit, the same shapes apply.
        options.limits.maxHeaderBytes = 4000
        try s.apply(TarBuilder.tar([.file(name, "x")]), options)
        #expect(s.read(name) == "x")
    }

    @Test func tooManyEntries() throws {
        let s = try Sandbox()
        defer { s.cleanup() }
        var options = ApplyOptions(whiteouts: .native)
        options.limits.maxEntries = 5
        expectArchiveError(.limitExceeded) { try s.apply(TarBuilder.tar((0..<10).map { .file("f\($0)", "x") }), options) }
    }

    @Test(arguments: Compression.allCases)
    func truncatedLayer(_ compression: Compression) throws {
        let s = try Sandbox()
        defer { s.cleanup() }
        let whole = TarBuilder.compress(TarBuilder.tar([.file("big", String(repeating: "x", count: 200_000))]), compression)
        let cut = Array(whole[0..<(whole.count * 2 / 3)])
        expectArchiveError(.corrupt) { try s.apply(cut) }
    }

    @Test func emptyInputIsCorrupt() throws {
        let s = try Sandbox()
        defer { s.cleanup() }
        expectArchiveError(.corrupt) { try s.apply([]) }
    }

    @Test(arguments: [17, 512, 65536])
    func randomBytesAreCorrupt(_ count: Int) throws {
        let s = try Sandbox()
        defer { s.cleanup() }
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
        expectArchiveError(.corrupt) { try s.apply(bytes) }
        // Random bytes behind a gzip magic too.
        expectArchiveError(.corrupt) { try s.apply([0x1F, 0x8B, 0x08, 0x00] + bytes) }
        s.expectCanaryIntact()
    }

    @Test(arguments: Compression.allCases)
    func emptyTarIsAnEmptyLayer(_ compression: Compression) throws {
        let s = try Sandbox()
        defer { s.cleanup() }
        let result = try s.apply(TarBuilder.compress(TarBuilder.end, compression))
        #expect(result.entries == 0)
        #expect(result.uncompressedSize == 1024)
        #expect(result.diffID == SHA256.digest(TarBuilder.end))
        #expect(try FileManager.default.contentsOfDirectory(atPath: s.root).isEmpty)
    }

    @Test(arguments: [Compression.gzip, .zstd])
    func decompressionBombStopsAtTheLimit(_ compression: Compression) throws {
        let s = try Sandbox()
        defer { s.cleanup() }
        let bomb = TarBuilder.zeroFile("zeros", size: 200 << 20, compression)
        #expect(bomb.count < 1 << 20)
        var options = ApplyOptions(whiteouts: .native)
        options.limits.maxUncompressedBytes = 16 << 20
        let seconds = elapsed {
            expectArchiveError(.limitExceeded) { try s.apply(bomb, options) }
        }
        #expect(seconds < 2)
        var st = stat()
        if stat(s.root + "/zeros", &st) == 0 { #expect(st.st_size <= 17 << 20) }
    }

    /// A source that never ends (a pipe whose writer stays open) must not hold up the
    /// failure: the decompressor is woken from its read, stopped and joined.
    @Test func failureDoesNotWaitForAStalledSource() throws {
        let s = try Sandbox()
        defer { s.cleanup() }
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        defer { close(fds[0]); close(fds[1]) }
        let layer = TarBuilder.tar([.file("ok", "fine"), .file("etc/.wh..", "")])
        #expect(layer.withUnsafeBytes { Glibc.write(fds[1], $0.baseAddress, $0.count) } == layer.count)
        let threadsBefore = try FileManager.default.contentsOfDirectory(atPath: "/proc/self/task").count
        let seconds = elapsed {
            expectArchiveError(.unsafeEntry) {
                try LayerApplier.apply(from: fds[0], into: s.root, options: ApplyOptions(whiteouts: .native))
            }
        }
        #expect(seconds < 2)
        // Other suites run in parallel: only a gross leak would show, but a hang would not pass at all.
        #expect(try FileManager.default.contentsOfDirectory(atPath: "/proc/self/task").count <= threadsBefore + 8)
    }

    @Test func uidOutOfRangeIsCorrupt() throws {
        let s = try Sandbox()
        defer { s.cleanup() }
        var entry = TarEntry.file("f", "x")
        entry.uid = 0xFFFF_FFFF
        expectArchiveError(.corrupt) { try s.apply(TarBuilder.tar([entry])) }
    }
}
