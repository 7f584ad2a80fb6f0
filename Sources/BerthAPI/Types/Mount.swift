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

extension Mount {
    /// The largest option data mount(2) accepts: one page, with its NUL.
    public static let maxMountData = 4095

    /// For an overlay: the directory all its paths share, and its options with each
    /// path (`lowerdir` entries, `upperdir`, `workdir`) made relative to it, as
    /// containerd compacts long lowerdir lists. Mounting from that directory keeps a
    /// 200-layer list under `maxMountData`. Nil for other types or without `lowerdir`.
    public func relativeOverlayOptions() -> (directory: String, options: [String])? {
        guard type == "overlay", let lower = options.first(where: { $0.hasPrefix("lowerdir=") }) else { return nil }
        let pathKeys = ["upperdir=", "workdir="]
        let lowers = lower.dropFirst("lowerdir=".count).split(separator: ":").map(String.init)
        var paths = lowers
        for word in options { if let key = pathKeys.first(where: word.hasPrefix) { paths.append(String(word.dropFirst(key.count))) } }
        guard paths.allSatisfy({ $0.hasPrefix("/") }) else { return nil }
        func parent(_ path: String) -> String {
            guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return "/" }
            return String(path[..<slash])
        }
        var common = parent(paths[0])
        while common != "/" && !paths.allSatisfy({ $0.hasPrefix(common + "/") }) { common = parent(common) }
        func relative(_ path: String) -> String { common == "/" ? String(path.dropFirst()) : String(path.dropFirst(common.count + 1)) }
        var out: [String] = []
        for word in options where word != lower {
            if let key = pathKeys.first(where: word.hasPrefix) { out.append(key + relative(String(word.dropFirst(key.count)))) } else { out.append(word) }
        }
        out.append("lowerdir=" + lowers.map(relative).joined(separator: ":"))
        return (common, out)
    }
}
