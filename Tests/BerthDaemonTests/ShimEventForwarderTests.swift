import BerthAPI
import BerthEvents
import Foundation
import Synchronization
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

    static func forwarder(_ dir: String, _ events: any EventPublisher = DiscardingPublisher(), fresh: Bool,
                          tail: Bool = false) -> ShimEventForwarder {
        ShimEventForwarder(namespace: "default", bundle: dir, events: events, logger: Logger(label: "test"), fresh: fresh,
                           journalTail: tail ? JournalTail(events: events) : nil)
    }

    static func notification(_ event: ShimEvent) throws -> BerthClient.Notification {
        BerthClient.Notification(method: "events.event", message: try RPCMessage.notification(method: "events.event", params: event))
    }

    @Test func aShimFoundAgainResumesAfterEventsSeq() throws {
        let dir = try Self.bundle(seq: "42 1000")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let forwarder = Self.forwarder(dir, fresh: false)
        #expect(forwarder.lastForwarded == 42)
    }

    @Test func aNewShimStartsFromOneAndDropsAStaleEventsSeq() throws {
        let dir = try Self.bundle(seq: "42")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let forwarder = Self.forwarder(dir, fresh: true)
        #expect(forwarder.lastForwarded == 0)
        // The stale count is replaced by "nothing yet, journal head at launch".
        #expect((try? String(contentsOfFile: dir + "/" + ShimEventForwarder.seqFile, encoding: .utf8)) == "0 0")
        // And a berthd that restarts before this shim's first event resumes from 0 too.
        let again = Self.forwarder(dir, fresh: false)
        #expect(again.lastForwarded == 0)
    }

    /// A berthd killed after the journal took a shim's event but before events.seq said
    /// so: after the restart the shim replays it, and it must not be published again —
    /// while what the journal does not hold is.
    @Test func aReplayedEventTheJournalAlreadyHoldsIsNotPublishedAgain() async throws {
        let dir = try Self.bundle(seq: "3 100")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let exit4 = ShimEvent(seq: 4, timestamp: "2026-11-26T01:00:00.000000000Z", topic: "/tasks/exit",
                              payload: ShimEventPayload(containerID: "c1", pid: 10, exitStatus: 137, exitedAt: "2026-11-26T01:00:00.000000000Z"))
        let delete5 = ShimEvent(seq: 5, timestamp: "2026-11-26T01:00:01.000000000Z", topic: "/tasks/delete",
                                payload: ShimEventPayload(containerID: "c1", pid: 10, exitStatus: 137, exitedAt: "2026-11-26T01:00:00.000000000Z"))
        let journaledExit = try AnyJSON(encoding: TaskExitEvent(
            containerID: "c1", id: "c1", pid: 10, exitStatus: 137, exitedAt: "2026-11-26T01:00:00.000000000Z"))
        let publisher = RecordingPublisher(tail: [
            Event(seq: 99, timestamp: "t", namespace: "default", topic: "/tasks/exit", payload: journaledExit), // before the record
            Event(seq: 101, timestamp: "t", namespace: "default", topic: "/tasks/exit", payload: journaledExit),
            Event(seq: 102, timestamp: "t", namespace: "default", topic: "/tasks/start",
                  payload: .object(["containerID": .string("c2"), "pid": .number(11)])),
        ])
        let forwarder = Self.forwarder(dir, publisher, fresh: false, tail: true)
        for event in [exit4, exit4, delete5] { // the second exit4: a replay of the replay, skipped by seq
            forwarder.receive(try Self.notification(event))
        }
        #expect(publisher.topics == ["/tasks/delete"], "the journaled exit was published again, or the delete was not")
        // The third word: the init's exit is in the stream (as 101), for a shim that dies later.
        #expect(try await Self.waitForSeqFile(dir, "5 500 101") == "5 500 101")
    }

    /// berthd killed after the journal took a new shim's very first event, before any
    /// events.seq record: the launch wrote the journal's head, so the replay is checked.
    @Test func aNewShimsFirstEventIsNotPublishedTwiceAfterACrash() throws {
        let dir = try Self.bundle(seq: nil)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let create = ShimEvent(seq: 1, timestamp: "2026-11-26T01:00:00.000000000Z", topic: "/tasks/create",
                               payload: ShimEventPayload(containerID: "c1", pid: 10))
        let journaled = try AnyJSON(encoding: TaskCreateEvent(containerID: "c1", bundle: dir, pid: 10))
        _ = Self.forwarder(dir, RecordingPublisher(tail: [], lastSeq: 100), fresh: true)
        // The crash: the journal has /tasks/create as 101, events.seq still says "0 100".
        let publisher = RecordingPublisher(tail: [Event(seq: 101, timestamp: "t", namespace: "default", topic: "/tasks/create", payload: journaled)],
                                           lastSeq: 101)
        let forwarder = Self.forwarder(dir, publisher, fresh: false, tail: true)
        forwarder.receive(try Self.notification(create))
        #expect(publisher.topics.isEmpty, "published twice: \(publisher.topics)")
        #expect((try? String(contentsOfFile: dir + "/" + ShimEventForwarder.seqFile, encoding: .utf8)) == "1 101")
    }

    /// The journal holds nothing of the replay (an exit while berthd was down): all of it
    /// is published.
    @Test func aReplayTheJournalDoesNotHoldIsPublished() throws {
        let dir = try Self.bundle(seq: "3 100")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let publisher = RecordingPublisher(tail: [])
        let forwarder = Self.forwarder(dir, publisher, fresh: false, tail: true)
        let exit4 = ShimEvent(seq: 4, timestamp: "2026-11-26T01:00:00.000000000Z", topic: "/tasks/exit",
                              payload: ShimEventPayload(containerID: "c1", pid: 10, exitStatus: 0, exitedAt: "2026-11-26T01:00:00.000000000Z"))
        forwarder.receive(try Self.notification(exit4))
        #expect(publisher.topics == ["/tasks/exit"])
    }

    static func exitEvent(seq: UInt64, execID: String? = nil, status: Int32 = 3) -> ShimEvent {
        ShimEvent(seq: seq, timestamp: "2026-11-26T01:00:00.000000000Z", topic: "/tasks/exit",
                  payload: ShimEventPayload(containerID: "c1", execID: execID, pid: 10, exitStatus: status,
                                            exitedAt: "2026-11-26T01:00:00.000000000Z"))
    }

    static func waitForSeqFile(_ dir: String, _ expected: String) async throws -> String {
        var recorded = ""
        for _ in 0..<200 {
            recorded = (try? String(contentsOfFile: dir + "/" + ShimEventForwarder.seqFile, encoding: .utf8)) ?? ""
            if recorded == expected { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        return recorded
    }

    /// A shim that dies after its task's exit was published must not get a second one,
    /// from this berthd or from one that starts later.
    @Test func theInitsExitIsRememberedAndRecordedInEventsSeq() async throws {
        let dir = try Self.bundle(seq: nil)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let publisher = RecordingPublisher(tail: [])
        let forwarder = Self.forwarder(dir, publisher, fresh: true)
        #expect(forwarder.initExit == nil)
        #expect(!forwarder.initExitPublished(containerID: "c1", journalTail: JournalTail(events: publisher)))
        forwarder.receive(try Self.notification(Self.exitEvent(seq: 1, status: 3)))
        #expect(forwarder.initExit == ExitRecord(pid: 10, exitStatus: 3, exitedAt: "2026-11-26T01:00:00.000000000Z"))
        #expect(forwarder.initExitPublished(containerID: "c1", journalTail: JournalTail(events: publisher)))
        #expect(try await Self.waitForSeqFile(dir, "1 500 500") == "1 500 500")
        let later = Self.forwarder(dir, RecordingPublisher(tail: []), fresh: false)
        #expect(later.initExit == nil, "the exit itself is the shim's (exit.json), not events.seq's")
        #expect(later.initExitPublished(containerID: "c1", journalTail: JournalTail(events: RecordingPublisher(tail: []))))
    }

    @Test func anExecsExitIsNotTheTasksExit() async throws {
        let dir = try Self.bundle(seq: nil)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let publisher = RecordingPublisher(tail: [])
        let forwarder = Self.forwarder(dir, publisher, fresh: true)
        forwarder.receive(try Self.notification(Self.exitEvent(seq: 1, execID: "e1")))
        #expect(publisher.topics == ["/tasks/exit"])
        #expect(forwarder.initExit == nil)
        #expect(!forwarder.initExitPublished(containerID: "c1", journalTail: JournalTail(events: publisher)))
        #expect(try await Self.waitForSeqFile(dir, "1 500") == "1 500")
    }

    /// berthd killed between the journal's commit of the exit and events.seq: the journal
    /// after the recorded daemon seq tells, for this container's init only.
    @Test func anUnrecordedExitIsFoundInTheJournalAfterTheRecord() throws {
        let dir = try Self.bundle(seq: "3 100")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        func exit(_ seq: UInt64, id: String, container: String = "c1", namespace: String = "default") throws -> Event {
            Event(seq: seq, timestamp: "t", namespace: namespace, topic: "/tasks/exit", payload: try AnyJSON(encoding: TaskExitEvent(
                containerID: container, id: id, pid: 10, exitStatus: 0, exitedAt: "2026-11-26T01:00:00.000000000Z")))
        }
        let forwarder = Self.forwarder(dir, fresh: false)
        let cases: [([Event], Bool)] = [
            ([], false),
            ([try exit(99, id: "c1")], false), // before the record: an earlier task's
            ([try exit(101, id: "e1")], false), // an exec's
            ([try exit(101, id: "c2", container: "c2")], false), // another container's
            ([try exit(101, id: "c1", namespace: "other")], false), // another namespace's
            ([try exit(101, id: "c1")], true),
        ]
        for (tail, expected) in cases {
            let journal = JournalTail(events: RecordingPublisher(tail: tail))
            #expect(forwarder.initExitPublished(containerID: "c1", journalTail: journal) == expected, "\(tail.map(\.seq))")
        }
        // With the container's /tasks/create in the tail, the exit is looked for after it:
        // an earlier task's exit is not this one's, and an exit recorded by a berthd that
        // wrote no third word (older events.seq) is found.
        func create(_ seq: UInt64) throws -> Event {
            Event(seq: seq, timestamp: "t", namespace: "default", topic: "/tasks/create",
                  payload: try AnyJSON(encoding: TaskCreateEvent(containerID: "c1", bundle: dir, pid: 10)))
        }
        let anchored: [([Event], Bool)] = [
            ([try create(90), try exit(95, id: "c1")], true),
            ([try exit(95, id: "c1"), try create(101)], false),
            ([try exit(95, id: "c1"), try create(101), try exit(102, id: "c1")], true),
            ([try create(101), try exit(102, id: "e1")], false),
        ]
        for (tail, expected) in anchored {
            let journal = JournalTail(events: RecordingPublisher(tail: tail))
            #expect(forwarder.initExitPublished(containerID: "c1", journalTail: journal) == expected, "\(tail.map(\.topic))")
        }
    }

    /// A shim that dies before its task's /tasks/create is out gets no /tasks/exit.
    @Test func aTaskIsCreatedOnceItsCreateIsOut() async throws {
        let dir = try Self.bundle(seq: nil)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        func journal(_ tail: [Event]) -> JournalTail { JournalTail(events: RecordingPublisher(tail: tail)) }
        let created = Event(seq: 101, timestamp: "t", namespace: "default", topic: "/tasks/create",
                            payload: try AnyJSON(encoding: TaskCreateEvent(containerID: "c1", bundle: dir, pid: 10)))
        let forwarder = Self.forwarder(dir, RecordingPublisher(tail: [], lastSeq: 100), fresh: true)
        // A fresh forwarder sees every event of its shim: the journal is not asked.
        #expect(!forwarder.taskCreated(containerID: "c1", journalTail: journal([created])))
        // Found again with nothing recorded ("0 100"): the journal after 100 tells.
        #expect(Self.forwarder(dir, fresh: false).taskCreated(containerID: "c1", journalTail: journal([created])))
        #expect(!Self.forwarder(dir, fresh: false).taskCreated(containerID: "c1", journalTail: journal([])))
        forwarder.receive(try Self.notification(ShimEvent(seq: 1, timestamp: "2026-11-26T01:00:00.000000000Z", topic: "/tasks/create",
                                                          payload: ShimEventPayload(containerID: "c1", pid: 10))))
        #expect(forwarder.taskCreated(containerID: "c1", journalTail: journal([])))
        #expect(try await Self.waitForSeqFile(dir, "1 500") == "1 500")
        #expect(Self.forwarder(dir, fresh: false).taskCreated(containerID: "c1", journalTail: journal([])),
                "a shim found again with a recorded event has had its create")
    }

    /// A fresh forwarder has seen every event of its shim: an exit in the journal's tail
    /// is an earlier task's (its create may not be committed yet), never this one's.
    @Test func aFreshForwarderDoesNotTakeAnEarlierTasksExitForItsOwn() throws {
        let dir = try Self.bundle(seq: nil)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let earlier = Event(seq: 101, timestamp: "t", namespace: "default", topic: "/tasks/exit", payload: try AnyJSON(encoding: TaskExitEvent(
            containerID: "c1", id: "c1", pid: 9, exitStatus: 0, exitedAt: "2026-11-26T01:00:00.000000000Z")))
        let forwarder = Self.forwarder(dir, RecordingPublisher(tail: [earlier], lastSeq: 100), fresh: true)
        #expect(!forwarder.initExitPublished(containerID: "c1", journalTail: JournalTail(events: RecordingPublisher(tail: [earlier]))))
    }
}

/// Publishes into a list (daemon seqs from 500) and serves a fixed journal tail.
final class RecordingPublisher: EventPublisher {
    let tail: [Event]
    let lastSeq: UInt64
    private let published = Mutex<[String]>([])
    init(tail: [Event], lastSeq: UInt64 = 0) {
        self.tail = tail
        self.lastSeq = lastSeq
    }
    var topics: [String] { published.withLock { $0 } }

    func publish<Payload: Encodable & Sendable>(namespace: String, topic: String, payload: Payload) -> UInt64? {
        published.withLock { list in
            list.append(topic)
            return UInt64(499 + list.count)
        }
    }

    func journalTail(_ count: Int) -> [Event] { tail }
}
