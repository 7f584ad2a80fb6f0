/// Something filters can look into: the value at a field path, or nil when absent.
///
/// As in containerd's adaptors, an empty string counts as absent.
public protocol FilterAdaptor {
    func filterField(_ path: ArraySlice<String>) -> String?
}

/// One `fieldpath[op value]` term of a filter.
struct FilterSelector: Sendable {
    enum Operator: Sendable, Equatable {
        case present, equal, notEqual, matches
    }

    var path: [String]
    var op: Operator
    var value: String
    var regex: FilterRegex?

    /// containerd's semantics: `!=` and `~=` also test an absent field, as "".
    func matches(_ item: some FilterAdaptor) -> Bool {
        let found = item.filterField(path[...])
        switch op {
        case .present: return found != nil
        case .equal: return found == value
        case .notEqual: return (found ?? "") != value
        case .matches: return regex?.matches(found ?? "") ?? false
        }
    }
}

/// A compiled `~=` pattern: Swift's `Regex`, unanchored (it matches anywhere in the
/// value, as Go's `MatchString`).
struct FilterRegex: @unchecked Sendable {
    // Regex is immutable after compilation; matching does not mutate it.
    private let regex: Regex<AnyRegexOutput>

    init(_ pattern: String) throws {
        regex = try Regex(pattern)
    }

    func matches(_ value: String) -> Bool {
        (try? regex.firstMatch(in: value)) != nil
    }
}

/// A filter parsed from several filter strings: it matches when any one of them does,
/// and a string matches when all of its `,`-separated selectors do. No strings (or
/// an empty string) match everything.
///
/// ```swift
/// let filter = try EventFilter(parsing: [#"topic=="/tasks/exit",namespace==k8s.io"#, #"topic~=^/images/"#])
/// ```
public struct EventFilter: Sendable {
    /// The string at `index` does not parse.
    public struct ParseError: Error, Sendable, CustomStringConvertible {
        public let index: Int
        public let syntax: FilterSyntaxError

        public var description: String {
            "filters[\(index)]: parse error at byte \(syntax.position): \(syntax.description.dropFirst("filters: parse error: ".count))"
        }
    }

    /// Any of these, each all of its selectors. Empty: everything.
    private let alternatives: [[FilterSelector]]

    public static let everything = EventFilter(alternatives: [])

    private init(alternatives: [[FilterSelector]]) {
        self.alternatives = alternatives
    }

    public init(parsing filters: [String]) throws(ParseError) {
        var alternatives: [[FilterSelector]] = []
        for (index, text) in filters.enumerated() {
            if text.isEmpty { continue } // matches everything: see below
            do {
                var parser = FilterParser(text)
                alternatives.append(try parser.parse())
            } catch {
                throw ParseError(index: index, syntax: error)
            }
        }
        if filters.contains("") { alternatives = [] } // one alternative matches everything
        self.alternatives = alternatives
    }

    public var matchesEverything: Bool { alternatives.isEmpty }

    public func matches(_ item: some FilterAdaptor) -> Bool {
        if alternatives.isEmpty { return true }
        return alternatives.contains { all in all.allSatisfy { $0.matches(item) } }
    }
}
