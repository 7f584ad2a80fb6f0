#if canImport(Glibc)
import Glibc
#endif

extension StringProtocol {
    /// Whether the UTF-8 bytes of `needle` occur in this string: memchr + memcmp, for hot
    /// loops over /proc files (mountinfo) where the generic `contains` of the standard
    /// library's string processing costs more than the work it guards.
    public func containsBytes(_ needle: StaticString) -> Bool {
        let found = utf8.withContiguousStorageIfAvailable { haystack -> Bool in
            let n = needle.utf8CodeUnitCount
            guard n > 0 else { return true }
            guard let base = haystack.baseAddress, haystack.count >= n else { return false }
            let first = Int32(needle.utf8Start.pointee)
            var offset = 0
            // memchr to each candidate first byte, then memcmp (memmem is a GNU extension
            // Glibc's module does not show).
            while offset <= haystack.count - n {
                guard let hit = memchr(base + offset, first, haystack.count - n - offset + 1) else { return false }
                let at = UnsafeRawPointer(hit) - UnsafeRawPointer(base)
                if memcmp(base + at, needle.utf8Start, n) == 0 { return true }
                offset = at + 1
            }
            return false
        }
        if let found { return found }
        return String(self).containsBytes(needle)
    }
}
