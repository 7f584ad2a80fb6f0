/// A mount to perform, as containerd's `mount.Mount`: what snapshotters return, the
/// daemon hands to a shim, and `MountExecutor` (BerthSnapshots) performs.
///
/// `options` are mount(8)'s `-o` words: flags (`ro`, `rbind`, `nosuid`…) and file
/// system data (`lowerdir=…`, `upperdir=…`). `target` is where to mount it, when the
/// producer knows; snapshotters leave it out and the caller chooses.
public struct Mount: Codable, Sendable, Equatable, Hashable {
    /// File system type: `overlay`, `bind`, `tmpfs`…
    public var type: String
    public var source: String
    public var target: String?
    public var options: [String]

    public init(type: String, source: String, target: String? = nil, options: [String] = []) {
        self.type = type
        self.source = source
        self.target = target
        self.options = options
    }

    enum CodingKeys: String, CodingKey { case type, source, target, options }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        type = try c.decode(String.self, forKey: .type)
        source = try c.decode(String.self, forKey: .source)
        target = try c.decodeIfPresent(String.self, forKey: .target)
        options = try c.decodeIfPresent([String].self, forKey: .options) ?? []
    }
}
