import BerthAPI
import BerthContent
import BerthEvents
import BerthRPC
import NIOPosix

/// `content.*`: what a namespace holds in the content store, its labels, and deleting
/// it (containerd's content service without `Read`/`Write`: blob bytes never travel in
/// frames; the daemon reads and writes them itself, for the image service).
///
/// Every call runs on the blocking thread pool: a delete unlinks and fsyncs, a list
/// reads every row. Digests are parsed here, so a malformed one is `InvalidArgument`
/// before the store is touched.
struct ContentService: Sendable {
    let store: ContentStore
    let events: any EventPublisher

    func register(_ router: inout Router) {
        router.register(API.contentList) { p, _ in
            try await run { ListContentResponse(infos: try store.list(namespace: p.namespace ?? "default", filters: p.filters ?? [])) }
        }
        router.register(API.contentInfo) { p, _ in
            try await run {
                ContentInfoResponse(info: try store.info(namespace: p.namespace ?? "default", digest: try ContentStore.parseDigest(p.digest)))
            }
        }
        router.register(API.contentUpdate) { p, _ in
            try await run {
                ContentInfoResponse(info: try store.update(namespace: p.namespace ?? "default", info: p.info, fieldPaths: p.updateMask ?? []))
            }
        }
        router.register(API.contentDelete) { p, _ in
            try await run {
                let namespace = p.namespace ?? "default"
                let digest = try ContentStore.parseDigest(p.digest)
                try store.delete(namespace: namespace, digest: digest)
                events.publish(EventTopics.contentDelete, namespace: namespace, ContentDeleteEvent(digest: digest.string))
                return Empty()
            }
        }
    }

    /// Runs blocking work off the cooperative pool.
    private func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await NIOThreadPool.singleton.runIfActive(body)
    }
}
