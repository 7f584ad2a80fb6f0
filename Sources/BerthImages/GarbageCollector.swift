import BerthAPI
import BerthContent
import BerthDigest
import BerthMetadata
import BerthSnapshots
import BerthSystem

/// Label-driven garbage collection, as containerd's: mark everything reachable from the
/// roots, then remove the rest (tricolor mark and sweep, one namespace at a time).
///
/// Roots: images (→ their target), containers (→ their snapshot), leases that have not
/// expired (→ their resources), and objects labelled `containerd.io/gc.root`.
/// References: `containerd.io/gc.ref.content.*` labels on content and snapshots name
/// blobs, `containerd.io/gc.ref.snapshot.<snapshotter>` labels name snapshots, and a
/// snapshot keeps its parent.
///
/// One rule differs from containerd: active and view snapshots are roots unless they
/// are unpack leftovers (`extract-…`). Berth's `snapshots.prepare` hands them out
/// without a lease and they are file systems someone may be writing to; committed
/// snapshots and content are collected when nothing refers to them.
public struct GarbageCollector: Sendable {
    let database: Database
    let images: ImageStore
    let containers: ContainerStore
    let content: ContentStore
    let leases: LeaseStore
    let snapshotters: @Sendable () -> [any Snapshotter]

    public init(database: Database, images: ImageStore, content: ContentStore, leases: LeaseStore,
                snapshotters: @escaping @Sendable () -> [any Snapshotter]) {
        self.database = database
        self.images = images
        self.containers = ContainerStore(database)
        self.content = content
        self.leases = leases
        self.snapshotters = snapshotters
    }

    /// A node of the graph: `content` + digest, or `snapshots/<snapshotter>` + key.
    struct Node: Hashable {
        var type: String
        var id: String
        var label: String { type == "content" ? "content \(id)" : "snapshot \(type.dropFirst("snapshots/".count))/\(id)" }
    }

    /// Seconds after its last write an unleased ingest is removed.
    public static let ingestExpiry = 86400

    public func collect(dryRun: Bool) throws -> GCResponse {
        var removed: [GCResource] = []
        var kept: [GCKept] = []
        let all = snapshotters()
        for namespace in try NamespaceStore(database).list().map(\.name) {
            let result = try collect(namespace: namespace, snapshotters: all, dryRun: dryRun)
            removed += result.removed
            kept += result.kept
        }
        // Blob files no namespace has a row for; a lease of any namespace may still be
        // protecting one whose commit is in flight.
        let rows = Set(try content.allRows().map(\.info.digest))
        let leased = Set(try leases.allProtectedResources().values.flatMap { $0 }.filter { $0.type == "content" }.map(\.id))
        let orphans = try content.blobsOnDisk().filter { !rows.contains($0.string) && !leased.contains($0.string) }
        if !dryRun {
            for digest in orphans { try content.removeBlobIfUnreferenced(digest) }
            // Ingests nobody wrote to for a day (an interrupted import or push), unless a
            // lease names them (`ingests`, `namespace/ref`). A day is containerd's default.
            var keeping: Set<String> = []
            for (namespace, resources) in try leases.allProtectedResources() {
                for r in resources where r.type == "ingests" { keeping.insert(namespace + "/" + r.id) }
            }
            for stale in try content.cleanupIngests(olderThan: Self.ingestExpiry, keeping: keeping) {
                removed.append(GCResource(namespace: stale.namespace, type: "ingests", id: stale.ref))
            }
        }
        return GCResponse(removed: removed, kept: dryRun ? kept : nil, orphanBlobs: orphans.map(\.string), dryRun: dryRun)
    }

    private func collect(namespace: String, snapshotters: [any Snapshotter], dryRun: Bool) throws -> (removed: [GCResource], kept: [GCKept]) {
        // Everything that exists, with what it refers to.
        var edges: [Node: [Node]] = [:]
        var roots: [(Node, String)] = []
        // Weaker reasons last, so a dry run names the most telling root of each object.
        var activeRoots: [(Node, String)] = []
        var snapshotInfo: [Node: (snapshotter: any Snapshotter, info: SnapshotInfo)] = [:]

        for info in try content.list(namespace: namespace, filters: []) {
            let node = Node(type: "content", id: info.digest)
            edges[node] = Self.references(info.labels)
            if info.labels[GCLabels.root] != nil { roots.append((node, "label \(GCLabels.root)")) }
        }
        for s in snapshotters {
            let type = "snapshots/" + s.name
            for info in try s.list(namespace: namespace, filters: []) {
                let node = Node(type: type, id: info.name)
                snapshotInfo[node] = (s, info)
                var refs = Self.references(info.labels)
                if let parent = info.parent { refs.append(Node(type: type, id: parent)) }
                edges[node] = refs
                if info.labels[GCLabels.root] != nil { roots.append((node, "label \(GCLabels.root)")) }
                if info.kind != .committed, !info.name.hasPrefix("extract-") { activeRoots.append((node, "\(info.kind.rawValue) snapshot")) }
            }
        }
        for (_, image) in try images.list(namespace: namespace) {
            roots.append((Node(type: "content", id: image.target.digest), "image \(image.name)"))
        }
        for container in try containers.list(namespace: namespace) {
            if let key = container.snapshotKey {
                roots.append((Node(type: "snapshots/" + (container.snapshotter ?? Snapshots.defaultSnapshotter), id: key), "container \(container.id)"))
            }
        }
        let protected = try leases.protectedResources(namespace: namespace)
        for lease in try leases.list(namespace: namespace) {
            for resource in lease.resources ?? [] where protected.contains(resource) {
                guard resource.type == "content" || resource.type.hasPrefix("snapshots/") else { continue }
                roots.append((Node(type: resource.type, id: resource.id), "lease \(lease.id)"))
            }
        }

        roots += activeRoots

        // Mark, remembering how each node was reached.
        var path: [Node: [String]] = [:]
        var queue: [Node] = []
        for (node, why) in roots where path[node] == nil {
            path[node] = [why]
            queue.append(node)
        }
        var head = 0
        while head < queue.count {
            let node = queue[head]
            head += 1
            for next in edges[node] ?? [] where path[next] == nil {
                path[next] = path[node]! + [node.label]
                queue.append(next)
            }
        }

        // Sweep: content rows, then snapshots children first.
        var removed: [GCResource] = []
        var kept: [GCKept] = []
        for node in edges.keys.sorted(by: { ($0.type, $0.id) < ($1.type, $1.id) }) {
            let resource = GCResource(namespace: namespace, type: node.type, id: node.id)
            if let why = path[node] {
                kept.append(GCKept(resource: resource, path: why + [node.label]))
            } else {
                removed.append(resource)
            }
        }
        guard !dryRun else { return (removed, kept) }
        for r in removed where r.type == "content" {
            _ = try content.delete(namespace: namespace, digest: try Self.digest(r.id))
        }
        let doomed = removed.filter { $0.type != "content" }.map { Node(type: $0.type, id: $0.id) }
        func depth(_ n: Node) -> Int {
            var d = 0
            var current = snapshotInfo[n]?.info.parent
            while let p = current, d < 10_000 {
                d += 1
                current = snapshotInfo[Node(type: n.type, id: p)]?.info.parent
            }
            return d
        }
        for node in doomed.sorted(by: { depth($0) > depth($1) }) {
            guard let s = snapshotInfo[node]?.snapshotter else { continue }
            try s.remove(namespace: namespace, key: node.id)
        }
        return (removed, kept)
    }

    static func references(_ labels: [String: String]) -> [Node] {
        var out: [Node] = []
        for (key, value) in labels.sorted(by: { $0.key < $1.key }) {
            if key.hasPrefix(GCLabels.contentRefPrefix), Digest.isValid(value) {
                out.append(Node(type: "content", id: value))
            } else if key.hasPrefix(GCLabels.snapshotRefPrefix) {
                // containerd.io/gc.ref.snapshot.<snapshotter>[/<anything>]
                let snapshotter = key.dropFirst(GCLabels.snapshotRefPrefix.count).split(separator: "/").first.map(String.init) ?? ""
                if !snapshotter.isEmpty { out.append(Node(type: "snapshots/" + snapshotter, id: value)) }
            }
        }
        return out
    }

    static func digest(_ s: String) throws -> Digest {
        try ContentAccess.digest(s)
    }
}
