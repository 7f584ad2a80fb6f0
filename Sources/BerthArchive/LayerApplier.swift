import BerthDigest
import CArchive
#if canImport(Glibc)
import Glibc
#endif

/// Applies an image layer — an untrusted tar stream, gzip- or zstd-compressed or not —
/// inside a directory, with containerd's `archive.Apply` semantics.
///
/// Nothing is ever created, changed or removed outside `root`, whatever the layer holds:
/// every entry's parent directory is opened afresh from a descriptor of `root` with
/// `openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)`, so symlinks in the layer (or already
/// in `root`) resolve as if `root` were `/`, and the entry itself is made with `*at()` calls
/// that never follow a symlink in the last component. Absolute names and `..` are cleaned
/// relative to `root` (`../../x` is `x`). See `Extractor` for each entry type.
///
/// Decompression and hashing run on a second thread (`DecompressPipe`), extraction on the
/// caller's. On any failure the decompressor is stopped and joined before the error is
/// thrown; `root` is then half-applied and the caller discards it (containerd removes the
/// snapshot).
public enum LayerApplier {
    /// Applies the layer read from `descriptor` (from its current offset to its end; the
    /// descriptor is not closed) inside the directory `root`.
    ///
    /// - Throws: `ArchiveError` — `.corrupt` for input that is not a whole tar (empty,
    ///   truncated, random bytes, bad compression); `.unsafeEntry` for an entry refused
    ///   (an invalid whiteout name, a hard link to a directory or to nothing); `.limitExceeded`;
    ///   `.digestMismatch` when `options.expectedDiffID` is not the stream's sha256; `.io`.
    ///   An empty tar (only its end blocks) is a valid empty layer, not an error.
    public static func apply(from descriptor: Int32, into root: String, options: ApplyOptions) throws -> ApplyResult {
        let rootDirectory = try RootDirectory(path: root)
        let pipe = try DecompressPipe(source: descriptor, limit: options.limits.maxUncompressedBytes)
        try pipe.start()
        let extractor = Extractor(root: rootDirectory, options: options)
        do {
            try extractor.run(reading: pipe)
            try pipe.drain()
        } catch {
            // The decompressor's failure (a bomb, bad gzip) is the cause of what the tar
            // reader saw after it; take it before cancelling adds one of its own.
            let cause = pipe.error
            pipe.cancel()
            pipe.join()
            throw cause ?? error
        }
        pipe.join()
        let (diffID, size) = pipe.finish()
        if let expected = options.expectedDiffID, expected != diffID {
            throw ArchiveError(.digestMismatch, "layer diffID is \(diffID), expected \(expected)")
        }
        return ApplyResult(diffID: diffID, uncompressedSize: size, entries: extractor.entries, skipped: extractor.skipped)
    }

    /// Applies the layer in the file at `path` inside the directory `root`.
    public static func apply(file path: String, into root: String, options: ApplyOptions) throws -> ApplyResult {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ArchiveError.io(errno, "open layer \(path)") }
        defer { close(fd) }
        return try apply(from: fd, into: root, options: options)
    }
}
