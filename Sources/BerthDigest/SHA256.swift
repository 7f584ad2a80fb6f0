import CCrypto

/// A streaming SHA-256 over the system's libcrypto (`EVP_sha256`).
///
/// Not thread-safe: one hasher per stream. `finish()` ends it; updating afterwards
/// is a programming error.
public final class SHA256: @unchecked Sendable {
    private let context: OpaquePointer
    private var finished = false
    /// Bytes hashed so far.
    public private(set) var count: Int64 = 0

    public init() {
        guard let ctx = EVP_MD_CTX_new(), EVP_DigestInit_ex(ctx, EVP_sha256(), nil) == 1 else {
            fatalError("libcrypto cannot initialise SHA-256")
        }
        context = ctx
    }

    deinit { EVP_MD_CTX_free(context) }

    public func update(_ bytes: UnsafeRawBufferPointer) {
        precondition(!finished, "SHA256.update after finish")
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        EVP_DigestUpdate(context, base, bytes.count)
        count += Int64(bytes.count)
    }

    public func update(_ bytes: some Collection<UInt8>) {
        if let done: Void = bytes.withContiguousStorageIfAvailable({ update(UnsafeRawBufferPointer($0)) }) {
            return done
        }
        Array(bytes).withUnsafeBytes { update($0) }
    }

    /// The digest of everything hashed; the hasher cannot be used afterwards.
    public func finish() -> Digest {
        precondition(!finished, "SHA256.finish twice")
        finished = true
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        EVP_DigestFinal_ex(context, &out, &length)
        return Digest(unchecked: "sha256:" + Digest.hex(out.prefix(Int(length))))
    }

    /// The digest of `bytes`.
    public static func digest(_ bytes: some Collection<UInt8>) -> Digest {
        let h = SHA256()
        h.update(bytes)
        return h.finish()
    }
}
