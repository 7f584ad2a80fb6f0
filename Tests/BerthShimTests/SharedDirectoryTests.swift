import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `berth-shim start` with its socket in a directory it did not make (a shared one such
/// as /tmp) never changes that directory's mode.
@Suite struct SharedDirectoryTests {
    @Test func aSharedSocketDirectoryKeepsItsMode() throws {
        var template = Array("/tmp/sdt.XXXXXX".utf8CString)
        let shared = String(cString: template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }!)
        defer { try? FileManager.default.removeItem(atPath: shared) }
        chmod(shared, 0o1777)
        // No bundle directory: the launcher fails after the socket step, which is all this needs.
        let bootstrap = #"{"id":"x","namespace":"default","bundle":"\#(shared)/none","runtime":"/bin/true","runtimeRoot":"\#(shared)/rt","address":"\#(shared)/x.sock"}"#
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Binaries.shim)
        process.arguments = ["start"]
        let input = Pipe()
        process.standardInput = input
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        input.fileHandleForWriting.write(Data(bootstrap.utf8))
        try input.fileHandleForWriting.close()
        process.waitUntilExit()
        var st = stat()
        #expect(stat(shared, &st) == 0)
        #expect(st.st_mode & 0o7777 == 0o1777, "mode became \(String(st.st_mode & 0o7777, radix: 8))")
    }
}
