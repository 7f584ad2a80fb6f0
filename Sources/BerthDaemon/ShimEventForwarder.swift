import BerthAPI
import BerthEvents
import BerthShim
import BerthSystem
import Logging
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Forwards one shim's events into berthd's exchange as its connection reads them, on the
/// connection's I/O thread and in the shim's order (no hop to another thread: the exit
/// of a task reaches subscribers sooner). The shim numbers its events; the last one
/// forwarded is recorded in the bundle's `events.seq`, written only once the exchange
/// has journaled the event, so a berthd killed in between forwards it again after its
/// restart rather than never, and a replayed event already forwarded is skipped.
final class ShimEventForwarder: Sendable {
    static let seqFile = "events.seq"

    let namespace: String
    let bundle: String
    let events: any EventPublisher
    private let logger: Logger

    private struct State {
        /// The last shim seq published into the exchange.
        var forwarded: UInt64
        /// The last shim seq written to events.seq.
        var recorded: UInt64
        /// The bundle is being removed: nothing is written into it any more.
        var closed = false
    }

    private let state: Mutex<State>

    /// - Parameter fresh: a shim just started (its events count from 1; an events.seq an
    ///   earlier task of the container left is removed), or one found again after a
    ///   restart (resume after its events.seq).
    init(namespace: String, bundle: String, events: any EventPublisher, logger: Logger, fresh: Bool) {
        self.namespace = namespace
        self.bundle = bundle
        self.events = events
        self.logger = logger
        if fresh { unlink(bundle + "/" + Self.seqFile) }
        let last = fresh ? 0 : Self.lastForwarded(bundle)
        state = Mutex(State(forwarded: last, recorded: last))
    }

    /// Stops all writes into the bundle (berthd is removing it); waits for one under way.
    func close() {
        state.withLock { $0.closed = true }
    }

    /// The shim seq to resume after.
    var lastForwarded: UInt64 { state.withLock { $0.forwarded } }

    /// The seq of the last shim event berthd published for a bundle (0: none).
    static func lastForwarded(_ bundle: String) -> UInt64 {
        guard let bytes = try? FileSystem.readFile(bundle + "/" + seqFile, limit: 64) else { return 0 }
        return UInt64(String(decoding: bytes, as: UTF8.self)) ?? 0
    }

    /// Handles one notification from the shim (called by the connection, in order).
    func receive(_ notification: BerthClient.Notification) {
        guard notification.method == "events.event" else { return }
        guard let event = try? notification.decodeParams(ShimEvent.self) else {
            logger.warning("undecodable shim event", metadata: ["bundle": "\(bundle)"])
            return
        }
        let published = state.withLock { s -> UInt64?? in
            guard event.seq > s.forwarded else { return .none } // already forwarded (replay)
            s.forwarded = event.seq
            return .some(forward(event))
        }
        // Not published (the exchange is closing, or the event is unknown): not recorded
        // either, so a restarted berthd gets it again from the shim.
        guard case let .some(.some(daemonSeq)) = published else { return }
        Task {
            await events.committed(through: daemonSeq)
            record(event.seq)
        }
    }

    private func record(_ shimSeq: UInt64) {
        state.withLock { s in
            guard shimSeq > s.recorded, !s.closed else { return }
            s.recorded = shimSeq
            try? FileSystem.writeAtomically(bundle + "/" + Self.seqFile, Array("\(shimSeq)".utf8), mode: 0o600)
        }
    }

    /// Publishes one shim event as the daemon's /tasks/* event; its daemon seq.
    private func forward(_ event: ShimEvent) -> UInt64? {
        let p = event.payload
        let pid = UInt32(clamping: p.pid ?? 0)
        switch event.topic {
        case "/tasks/create":
            return events.publish(EventTopics.tasksCreate, namespace: namespace, TaskCreateEvent(containerID: p.containerID, bundle: bundle, pid: pid))
        case "/tasks/start":
            return events.publish(EventTopics.tasksStart, namespace: namespace, TaskStartEvent(containerID: p.containerID, pid: pid))
        case "/tasks/exit":
            return events.publish(EventTopics.tasksExit, namespace: namespace, TaskExitEvent(
                containerID: p.containerID, id: p.execID ?? p.containerID, pid: pid,
                exitStatus: UInt32(clamping: p.exitStatus ?? 255), exitedAt: p.exitedAt ?? event.timestamp))
        case "/tasks/delete":
            return events.publish(EventTopics.tasksDelete, namespace: namespace, TaskDeleteEvent(
                containerID: p.containerID, id: p.execID ?? p.containerID, pid: pid,
                exitStatus: UInt32(clamping: p.exitStatus ?? 255), exitedAt: p.exitedAt ?? event.timestamp))
        case "/tasks/exec-added":
            return events.publish(EventTopics.tasksExecAdded, namespace: namespace, TaskExecAddedEvent(containerID: p.containerID, execID: p.execID ?? ""))
        case "/tasks/exec-started":
            return events.publish(EventTopics.tasksExecStarted, namespace: namespace, TaskExecStartedEvent(containerID: p.containerID, execID: p.execID ?? "", pid: pid))
        case "/tasks/paused":
            return events.publish(EventTopics.tasksPaused, namespace: namespace, TaskPausedEvent(containerID: p.containerID))
        case "/tasks/resumed":
            return events.publish(EventTopics.tasksResumed, namespace: namespace, TaskResumedEvent(containerID: p.containerID))
        case "/tasks/oom":
            return events.publish(EventTopics.tasksOOM, namespace: namespace, TaskOOMEvent(containerID: p.containerID))
        default:
            logger.notice("unknown shim event", metadata: ["topic": "\(event.topic)"])
            return nil
        }
    }
}
