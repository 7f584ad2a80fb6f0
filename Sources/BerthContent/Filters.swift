import BerthAPI
import BerthEvents

/// containerd's filter syntax for `content.list` and `leases.list`, parsed by the same
/// parser as event filters (BerthEvents' port of containerd's `filters` package), so
/// quoting, `~=` regular expressions and the OR of several filters behave alike
/// everywhere. As in containerd, a field the object does not have is simply absent:
/// `foo==x` matches nothing and `foo!=x` everything.
enum ContentFilters {
    /// Any of `filters`; none (or an empty one) matches everything. A filter that does
    /// not parse is `InvalidArgument` with containerd's message.
    static func parse(_ filters: [String]) throws -> EventFilter {
        do { return try EventFilter(parsing: filters) } catch {
            throw BerthError.invalidArgument(error.description)
        }
    }

    /// `labels.<key>`, where a key with dots (`labels."containerd.io/gc.root"` parses to
    /// one field, `labels.a.b` to two) is rejoined with dots, as containerd's `checkMap`.
    static func label(_ path: ArraySlice<String>, _ labels: [String: String]) -> String? {
        guard path.count >= 2 else { return nil }
        return labels[path.dropFirst().joined(separator: ".")]
    }
}

/// The fields of a blob's info that filters see: `digest`, `size`, `labels.<key>`.
struct ContentInfoFields: FilterAdaptor {
    let info: ContentInfo

    func filterField(_ path: ArraySlice<String>) -> String? {
        switch path.first {
        case "digest": path.count == 1 ? info.digest : nil
        case "size": path.count == 1 ? String(info.size) : nil
        case "labels": ContentFilters.label(path, info.labels)
        default: nil
        }
    }
}

/// The fields of a lease that filters see: `id`, `labels.<key>`.
struct LeaseFields: FilterAdaptor {
    let lease: Lease

    func filterField(_ path: ArraySlice<String>) -> String? {
        switch path.first {
        case "id": path.count == 1 ? lease.id : nil
        case "labels": ContentFilters.label(path, lease.labels)
        default: nil
        }
    }
}
