import BerthAPI

/// Which topics `events.publish` accepts from engines.
///
/// As containerd's exchange: a topic starts with `/` and is one or more components
/// separated by `/`, each an identifier (letters and digits joined by single `.`, `_`
/// or `-`). Beyond containerd, the first component must not be one of Berth's own
/// (`EventTopics.reservedPrefixes`: `/tasks`, `/containers`, …), so no engine can
/// forge a built-in event; an engine publishes under a prefix it owns, by convention
/// its own name (`/buildkit/solve/done`).
public enum TopicRules {
    public static let maxLength = 255

    /// Throws `InvalidArgument` saying what is wrong with `topic`.
    public static func validatePublished(_ topic: String) throws {
        guard !topic.isEmpty else { throw BerthError.invalidArgument("topic must not be empty") }
        guard topic.hasPrefix("/") else { throw BerthError.invalidArgument("topic \"\(topic)\" must start with '/'") }
        guard topic.utf8.count <= maxLength else {
            throw BerthError.invalidArgument("topic is \(topic.utf8.count) bytes; at most \(maxLength) are allowed")
        }
        let components = topic.dropFirst().split(separator: "/", omittingEmptySubsequences: false)
        guard let first = components.first, !first.isEmpty else {
            throw BerthError.invalidArgument("topic \"\(topic)\" must have at least one component after '/'")
        }
        for component in components {
            do {
                try Identifier.validate(String(component), what: "topic component")
            } catch let error as BerthError {
                throw BerthError.invalidArgument("topic \"\(topic)\": \(error.message)")
            }
        }
        if EventTopics.reservedPrefixes.contains(String(first)) {
            throw BerthError.invalidArgument(
                "topic \"\(topic)\" is under /\(first), which is reserved for berthd's own events; publish under a prefix your engine owns")
        }
    }
}
