import BerthEvents
import Foundation
import Logging
import Testing
@testable import BerthDaemon

/// Where berthd resumes a shim's event stream: after the bundle's events.seq for a shim
/// it finds again after a restart, from the start for a shim it has just launched
/// (whose events count from 1 whatever an earlier task of the container left).
@Suite struct ShimEventForwarderTests {
    static func bundle(seq: String?) throws -> String {
        let dir = NSTemporaryDirectory() + "berth-fwd-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        if let seq { try Data(seq.utf8).write(to: URL(fileURLWithPath: dir + "/" + ShimEventForwarder.seqFile)) }
        return dir
    }

    @Test func aShimFoundAgainResumesAfterEventsSeq() throws {
        let dir = try Self.bundle(seq: "42")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let forwarder = ShimEventForwarder(namespace: "default", bundle: dir, events: DiscardingPublisher(),
                                           logger: Logger(label: "test"), fresh: false)
        #expect(forwarder.lastForwarded == 42)
    }

    @Test func aNewShimStartsFromOneAndDropsAStaleEventsSeq() throws {
        let dir = try Self.bundle(seq: "42")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let forwarder = ShimEventForwarder(namespace: "default", bundle: dir, events: DiscardingPublisher(),
                                           logger: Logger(label: "test"), fresh: true)
        #expect(forwarder.lastForwarded == 0)
        #expect(!FileManager.default.fileExists(atPath: dir + "/" + ShimEventForwarder.seqFile))
        // And a berthd that restarts before this shim's first event resumes from 0 too.
        let again = ShimEventForwarder(namespace: "default", bundle: dir, events: DiscardingPublisher(),
                                       logger: Logger(label: "test"), fresh: false)
        #expect(again.lastForwarded == 0)
    }
}
