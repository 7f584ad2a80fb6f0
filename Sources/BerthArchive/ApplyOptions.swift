import BerthDigest

/// What a layer's whiteout entries become (OCI image-spec `layer.md`, "Whiteouts").
public enum WhiteoutMode: Sendable {
    /// `root` is an overlayfs upper directory: `.wh.<name>` becomes a 0/0 character
    /// device `<name>` and `.wh..wh..opq` sets `trusted.overlay.opaque=y` on its
    /// directory, so the kernel hides the lower layers' files at mount time.
    case overlay
    /// `root` is a full copy of the lower layers: `.wh.<name>` removes `<name>` (recursively)
    /// and `.wh..wh..opq` removes what the directory held before this layer.
    case native
}

/// Bounds on what one layer may cost. The defaults are generous for real images
/// (the largest public layers are a few GiB) and finite, so a hostile stream stops early.
public struct ApplyLimits: Sendable, Equatable {
    /// Bytes of the uncompressed tar stream; a gzip or zstd bomb stops here, within one
    /// 1 MiB read of the limit.
    public var maxUncompressedBytes: Int64
    /// Tar entries, whiteouts and skipped entries included.
    public var maxEntries: Int
    /// Bytes of one entry's metadata: its name, link target and xattrs (what PAX and GNU
    /// long-name headers carry), checked as each entry is read. The memory bound is
    /// libarchive's: 3.6 refuses a PAX or long-name body over 1 MiB from its tar header,
    /// before buffering any of it (a 1 GiB PAX header fails at once, as `.limitExceeded`),
    /// so a value above 1 MiB changes nothing.
    public var maxHeaderBytes: Int

    public init(maxUncompressedBytes: Int64 = 64 << 30, maxEntries: Int = 5_000_000, maxHeaderBytes: Int = 1 << 20) {
        self.maxUncompressedBytes = maxUncompressedBytes
        self.maxEntries = maxEntries
        self.maxHeaderBytes = maxHeaderBytes
    }
}

/// How `LayerApplier` applies one layer.
public struct ApplyOptions: Sendable {
    public var whiteouts: WhiteoutMode
    public var limits: ApplyLimits
    /// Device nodes in a layer are skipped (and listed in `ApplyResult.skipped`) unless
    /// this is set: an image has no business shipping `/dev/sda`.
    public var allowDeviceNodes: Bool
    /// The layer's diffID from the image config; checked once the whole stream is read.
    public var expectedDiffID: Digest?

    public init(whiteouts: WhiteoutMode, limits: ApplyLimits = .init(), allowDeviceNodes: Bool = false, expectedDiffID: Digest? = nil) {
        self.whiteouts = whiteouts
        self.limits = limits
        self.allowDeviceNodes = allowDeviceNodes
        self.expectedDiffID = expectedDiffID
    }
}

/// What one applied layer was.
public struct ApplyResult: Sendable, Equatable {
    /// SHA-256 of the uncompressed tar stream, every byte to the end (the OCI diffID).
    public var diffID: Digest
    /// Bytes of the uncompressed stream.
    public var uncompressedSize: Int64
    /// Tar entries read, whiteouts and skipped entries included.
    public var entries: Int
    /// What was left out and why, for logging: device nodes, `trusted.overlay.*` xattrs,
    /// xattrs the file system does not support (`"dev/sda: device node"`).
    public var skipped: [String]

    public init(diffID: Digest, uncompressedSize: Int64, entries: Int, skipped: [String]) {
        self.diffID = diffID
        self.uncompressedSize = uncompressedSize
        self.entries = entries
        self.skipped = skipped
    }
}
