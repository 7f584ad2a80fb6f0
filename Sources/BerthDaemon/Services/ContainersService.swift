import BerthAPI
import BerthEvents
import BerthMetadata
import BerthRPC

/// `containers.*`: container records in the metadata store. A container with a live
/// task cannot be deleted.
struct ContainersService: Sendable {
    let store: ContainerStore
    let shims: ShimManager
    let events: any EventPublisher

    func register(_ router: inout Router) {
        router.register(API.containersCreate) { params, _ in
            let namespace = params.namespace ?? "default"
            let container = try store.create(namespace: namespace, params.container)
            events.publish(EventTopics.containersCreate, namespace: namespace, ContainerCreateEvent(
                id: container.id, image: container.image ?? "", runtime: .init(name: container.runtime.name)))
            return ContainerResponse(container: container)
        }
        router.register(API.containersGet) { params, _ in
            ContainerResponse(container: try store.get(namespace: params.namespace ?? "default", id: params.id))
        }
        router.register(API.containersList) { params, _ in
            ListContainersResponse(containers: try store.list(namespace: params.namespace ?? "default"))
        }
        router.register(API.containersUpdate) { params, _ in
            let namespace = params.namespace ?? "default"
            let container = try store.update(namespace: namespace, params.container, mask: params.updateMask)
            events.publish(EventTopics.containersUpdate, namespace: namespace, ContainerUpdateEvent(
                id: container.id, image: container.image ?? "", labels: container.labels, snapshotKey: container.snapshotKey ?? ""))
            return ContainerResponse(container: container)
        }
        router.register(API.containersDelete) { params, _ in
            let namespace = params.namespace ?? "default"
            if (try? shims.handle(namespace, params.id)) != nil {
                throw BerthError.failedPrecondition("container \"\(params.id)\" has a task: delete the task first")
            }
            try shims.refuseWhileCleaningUp(namespace, params.id)
            try store.delete(namespace: namespace, id: params.id)
            // A task whose shim died goes with its container, and says so first.
            _ = shims.deleteDead(namespace, params.id)
            events.publish(EventTopics.containersDelete, namespace: namespace, ContainerDeleteEvent(id: params.id))
            return Empty()
        }
    }
}
