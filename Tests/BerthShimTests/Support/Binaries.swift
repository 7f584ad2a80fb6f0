import Foundation

/// Where the executables under test are: `BERTH_BIN_DIR` (the Makefile sets it), or
/// `<package root>/.build/debug` for a plain `swift test`.
enum Binaries {
    static let directory: String = {
        if let dir = ProcessInfo.processInfo.environment["BERTH_BIN_DIR"], !dir.isEmpty { return dir }
        // This file is <package root>/Tests/BerthShimTests/Support/Binaries.swift.
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { url.deleteLastPathComponent() }
        return url.appendingPathComponent(".build/debug").path
    }()

    static var shim: String { directory + "/berth-shim" }
    static var runtime: String { directory + "/berth-runtime" }
}

/// A failure of the test machinery itself (not an assertion), with what it saw.
struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Polls `condition` every 10 ms until it holds or `timeout` passes; returns whether it held.
func eventually(timeout: Duration = .seconds(5), _ condition: () throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while true {
        if try condition() { return true }
        if ContinuousClock.now >= deadline { return false }
        try? await Task.sleep(for: .milliseconds(10))
    }
}
