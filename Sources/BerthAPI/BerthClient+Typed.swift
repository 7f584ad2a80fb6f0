/// Typed calls for each service, so engines need not name methods.
extension BerthClient {
    // MARK: system

    public func version() async throws -> VersionInfo {
        try await call(API.systemVersion, Empty())
    }

    public func info() async throws -> SystemInfo {
        try await call(API.systemInfo, Empty())
    }

    // MARK: namespaces

    @discardableResult
    public func createNamespace(_ name: String, labels: [String: String] = [:]) async throws -> Namespace {
        try await call(API.namespacesCreate, CreateNamespaceRequest(name: name, labels: labels)).namespace
    }

    public func namespace(_ name: String) async throws -> Namespace {
        try await call(API.namespacesGet, NamespaceNameRequest(name: name)).namespace
    }

    public func namespaces() async throws -> [Namespace] {
        try await call(API.namespacesList, Empty()).namespaces
    }

    /// Sets (or, with an empty value, removes) the given labels, leaving others alone.
    @discardableResult
    public func labelNamespace(_ name: String, _ labels: [String: String]) async throws -> Namespace {
        let mask = labels.keys.sorted().map { "labels.\($0)" }
        return try await call(API.namespacesUpdate, UpdateNamespaceRequest(namespace: Namespace(name: name, labels: labels), updateMask: mask)).namespace
    }

    public func deleteNamespace(_ name: String) async throws {
        try await call(API.namespacesDelete, NamespaceNameRequest(name: name))
    }
}
