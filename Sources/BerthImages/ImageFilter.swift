import BerthAPI
import BerthEvents

/// containerd's image filters for `images.list` (`name==…`, `name~=…`, `labels."k"==v`,
/// `target.digest==…`, `target.mediatype==…`), parsed by the same parser as event and
/// content filters; several filters are ORed.
public struct ImageFilter: Sendable {
    let filter: EventFilter

    public init(_ filters: [String]) throws {
        do { filter = try EventFilter(parsing: filters) } catch {
            throw BerthError.invalidArgument(error.description)
        }
    }

    public func matches(_ image: Image) -> Bool { filter.matches(Fields(image: image)) }

    struct Fields: FilterAdaptor {
        let image: Image

        func filterField(_ path: ArraySlice<String>) -> String? {
            switch path.first {
            case "name": return path.count == 1 ? image.name : nil
            case "labels": return path.count >= 2 ? image.labels[path.dropFirst().joined(separator: ".")] : nil
            case "target":
                guard path.count == 2 else { return nil }
                switch path.last {
                case "digest": return image.target.digest
                case "mediatype", "mediaType": return image.target.mediaType
                default: return nil
                }
            default: return nil
            }
        }
    }
}
