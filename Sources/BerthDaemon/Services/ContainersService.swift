import BerthAPI
import BerthMetadata
import BerthRPC

/// `containers.*`: container records in the metadata store. A container with a live
/// task cannot be deleted.
struct ContainersService: Sendable {
    let store: ContainerStore
    let shims: ShimManager

    func register(_ router: inout Router) {
        router.register(API.containersCreate) { params, _ in
            ContainerResponse(container: try store.create(namespace: params.namespace ?? "default", params.container))
        }
        router.register(API.containersGet) { params, _ in
            ContainerResponse(container: try store.get(namespace: params.namespace ?? "default", id: params.id))
        }
        router.register(API.containersList) { params, _ in
            ListContainersResponse(containers: try store.list(namespace: params.namespace ?? "default"))
        }
        router.register(API.containersUpdate) { params, _ in
            ContainerResponse(container: try store.update(namespace: params.namespace ?? "default", params.container, mask: params.updateMask))
        }
        router.register(API.containersDelete) { params, _ in
            let namespace = params.namespace ?? "default"
            if (try? shims.handle(namespace, params.id)) != nil {
                throw BerthError.failedPrecondition("container \"\(params.id)\" has a task: delete the task first")
            }
            try store.delete(namespace: namespace, id: params.id)
            return Empty()
        }
    }
}
