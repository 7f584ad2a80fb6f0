import BerthAPI
import BerthArchive
import BerthContent
import BerthDigest
import BerthOCI

/// The first pass of an import: every file of the archive is stored in the content
/// store as it streams by (so an archive can come from a pipe, and a layer is never
/// held in memory), except the small top-level documents, which are kept in memory
/// within the document size limit.
struct ImportArchive {
    /// `oci-layout`, `index.json`, `manifest.json`, `repositories`, by name.
    var documents: [String: [UInt8]] = [:]
    /// Every other regular file: its digest and size in the content store.
    var files: [String: (digest: Digest, size: Int64)] = [:]
    /// Symbolic links (docker-save links a repeated layer to its first copy).
    var links: [String: String] = [:]
    var bytesRead: Int64 = 0
    var blobsStored = 0

    static let documentNames: Set<String> = ["oci-layout", "index.json", "manifest.json", "repositories"]

    /// Reads the whole archive from `fd`. `track` is told of every digest stored, for the
    /// import's lease.
    static func read(from fd: Int32, content: ContentAccess, refPrefix: String, track: (Digest) throws -> Void) throws -> ImportArchive {
        var archive = ImportArchive()
        let reader: TarReader
        do { reader = try TarReader(descriptor: fd) } catch let error as ArchiveError {
            throw BerthError.invalidArgument("not a readable archive: \(error.message)")
        }
        do {
            while let entry = try reader.next() {
                guard !entry.path.isEmpty else { continue }
                guard !entry.path.split(separator: "/").contains("..") else {
                    throw BerthError.invalidArgument("archive entry \"\(entry.path)\" has a .. component")
                }
                switch entry.kind {
                case .directory, .other:
                    continue
                case .symlink:
                    if let target = entry.linkTarget { archive.links[entry.path] = target }
                case .hardlink:
                    // A hardlink names an earlier entry from the archive's root.
                    if let target = entry.linkTarget { archive.links[entry.path] = "/" + TarReader.clean(target) }
                case .file:
                    archive.bytesRead += entry.size
                    if documentNames.contains(entry.path) {
                        archive.documents[entry.path] = try reader.readData(limit: ContentAccess.maxDocumentBytes)
                        continue
                    }
                    var expected: Digest?
                    if entry.path.hasPrefix("blobs/") {
                        let parts = entry.path.split(separator: "/")
                        guard parts.count == 3, parts[1] == "sha256", let d = try? Digest(parsing: "sha256:" + parts[2]) else {
                            throw BerthError.invalidArgument("archive entry \"\(entry.path)\": blobs must be blobs/sha256/<64 hex>")
                        }
                        expected = d
                    }
                    let stored = try content.store(ref: refPrefix + entry.path, from: reader, size: entry.size, digest: expected)
                    if stored.new { archive.blobsStored += 1 }
                    let digest = try ContentAccess.digest(stored.info.digest)
                    try track(digest)
                    archive.files[entry.path] = (digest, stored.info.size)
                }
            }
        } catch let error as ArchiveError {
            throw BerthError.invalidArgument("archive: \(error.message)")
        }
        return archive
    }

    /// The stored file at `path`, following docker-save's relative symlinks.
    func file(_ path: String) throws -> (digest: Digest, size: Int64) {
        var p = TarReader.clean(path)
        for _ in 0..<8 {
            if let f = files[p] { return f }
            guard let target = links[p] else { break }
            let base = p.split(separator: "/").dropLast().joined(separator: "/")
            p = Self.resolve(target, relativeTo: base)
        }
        throw BerthError.invalidArgument("archive does not contain \"\(path)\"")
    }

    static func resolve(_ target: String, relativeTo base: String) -> String {
        var parts = target.hasPrefix("/") ? [] : base.split(separator: "/").map(String.init)
        for c in target.split(separator: "/") {
            if c == "." { continue }
            if c == ".." { if !parts.isEmpty { parts.removeLast() }; continue }
            parts.append(String(c))
        }
        return parts.joined(separator: "/")
    }
}
