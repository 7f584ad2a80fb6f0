import BerthAPI
import BerthContent
import BerthRPC
import Synchronization

/// `leases.*` over the lease store (containerd's leases service). Leases are rows in
/// the metadata store only, so the calls run inline, as `namespaces.*` do; none
/// publishes an event (containerd has no lease events).
struct LeasesService: Sendable {
    let store: LeaseStore
    let collector: GarbageCollection

    func register(_ router: inout Router) {
        router.register(API.leasesCreate) { p, _ in
            LeaseResponse(lease: try store.create(namespace: p.namespace ?? "default", id: p.id, labels: p.labels ?? [:]))
        }
        router.register(API.leasesList) { p, _ in
            ListLeasesResponse(leases: try store.list(namespace: p.namespace ?? "default", filters: p.filters ?? []))
        }
        router.register(API.leasesDelete) { p, _ in
            try store.delete(namespace: p.namespace ?? "default", id: p.id)
            // containerd's `sync`: what the lease protected is collected before answering.
            if p.sync == true { try await collector.collect() }
            return Empty()
        }
        router.register(API.leasesAddResource) { p, _ in
            try store.addResource(namespace: p.namespace ?? "default", id: p.id, resource: p.resource)
            return Empty()
        }
        router.register(API.leasesDeleteResource) { p, _ in
            try store.deleteResource(namespace: p.namespace ?? "default", id: p.id, resource: p.resource)
            return Empty()
        }
    }
}

/// Where the garbage collector plugs in: `leases.delete` with `sync` (and, later,
/// `system.gc`) run whatever collection is installed here and wait for it.
///
/// The collector lives in BerthImages (it walks images, content, snapshots and leases);
/// its plugin calls `install` at load. Until one is installed, `collect()` does
/// nothing: `sync` then only means the lease is gone when the call returns.
public final class GarbageCollection: Sendable {
    public typealias Collector = @Sendable () async throws -> Void
    private let collector = Mutex<Collector?>(nil)

    public init() {}

    /// Sets the function that runs one collection (replacing any earlier one).
    public func install(_ body: @escaping Collector) {
        collector.withLock { $0 = body }
    }

    /// Runs one collection, if a collector is installed.
    public func collect() async throws {
        if let body = collector.withLock({ $0 }) { try await body() }
    }
}
