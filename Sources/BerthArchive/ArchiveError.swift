import CArchive

/// A failure reading, writing or applying an archive. `message` says what and where
/// (the entry's name when there is one); no partial result is ever reported as success.
public struct ArchiveError: Error, CustomStringConvertible, Equatable {
    public enum Kind: Sendable, Equatable {
        /// The archive is malformed, truncated or not an archive at all.
        case corrupt
        /// An entry would write outside the target, or is otherwise refused.
        case unsafeEntry
        /// A configured limit (size, entries, header) was exceeded.
        case limitExceeded
        /// The decompressed stream's digest is not the one expected (a layer's diffID).
        case digestMismatch
        /// The file system refused an operation (errno in the message).
        case io
    }

    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }

    /// libarchive's own text for the last error on `archive`.
    static func fromArchive(_ archive: OpaquePointer?, _ what: String, kind: Kind = .corrupt) -> ArchiveError {
        let text = archive.flatMap { archive_error_string($0) }.map { String(cString: $0) } ?? "unknown error"
        return ArchiveError(kind, "\(what): \(text)")
    }
}
