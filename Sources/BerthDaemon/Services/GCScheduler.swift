import BerthAPI
import BerthEvents
import BerthImages
import Logging
import NIOPosix
import Synchronization

/// Runs garbage collection one at a time: `system.gc` and the collections that follow
/// image deletes and imports. A collection asked for while one is queued is folded into
/// it. Removals are published as `/content/delete` and `/snapshot/remove`.
final class GCScheduler: Sendable {
    private let collector: GarbageCollector
    private let events: any EventPublisher
    private let logger: Logger
    private let running = Mutex(())
    private let queued = Atomic<Bool>(false)

    init(collector: GarbageCollector, events: any EventPublisher, logger: Logger) {
        self.collector = collector
        self.events = events
        self.logger = logger
    }

    func collect(dryRun: Bool) async throws -> GCResponse {
        try await NIOThreadPool.singleton.runIfActive { [self] in
            try running.withLock { _ in try collectNow(dryRun: dryRun) }
        }
    }

    /// Collects in the background soon; several calls before it starts make one run.
    func schedule() {
        guard !queued.exchange(true, ordering: .acquiringAndReleasing) else { return }
        Task { [self] in
            do {
                _ = try await NIOThreadPool.singleton.runIfActive { [self] in
                    try running.withLock { _ in
                        queued.store(false, ordering: .releasing)
                        return try collectNow(dryRun: false)
                    }
                }
            } catch {
                logger.warning("garbage collection failed", metadata: ["error": "\(error)"])
            }
        }
    }

    private func collectNow(dryRun: Bool) throws -> GCResponse {
        let result = try collector.collect(dryRun: dryRun)
        guard !dryRun else { return result }
        for r in result.removed {
            if r.type == "content" {
                events.publish(EventTopics.contentDelete, namespace: r.namespace, ContentDeleteEvent(digest: r.id))
            } else if r.type.hasPrefix("snapshots/") {
                events.publish(EventTopics.snapshotRemove, namespace: r.namespace,
                               SnapshotRemoveEvent(key: r.id, snapshotter: String(r.type.dropFirst("snapshots/".count))))
            }
        }
        if !result.removed.isEmpty || !result.orphanBlobs.isEmpty {
            logger.info("garbage collected", metadata: ["removed": "\(result.removed.count)", "orphanBlobs": "\(result.orphanBlobs.count)"])
        }
        return result
    }
}
