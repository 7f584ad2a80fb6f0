/// An image reference, normalized as Docker and containerd do
/// (`busybox` → `docker.io/library/busybox:latest`).
///
/// Grammar (distribution/reference): `[domain/]path[:tag][@digest]`, where the domain
/// is the first component when it has a `.` or a `:` or is `localhost`; path
/// components are lowercase alphanumerics joined by `.`, `_`, `__` or dashes; a tag
/// is `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`. Without tag or digest, `latest` is implied.
public struct ImageReference: Sendable, Hashable, CustomStringConvertible {
    public var domain: String
    public var path: String
    public var tag: String?
    public var digest: String?

    public enum ParseError: Error, CustomStringConvertible, Equatable {
        case invalid(String, reason: String)
        public var description: String {
            switch self {
            case let .invalid(s, reason): "invalid image reference \"\(s)\": \(reason)"
            }
        }
    }

    public static let defaultDomain = "docker.io"

    /// Parses and normalizes `s`.
    public init(parsing s: String) throws(ParseError) {
        guard !s.isEmpty else { throw .invalid(s, reason: "empty") }
        guard s.utf8.count <= 4096 else { throw .invalid(String(s.prefix(64)) + "…", reason: "longer than 4096 bytes") }
        var rest = Substring(s)
        var digest: String?
        if let at = rest.firstIndex(of: "@") {
            let d = String(rest[rest.index(after: at)...])
            guard ImageReference.isDigest(d) else { throw .invalid(s, reason: "digest must be sha256: and 64 lowercase hex digits") }
            digest = d
            rest = rest[..<at]
        }
        var tag: String?
        // A tag follows the last ':' after the last '/' (a ':' before it is a port).
        if let colon = rest.lastIndex(of: ":"), !rest[colon...].contains("/") {
            let t = String(rest[rest.index(after: colon)...])
            guard ImageReference.isTag(t) else { throw .invalid(s, reason: "tag \"\(t)\" is not [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}") }
            tag = t
            rest = rest[..<colon]
        }
        var components = rest.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        var domain = ImageReference.defaultDomain
        if components.count > 1, let first = components.first,
           first.contains(".") || first.contains(":") || first == "localhost" || first.lowercased() != first {
            guard ImageReference.isDomain(first) else { throw .invalid(s, reason: "bad domain \"\(first)\"") }
            domain = first == "index.docker.io" ? ImageReference.defaultDomain : first
            components.removeFirst()
        }
        guard !components.isEmpty, components.allSatisfy(ImageReference.isPathComponent) else {
            throw .invalid(s, reason: "repository names are lowercase letters, digits and separators (. _ __ -) between '/'")
        }
        if domain == ImageReference.defaultDomain, components.count == 1 { components.insert("library", at: 0) }
        self.domain = domain
        self.path = components.joined(separator: "/")
        self.tag = tag ?? (digest == nil ? "latest" : nil)
        self.digest = digest
    }

    /// `domain/path`, without tag or digest.
    public var repository: String { domain + "/" + path }

    /// The normalized string: `docker.io/library/busybox:latest`.
    public var description: String {
        var out = repository
        if let tag { out += ":" + tag }
        if let digest { out += "@" + digest }
        return out
    }

    /// The normalized form of `s`, or `s` itself when it is not a reference (image names
    /// in the store are free strings; only parseable ones are normalized).
    public static func normalize(_ s: String) throws(ParseError) -> String {
        try ImageReference(parsing: s).description
    }

    /// Docker's short form for display: `busybox:latest` for `docker.io/library/busybox:latest`.
    public var familiar: String {
        var out = domain == ImageReference.defaultDomain
            ? (path.hasPrefix("library/") ? String(path.dropFirst(8)) : path) : repository
        if let tag { out += ":" + tag }
        if let digest { out += "@" + digest }
        return out
    }

    static func isDigest(_ s: String) -> Bool {
        let u = Array(s.utf8)
        return u.count == 71 && s.hasPrefix("sha256:") && u[7...].allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }

    static func isTag(_ t: String) -> Bool {
        let u = Array(t.utf8)
        guard (1...128).contains(u.count) else { return false }
        func word(_ c: UInt8) -> Bool { (48...57).contains(c) || (65...90).contains(c) || (97...122).contains(c) || c == 95 }
        return word(u[0]) && u.dropFirst().allSatisfy { word($0) || $0 == 46 || $0 == 45 }
    }

    static func isDomain(_ d: String) -> Bool {
        let hostPort = d.split(separator: ":", omittingEmptySubsequences: false)
        guard (1...2).contains(hostPort.count), !hostPort[0].isEmpty else { return false }
        if hostPort.count == 2 { guard !hostPort[1].isEmpty, hostPort[1].allSatisfy(\.isNumber) else { return false } }
        return hostPort[0].split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
            !label.isEmpty && label.utf8.allSatisfy { (48...57).contains($0) || (65...90).contains($0) || (97...122).contains($0) || $0 == 45 }
        }
    }

    static func isPathComponent(_ c: String) -> Bool {
        // [a-z0-9]+ ((\.|_|__|-+) [a-z0-9]+)*
        let u = Array(c.utf8)
        guard !u.isEmpty else { return false }
        func alnum(_ x: UInt8) -> Bool { (48...57).contains(x) || (97...122).contains(x) }
        var i = 0
        var expectAlnum = true
        while i < u.count {
            if alnum(u[i]) {
                expectAlnum = false
                i += 1
                continue
            }
            guard !expectAlnum else { return false }
            if u[i] == 46 { i += 1 }
            else if u[i] == 95 { i += (i + 1 < u.count && u[i + 1] == 95) ? 2 : 1 }
            else if u[i] == 45 { while i < u.count, u[i] == 45 { i += 1 } }
            else { return false }
            expectAlnum = true
        }
        return !expectAlnum
    }
}
