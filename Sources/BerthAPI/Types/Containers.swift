import BerthOCI

/// A container: metadata only (a spec, a runtime, labels); its running process is a task.
public struct Container: Codable, Sendable, Equatable {
    public struct Runtime: Codable, Sendable, Equatable {
        /// `berth` (the default), `runc` or `crun`.
        public var name: String
        public var options: [String: String]?
        public init(name: String = "berth", options: [String: String]? = nil) {
            self.name = name
            self.options = options
        }

        /// The runtimes a container may name, the default first, each with the program
        /// it runs: the one list that validation, the shim and `system.info` read.
        public static let known: [(name: String, binary: String)] = [
            ("berth", "berth-runtime"), ("runc", "runc"), ("crun", "crun"),
        ]

        /// The program `name` runs; nil for a runtime Berth does not know.
        public static func binary(of name: String) -> String? {
            known.first { $0.name == name }?.binary
        }
    }

    public var id: String
    public var image: String?
    public var runtime: Runtime
    public var spec: Spec
    public var snapshotter: String?
    public var snapshotKey: String?
    public var labels: [String: String]
    public var createdAt: String?
    public var updatedAt: String?

    public init(id: String, image: String? = nil, runtime: Runtime = Runtime(), spec: Spec, snapshotter: String? = nil,
                snapshotKey: String? = nil, labels: [String: String] = [:], createdAt: String? = nil, updatedAt: String? = nil) {
        self.id = id
        self.image = image
        self.runtime = runtime
        self.spec = spec
        self.snapshotter = snapshotter
        self.snapshotKey = snapshotKey
        self.labels = labels
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

public struct CreateContainerRequest: Codable, Sendable, Equatable {
    public var namespace: String?
    public var container: Container
    public init(namespace: String? = nil, container: Container) {
        self.namespace = namespace
        self.container = container
    }
}

public struct ContainerRequest: Codable, Sendable, Equatable {
    public var namespace: String?
    public var id: String
    public init(namespace: String? = nil, id: String) {
        self.namespace = namespace
        self.id = id
    }
}

public struct NamespaceRequest: Codable, Sendable, Equatable {
    public var namespace: String?
    public init(namespace: String? = nil) { self.namespace = namespace }
}

/// `updateMask`: `labels`, `labels.<key>`, `spec`, `image` (containerd's field masks).
public struct UpdateContainerRequest: Codable, Sendable, Equatable {
    public var namespace: String?
    public var container: Container
    public var updateMask: [String]?
    public init(namespace: String? = nil, container: Container, updateMask: [String]? = nil) {
        self.namespace = namespace
        self.container = container
        self.updateMask = updateMask
    }
}

public struct ContainerResponse: Codable, Sendable, Equatable {
    public var container: Container
    public init(container: Container) { self.container = container }
}

public struct ListContainersResponse: Codable, Sendable, Equatable {
    public var containers: [Container]
    public init(containers: [Container]) { self.containers = containers }
}

extension Container {
    /// A container made from an image whose config names a user (`nobody`,
    /// `app:staff`, `1000:1000`) carries it in this label; berthd resolves it against the
    /// root file system's `/etc/passwd` and `/etc/group` when it creates the task, as
    /// only then is the image's file system mounted.
    public static let userLabel = "io.berth.image.user"
}

extension CreateContainerRequest {
    /// The request as JSON without JSONEncoder (`Spec.quickJSON` says why): what
    /// `berthctl run` sends. JSONDecoder reads back the same request (a test checks).
    public func quickJSON() -> [UInt8] {
        var w = QuickJSONWriter()
        w.object { w in
            w.member("namespace", namespace)
            w.key("container")
            w.object { w in
                w.member("id", container.id)
                w.member("image", container.image)
                w.key("runtime")
                w.object { w in
                    w.member("name", container.runtime.name)
                    w.member("options", container.runtime.options)
                }
                w.key("spec")
                container.spec.write(to: &w)
                w.member("snapshotter", container.snapshotter)
                w.member("snapshotKey", container.snapshotKey)
                w.key("labels")
                w.stringMap(container.labels)
                w.member("createdAt", container.createdAt)
                w.member("updatedAt", container.updatedAt)
            }
        }
        return w.bytes
    }
}
