import BerthAPI
import BerthEvents
import BerthSystem
import Logging
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The journal's tail as it was when berthd started, read at most once and shared by
/// the shims it finds again.
final class JournalTail: Sendable {
    static let count = 4096
    private let events: any EventPublisher
    private let loaded = Mutex<[Event]?>(nil)

    init(events: any EventPublisher) {
        self.events = events
    }

    /// Reads the tail now, on a thread of the task pool, so that a shim's replay (on an
    /// I/O thread) finds it read.
    func preload() {
        Task.detached { [self] in _ = all }
    }

    var all: [Event] {
        loaded.withLock { cached in
            if let cached { return cached }
            let tail = events.journalTail(Self.count)
            cached = tail
            return tail
        }
    }
}

/// Forwards one shim's events into berthd's exchange as its connection reads them, on the
/// connection's I/O thread and in the shim's order (no hop to another thread: the exit
/// of a task reaches subscribers sooner).
///
/// Each shim event is published exactly once, across berthd crashes too. The shim
/// numbers its events; the bundle's `events.seq` holds the last one forwarded and the
/// daemon seq it got (`"<shim seq> <daemon seq>"`), written only once the journal holds
/// that event: so nothing is skipped after a crash. A crash between the journal and
/// `events.seq` leaves events the shim will replay although they were published: after a
/// restart, the replay is checked against the journal's events of this container after
/// the recorded daemon seq (in order, the same topic and payload), and those are
/// recorded, not published again. The journal's last `JournalTail.count` events, read
/// once per restart, are what a replay is checked against: a crash leaves at most the
/// events of the last moment unrecorded (each is recorded within a millisecond or so of
/// its commit), far fewer than that. Once the init's /tasks/exit is recorded, a third
/// word holds its daemon seq, so that a shim that dies later gets no second exit
/// (`initExitPublished`).
final class ShimEventForwarder: Sendable {
    static let seqFile = "events.seq"

    let namespace: String
    let bundle: String
    let events: any EventPublisher
    private let logger: Logger

    private struct State {
        /// The last shim seq published into the exchange.
        var forwarded: UInt64
        /// The last shim seq written to events.seq, and the daemon seq it was published as.
        var recorded: UInt64
        var recordedDaemonSeq: UInt64
        /// The bundle is being removed: nothing is written into it any more.
        var closed = false
        /// After a restart: this container's events journaled after `recordedDaemonSeq`,
        /// which the shim's replay may repeat (taken from the tail at the first replayed
        /// event; empty once the replay is over).
        var alreadyJournaled: [Event]?
        var journalTail: JournalTail?
        /// The init's exit as this forwarder published it (or found it journaled).
        var initExit: ExitRecord?
        /// The daemon seq of the init's /tasks/exit (0: not published; from events.seq's
        /// third word for a shim found again).
        var initExitDaemonSeq: UInt64 = 0
        /// The task's /tasks/create is known to be in the stream.
        var taskCreated = false
        /// A shim this berthd started: the forwarder has seen its every event.
        var fresh = false
    }

    private let state: Mutex<State>

    /// - Parameters:
    ///   - fresh: a shim just started (its events count from 1; events.seq is reset to
    ///     `"0 <journal head>"`, whatever an earlier task of the container left), or one
    ///     found again after a restart (resume after its events.seq).
    ///   - journalTail: for a shim found again, the journal's tail to check its replay
    ///     against.
    init(namespace: String, bundle: String, events: any EventPublisher, logger: Logger, fresh: Bool,
         journalTail: JournalTail? = nil) {
        self.namespace = namespace
        self.bundle = bundle
        self.events = events
        self.logger = logger
        let (last, daemonSeq, exitSeq): (UInt64, UInt64, UInt64)
        if fresh {
            // Nothing of this shim is in the journal before its current head: a restart
            // before the first record checks the replay from there.
            (last, daemonSeq, exitSeq) = (0, events.lastSeq, 0)
            try? FileSystem.writeAtomically(bundle + "/" + Self.seqFile, Array("0 \(daemonSeq)".utf8), mode: 0o600)
        } else {
            (last, daemonSeq, exitSeq) = Self.recorded(bundle)
        }
        let checks = !fresh && daemonSeq > 0 && journalTail != nil
        var initial = State(forwarded: last, recorded: last, recordedDaemonSeq: daemonSeq,
                            alreadyJournaled: checks ? nil : [], journalTail: checks ? journalTail : nil)
        initial.fresh = fresh
        // A shim's first event is its /tasks/create: anything recorded means it is out.
        initial.taskCreated = last > 0
        initial.initExitDaemonSeq = exitSeq
        state = Mutex(initial)
    }

    /// The shim has replayed what berthd missed (its subscribe call has answered): the
    /// events that follow are new, and the journal's tail is no longer needed.
    func replayDone() {
        state.withLock { s in
            s.alreadyJournaled = []
            s.journalTail = nil
        }
    }

    /// Stops all writes into the bundle (berthd is removing it); waits for one under way.
    func close() {
        state.withLock { $0.closed = true }
    }

    /// The shim seq to resume after.
    var lastForwarded: UInt64 { state.withLock { $0.forwarded } }

    /// The init's exit, when this forwarder published it (or found it journaled): what a
    /// shim that dies before writing exit.json (it sends the event first) had recorded.
    var initExit: ExitRecord? { state.withLock { $0.initExit } }

    /// Whether the stream has this task's /tasks/create (a shim that died before it gets
    /// no /tasks/exit either): forwarded, or for a shim found again with nothing
    /// recorded, in the journal's tail after the recorded daemon seq.
    func taskCreated(containerID: String, journalTail: JournalTail) -> Bool {
        let (created, fresh, after) = state.withLock { ($0.taskCreated, $0.fresh, $0.recordedDaemonSeq) }
        if created || fresh { return created } // a fresh forwarder has seen every event
        return journalTail.all.contains {
            guard $0.seq > after, $0.namespace == namespace, $0.topic == EventTopics.tasksCreate.name,
                  case let .object(fields) = $0.payload else { return false }
            return fields["containerID"] == .string(containerID)
        }
    }

    /// Whether the daemon's stream already has this task's /tasks/exit: published by this
    /// forwarder, recorded in events.seq by an earlier berthd, or in the journal's tail
    /// (a berthd killed between the journal and events.seq, or one that never recorded
    /// it: the exit after the container's last /tasks/create there, or when that create
    /// is older than the tail, after the last recorded event).
    func initExitPublished(containerID: String, journalTail: JournalTail) -> Bool {
        let (published, fresh, recorded) = state.withLock { ($0.initExitDaemonSeq > 0, $0.fresh, $0.recordedDaemonSeq) }
        if published || fresh { return published } // a fresh forwarder has seen every event
        let mine = journalTail.all.filter {
            guard $0.namespace == namespace, $0.topic == EventTopics.tasksCreate.name || $0.topic == EventTopics.tasksExit.name,
                  case let .object(fields) = $0.payload, fields["containerID"] == .string(containerID) else { return false }
            return $0.topic == EventTopics.tasksCreate.name || fields["id"] == .string(containerID)
        }
        let after = mine.last { $0.topic == EventTopics.tasksCreate.name }?.seq ?? recorded
        return mine.contains { $0.seq > after && $0.topic == EventTopics.tasksExit.name }
    }

    /// events.seq's words: the shim seq, its daemon seq, and the daemon seq of the init's
    /// /tasks/exit once that is recorded (0 for a word that is not there).
    static func recorded(_ bundle: String) -> (shimSeq: UInt64, daemonSeq: UInt64, initExitDaemonSeq: UInt64) {
        guard let bytes = try? FileSystem.readFile(bundle + "/" + seqFile, limit: 64) else { return (0, 0, 0) }
        let words = String(decoding: bytes, as: UTF8.self).split(separator: " ").map { UInt64($0) ?? 0 }
        return (words.first ?? 0, words.count > 1 ? words[1] : 0, words.count > 2 ? words[2] : 0)
    }

    /// Handles one notification from the shim (called by the connection, in order).
    func receive(_ notification: BerthClient.Notification) {
        guard notification.method == "events.event" else { return }
        guard let event = try? notification.quickParams(ShimEvent.self) else {
            logger.warning("undecodable shim event", metadata: ["bundle": "\(bundle)"])
            return
        }
        guard let (topic, payload) = outgoing(event) else {
            logger.notice("unknown shim event", metadata: ["topic": "\(event.topic)"])
            return
        }
        enum Outcome { case skip, duplicate(UInt64), published(UInt64) }
        let outcome = state.withLock { s -> Outcome in
            guard event.seq > s.forwarded else { return .skip } // already forwarded (replay)
            if let duplicate = journaledBefore(topic, payload, containerID: event.payload.containerID, &s) {
                s.forwarded = event.seq
                noteTaskEvent(event, daemonSeq: duplicate, &s)
                return .duplicate(duplicate)
            }
            // Not published (the exchange is closing): not recorded either, so a
            // restarted berthd gets it again from the shim.
            guard let daemonSeq = events.publish(namespace: namespace, topic: topic, payload: payload) else { return .skip }
            s.forwarded = event.seq
            noteTaskEvent(event, daemonSeq: daemonSeq, &s)
            return .published(daemonSeq)
        }
        switch outcome {
        case .skip:
            return
        case let .duplicate(daemonSeq):
            record(event.seq, daemonSeq)
        case let .published(daemonSeq):
            // A batch the journal refused is not recorded: the shim's replay brings it
            // back after a restart.
            events.whenCommitted(through: daemonSeq) { [self] committed in
                if committed { record(event.seq, daemonSeq) }
            }
        }
    }

    private func noteTaskEvent(_ event: ShimEvent, daemonSeq: UInt64, _ s: inout State) {
        if event.topic == "/tasks/create" { s.taskCreated = true }
        guard event.topic == "/tasks/exit", event.payload.execID == nil else { return }
        let p = event.payload
        s.initExit = ExitRecord(pid: Int32(clamping: p.pid ?? 0), exitStatus: Int32(clamping: p.exitStatus ?? 255),
                                exitedAt: p.exitedAt ?? event.timestamp)
        s.initExitDaemonSeq = daemonSeq
    }

    /// The daemon seq under which the journal already holds this event, when it is the
    /// next of this container's events journaled after the recorded one.
    private func journaledBefore(_ topic: String, _ payload: any Encodable & Sendable, containerID: String, _ s: inout State) -> UInt64? {
        if s.alreadyJournaled == nil {
            let after = s.recordedDaemonSeq
            s.alreadyJournaled = (s.journalTail?.all ?? []).filter {
                guard $0.seq > after, $0.namespace == namespace, $0.topic.hasPrefix("/tasks/"),
                      case let .object(fields) = $0.payload else { return false }
                return fields["containerID"] == .string(containerID)
            }
        }
        guard let next = s.alreadyJournaled?.first else { return nil }
        guard next.topic == topic, let value = try? AnyJSON(encoding: payload), value == next.payload else {
            s.alreadyJournaled = [] // the replay has gone past what was journaled
            return nil
        }
        s.alreadyJournaled?.removeFirst()
        s.journalTail = nil
        return next.seq
    }

    private func record(_ shimSeq: UInt64, _ daemonSeq: UInt64) {
        state.withLock { s in
            guard shimSeq > s.recorded, !s.closed else { return }
            s.recorded = shimSeq
            s.recordedDaemonSeq = daemonSeq
            var line = "\(shimSeq) \(daemonSeq)"
            if s.initExitDaemonSeq > 0, s.initExitDaemonSeq <= daemonSeq {
                line += " \(s.initExitDaemonSeq)"
            }
            try? FileSystem.writeAtomically(bundle + "/" + Self.seqFile, Array(line.utf8), mode: 0o600)
        }
    }

    /// The daemon's /tasks/* topic and payload for one shim event (nil: unknown topic).
    private func outgoing(_ event: ShimEvent) -> (String, any Encodable & Sendable)? {
        let p = event.payload
        let pid = UInt32(clamping: p.pid ?? 0)
        switch event.topic {
        case "/tasks/create":
            return (EventTopics.tasksCreate.name, TaskCreateEvent(containerID: p.containerID, bundle: bundle, pid: pid))
        case "/tasks/start":
            return (EventTopics.tasksStart.name, TaskStartEvent(containerID: p.containerID, pid: pid))
        case "/tasks/exit":
            return (EventTopics.tasksExit.name, TaskExitEvent(
                containerID: p.containerID, id: p.execID ?? p.containerID, pid: pid,
                exitStatus: UInt32(clamping: p.exitStatus ?? 255), exitedAt: p.exitedAt ?? event.timestamp))
        case "/tasks/delete":
            return (EventTopics.tasksDelete.name, TaskDeleteEvent(
                containerID: p.containerID, id: p.execID ?? p.containerID, pid: pid,
                exitStatus: UInt32(clamping: p.exitStatus ?? 255), exitedAt: p.exitedAt ?? event.timestamp))
        case "/tasks/exec-added":
            return (EventTopics.tasksExecAdded.name, TaskExecAddedEvent(containerID: p.containerID, execID: p.execID ?? ""))
        case "/tasks/exec-started":
            return (EventTopics.tasksExecStarted.name, TaskExecStartedEvent(containerID: p.containerID, execID: p.execID ?? "", pid: pid))
        case "/tasks/paused":
            return (EventTopics.tasksPaused.name, TaskPausedEvent(containerID: p.containerID))
        case "/tasks/resumed":
            return (EventTopics.tasksResumed.name, TaskResumedEvent(containerID: p.containerID))
        case "/tasks/oom":
            return (EventTopics.tasksOOM.name, TaskOOMEvent(containerID: p.containerID))
        default:
            return nil
        }
    }
}
