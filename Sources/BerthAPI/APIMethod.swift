#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A method of the API: its wire name and the types of its params and result.
///
/// The daemon registers handlers by these values and the client calls through them, so
/// a method's name and types are written once. `API.all` lists every method the daemon
/// serves; the proto-docs test checks each against `proto-docs/`.
public struct APIMethod<Params: Codable & Sendable, Result: Codable & Sendable>: Sendable, AnyAPIMethod {
    public let name: String

    public init(_ name: String) {
        self.name = name
    }

    public func roundTripParams(_ json: [UInt8]) throws -> [UInt8] {
        try WireJSON.encode(WireJSON.decode(Params.self, from: json))
    }

    public func roundTripResult(_ json: [UInt8]) throws -> [UInt8] {
        try WireJSON.encode(WireJSON.decode(Result.self, from: json))
    }
}

/// A method with its types erased, for tables of methods.
public protocol AnyAPIMethod: Sendable {
    var name: String { get }
    /// Decodes `json` as the params type and encodes it again (to check documentation).
    func roundTripParams(_ json: [UInt8]) throws -> [UInt8]
    /// Decodes `json` as the result type and encodes it again.
    func roundTripResult(_ json: [UInt8]) throws -> [UInt8]
}

/// No params, or no result: `{}` on the wire.
public struct Empty: Codable, Sendable, Equatable {
    public init() {}

    /// Requires an object (`{}`, extra fields ignored): `5` or `[]` are wrong params.
    public init(from decoder: any Decoder) throws {
        _ = try decoder.container(keyedBy: AnyCodingKey.self)
    }

    public func encode(to encoder: any Encoder) throws {
        _ = encoder.container(keyedBy: AnyCodingKey.self)
    }
}

struct AnyCodingKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

/// Every method of the daemon's API socket.
public enum API {
    /// The API version `system.version` reports; raised on incompatible changes.
    public static let version = 1

    public static let systemVersion = APIMethod<Empty, VersionInfo>("system.version")
    public static let systemInfo = APIMethod<Empty, SystemInfo>("system.info")
    public static let systemGC = APIMethod<GCRequest, GCResponse>("system.gc")

    public static let namespacesCreate = APIMethod<CreateNamespaceRequest, NamespaceResponse>("namespaces.create")
    public static let namespacesGet = APIMethod<NamespaceNameRequest, NamespaceResponse>("namespaces.get")
    public static let namespacesList = APIMethod<Empty, ListNamespacesResponse>("namespaces.list")
    public static let namespacesUpdate = APIMethod<UpdateNamespaceRequest, NamespaceResponse>("namespaces.update")
    public static let namespacesDelete = APIMethod<NamespaceNameRequest, Empty>("namespaces.delete")

    public static let snapshotsPrepare = APIMethod<PrepareSnapshotRequest, SnapshotMountsResponse>("snapshots.prepare")
    public static let snapshotsView = APIMethod<PrepareSnapshotRequest, SnapshotMountsResponse>("snapshots.view")
    public static let snapshotsCommit = APIMethod<CommitSnapshotRequest, Empty>("snapshots.commit")
    public static let snapshotsRemove = APIMethod<SnapshotKeyRequest, Empty>("snapshots.remove")
    public static let snapshotsStat = APIMethod<SnapshotKeyRequest, SnapshotInfoResponse>("snapshots.stat")
    public static let snapshotsUpdate = APIMethod<UpdateSnapshotRequest, SnapshotInfoResponse>("snapshots.update")
    public static let snapshotsList = APIMethod<ListSnapshotsRequest, ListSnapshotsResponse>("snapshots.list")
    public static let snapshotsMounts = APIMethod<SnapshotKeyRequest, SnapshotMountsResponse>("snapshots.mounts")
    public static let snapshotsUsage = APIMethod<SnapshotKeyRequest, SnapshotUsage>("snapshots.usage")
    public static let snapshotsCleanup = APIMethod<CleanupSnapshotsRequest, CleanupSnapshotsResponse>("snapshots.cleanup")

    public static let contentList = APIMethod<ListContentRequest, ListContentResponse>("content.list")
    public static let contentInfo = APIMethod<ContentDigestRequest, ContentInfoResponse>("content.info")
    public static let contentUpdate = APIMethod<UpdateContentRequest, ContentInfoResponse>("content.update")
    public static let contentDelete = APIMethod<ContentDigestRequest, Empty>("content.delete")

    public static let leasesCreate = APIMethod<CreateLeaseRequest, LeaseResponse>("leases.create")
    public static let leasesList = APIMethod<ListLeasesRequest, ListLeasesResponse>("leases.list")
    public static let leasesDelete = APIMethod<DeleteLeaseRequest, Empty>("leases.delete")
    public static let leasesAddResource = APIMethod<LeaseResourceRequest, Empty>("leases.addResource")
    public static let leasesDeleteResource = APIMethod<LeaseResourceRequest, Empty>("leases.deleteResource")

    public static let containersCreate = APIMethod<CreateContainerRequest, ContainerResponse>("containers.create")
    public static let containersGet = APIMethod<ContainerRequest, ContainerResponse>("containers.get")
    public static let containersList = APIMethod<NamespaceRequest, ListContainersResponse>("containers.list")
    public static let containersUpdate = APIMethod<UpdateContainerRequest, ContainerResponse>("containers.update")
    public static let containersDelete = APIMethod<ContainerRequest, Empty>("containers.delete")

    public static let tasksCreate = APIMethod<CreateTaskRequest, TaskPidResponse>("tasks.create")
    public static let tasksStart = APIMethod<TaskRequest, TaskPidResponse>("tasks.start")
    public static let tasksGet = APIMethod<TaskRequest, TaskResponse>("tasks.get")
    public static let tasksList = APIMethod<NamespaceRequest, ListTasksResponse>("tasks.list")
    public static let tasksKill = APIMethod<KillTaskRequest, Empty>("tasks.kill")
    public static let tasksDelete = APIMethod<TaskRequest, TaskExitResponse>("tasks.delete")
    public static let tasksWait = APIMethod<TaskRequest, TaskExitResponse>("tasks.wait")
    public static let tasksPids = APIMethod<TaskRequest, TaskPidsResponse>("tasks.pids")
    public static let tasksPause = APIMethod<TaskRequest, Empty>("tasks.pause")
    public static let tasksResume = APIMethod<TaskRequest, Empty>("tasks.resume")
    public static let tasksExec = APIMethod<ExecTaskRequest, Empty>("tasks.exec")
    public static let tasksMetrics = APIMethod<TaskRequest, TaskMetricsResponse>("tasks.metrics")
    public static let tasksUpdate = APIMethod<UpdateTaskRequest, Empty>("tasks.update")
    public static let tasksCloseIO = APIMethod<CloseIORequest, Empty>("tasks.closeIO")
    public static let tasksResizePty = APIMethod<ResizePtyRequest, Empty>("tasks.resizePty")

    public static let imagesImport = APIMethod<ImportImagesRequest, ImportImagesResponse>("images.import")
    public static let imagesExport = APIMethod<ExportImagesRequest, ExportImagesResponse>("images.export")
    public static let imagesList = APIMethod<ListImagesRequest, ListImagesResponse>("images.list")
    public static let imagesGet = APIMethod<GetImageRequest, ImageResponse>("images.get")
    public static let imagesDelete = APIMethod<DeleteImageRequest, Empty>("images.delete")
    public static let imagesTag = APIMethod<TagImageRequest, ImageResponse>("images.tag")
    public static let imagesUpdate = APIMethod<UpdateImageRequest, ImageResponse>("images.update")

    public static let eventsSubscribe = APIMethod<SubscribeEventsRequest, SubscribeEventsResponse>("events.subscribe")
    public static let eventsUnsubscribe = APIMethod<UnsubscribeEventsRequest, Empty>("events.unsubscribe")
    public static let eventsPublish = APIMethod<PublishEventRequest, PublishEventResponse>("events.publish")

    public static let all: [any AnyAPIMethod] = [
        systemVersion, systemInfo, systemGC,
        namespacesCreate, namespacesGet, namespacesList, namespacesUpdate, namespacesDelete,
        snapshotsPrepare, snapshotsView, snapshotsCommit, snapshotsRemove, snapshotsStat,
        snapshotsUpdate, snapshotsList, snapshotsMounts, snapshotsUsage, snapshotsCleanup,
        contentList, contentInfo, contentUpdate, contentDelete,
        leasesCreate, leasesList, leasesDelete, leasesAddResource, leasesDeleteResource,

        containersCreate, containersGet, containersList, containersUpdate, containersDelete,
        tasksCreate, tasksStart, tasksGet, tasksList, tasksKill, tasksDelete, tasksWait, tasksPids,
        tasksPause, tasksResume, tasksExec, tasksMetrics, tasksUpdate, tasksCloseIO, tasksResizePty,

        imagesImport, imagesExport, imagesList, imagesGet, imagesDelete, imagesTag, imagesUpdate,

        eventsSubscribe, eventsUnsubscribe, eventsPublish,
    ]
}
