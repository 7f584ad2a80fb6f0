import BerthAPI
import BerthRPC
import BerthMetadata

/// `namespaces.*` over the metadata store.
struct NamespacesService: Sendable {
    let store: NamespaceStore

    func register(_ router: inout Router) {
        router.register(API.namespacesCreate) { params, _ in
            NamespaceResponse(namespace: try store.create(params.name, labels: params.labels ?? [:]))
        }
        router.register(API.namespacesGet) { params, _ in
            NamespaceResponse(namespace: try store.get(params.name))
        }
        router.register(API.namespacesList) { _, _ in
            ListNamespacesResponse(namespaces: try store.list())
        }
        router.register(API.namespacesUpdate) { params, _ in
            NamespaceResponse(namespace: try store.update(params.namespace, mask: params.updateMask))
        }
        router.register(API.namespacesDelete) { params, _ in
            try store.delete(params.name)
            return Empty()
        }
    }
}
