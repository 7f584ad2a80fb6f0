/// The state a runtime reports for a container (`runc state`), runtime-spec's State
/// plus runc's extra fields, so tools that parse runc's output parse ours.
public struct ContainerState: Codable, Sendable, Equatable {
    public var ociVersion: String
    public var id: String
    /// Pid of the container's init process as seen from the host; 0 when stopped.
    public var pid: Int32
    /// creating, created, running, paused or stopped.
    public var status: String
    public var bundle: String
    public var rootfs: String
    /// RFC 3339 with nanoseconds.
    public var created: String
    public var owner: String
    public var annotations: [String: String]?

    public init(id: String, pid: Int32, status: String, bundle: String, rootfs: String, created: String,
                owner: String = "", annotations: [String: String]? = nil) {
        self.ociVersion = Spec.version
        self.id = id
        self.pid = pid
        self.status = status
        self.bundle = bundle
        self.rootfs = rootfs
        self.created = created
        self.owner = owner
        self.annotations = annotations
    }
}
