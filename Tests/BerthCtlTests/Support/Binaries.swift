import Foundation

/// Where the executables under test are: `BERTH_BIN_DIR` (the Makefile sets it), or
/// `<package root>/.build/debug` for a plain `swift test`.
enum Binaries {
    static let directory: String = {
        if let dir = ProcessInfo.processInfo.environment["BERTH_BIN_DIR"], !dir.isEmpty { return dir }
        // This file is <package root>/Tests/BerthCtlTests/Support/Binaries.swift.
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { url.deleteLastPathComponent() }
        return url.appendingPathComponent(".build/debug").path
    }()

    static var berthd: String { directory + "/berthd" }
    static var berthctl: String { directory + "/berthctl" }
}

/// A failure of the test machinery itself (not an assertion), with what it saw.
struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
