/// containerd's identifier rule, used for namespaces and (later) containers, leases…:
/// alphanumeric runs joined by single `.`, `_` or `-`, at most 76 characters
/// (`^[A-Za-z0-9]+([._-][A-Za-z0-9]+)*$`). An identifier is a name in the database,
/// never a path, and this rule keeps `/`, `..` and empty names out before anything
/// touches the disk.
public enum Identifier {
    public static let maxLength = 76

    /// Throws `InvalidArgument` naming `what` and the rule that was broken.
    public static func validate(_ id: String, what: String = "identifier") throws {
        if id.isEmpty { throw BerthError.invalidArgument("\(what) must not be empty") }
        if id.utf8.count > maxLength {
            throw BerthError.invalidArgument("\(what) \"\(id.prefix(20))…\" is \(id.utf8.count) characters; at most \(maxLength) are allowed")
        }
        var previousWasSeparator = true // no separator at the start
        for byte in id.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                previousWasSeparator = false
            case UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
                if previousWasSeparator { throw invalid(id, what) }
                previousWasSeparator = true
            default:
                throw invalid(id, what)
            }
        }
        if previousWasSeparator { throw invalid(id, what) }
    }

    private static func invalid(_ id: String, _ what: String) -> BerthError {
        .invalidArgument("\(what) \"\(id)\" is invalid: use letters and digits, joined by single '.', '_' or '-'")
    }
}

/// Label rules shared by every object with labels (containerd's: a non-empty key, and
/// key plus value at most 4096 bytes).
public enum Labels {
    public static let maxSize = 4096

    public static func validate(_ labels: [String: String]) throws {
        for (key, value) in labels {
            if key.isEmpty { throw BerthError.invalidArgument("label key must not be empty") }
            if key.utf8.count + value.utf8.count > maxSize {
                throw BerthError.invalidArgument("label \"\(key.prefix(40))\": key and value exceed \(maxSize) bytes")
            }
        }
    }
}
