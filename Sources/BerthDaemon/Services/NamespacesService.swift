import BerthAPI
import BerthRPC
import BerthEvents
import BerthMetadata

/// `namespaces.*` over the metadata store. Each change publishes its event
/// (`/namespaces/create|update|delete`, in the namespace it is about) once committed.
struct NamespacesService: Sendable {
    let store: NamespaceStore
    let events: any EventPublisher

    func register(_ router: inout Router) {
        router.register(API.namespacesCreate) { params, _ in
            let namespace = try store.create(params.name, labels: params.labels ?? [:])
            events.publish(EventTopics.namespacesCreate, namespace: namespace.name,
                           NamespaceCreateEvent(name: namespace.name, labels: namespace.labels))
            return NamespaceResponse(namespace: namespace)
        }
        router.register(API.namespacesGet) { params, _ in
            NamespaceResponse(namespace: try store.get(params.name))
        }
        router.register(API.namespacesList) { _, _ in
            ListNamespacesResponse(namespaces: try store.list())
        }
        router.register(API.namespacesUpdate) { params, _ in
            let namespace = try store.update(params.namespace, mask: params.updateMask)
            events.publish(EventTopics.namespacesUpdate, namespace: namespace.name,
                           NamespaceUpdateEvent(name: namespace.name, labels: namespace.labels))
            return NamespaceResponse(namespace: namespace)
        }
        router.register(API.namespacesDelete) { params, _ in
            try store.delete(params.name)
            events.publish(EventTopics.namespacesDelete, namespace: params.name, NamespaceDeleteEvent(name: params.name))
            return Empty()
        }
    }
}
