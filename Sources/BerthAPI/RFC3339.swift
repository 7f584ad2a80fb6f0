import BerthSystem
#if canImport(Glibc)
import Glibc
#endif

/// RFC 3339 times as the wire carries them: `createdAt` fields, and the
/// `containerd.io/gc.expire` lease label, which clients write (as Go's `time.RFC3339`,
/// often with an offset) and the lease store and garbage collector read.
public enum RFC3339 {
    /// Seconds since the epoch (fractions dropped: expiry and ages are to the second),
    /// or nil when `text` is not RFC 3339 (`2025-01-02T03:04:05Z`, `…05.123456789Z`,
    /// `…05+02:00`).
    public static func seconds(_ text: String) -> Int? {
        let u = Array(text.utf8)
        func digits(_ at: Int, _ count: Int) -> Int? {
            guard at + count <= u.count else { return nil }
            var n = 0
            for b in u[at..<at + count] {
                guard (0x30...0x39).contains(b) else { return nil }
                n = n * 10 + Int(b - 0x30)
            }
            return n
        }
        func char(_ at: Int, _ c: Character) -> Bool { at < u.count && u[at] == c.asciiValue! }
        guard let year = digits(0, 4), char(4, "-"), let month = digits(5, 2), char(7, "-"), let day = digits(8, 2),
              char(10, "T") || char(10, "t"), let hour = digits(11, 2), char(13, ":"), let minute = digits(14, 2),
              char(16, ":"), let second = digits(17, 2) else { return nil }
        guard (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61 else { return nil }
        var i = 19
        if char(i, ".") {
            i += 1
            let start = i
            while i < u.count, (0x30...0x39).contains(u[i]) { i += 1 }
            if i == start { return nil }
        }
        var offset = 0
        if char(i, "Z") || char(i, "z") {
            i += 1
        } else if char(i, "+") || char(i, "-") {
            guard let h = digits(i + 1, 2), char(i + 3, ":"), let m = digits(i + 4, 2), h < 24, m < 60 else { return nil }
            offset = (h * 60 + m) * 60 * (char(i, "-") ? -1 : 1)
            i += 6
        } else {
            return nil
        }
        guard i == u.count else { return nil }
        var parts = tm()
        parts.tm_year = Int32(year - 1900)
        parts.tm_mon = Int32(month - 1)
        parts.tm_mday = Int32(day)
        parts.tm_hour = Int32(hour)
        parts.tm_min = Int32(minute)
        parts.tm_sec = Int32(second)
        return Int(timegm(&parts)) - offset
    }

    /// `seconds` since the epoch as `2025-01-02T03:04:05Z` (UTC, whole seconds).
    public static func format(seconds: Int) -> String {
        let c = Timestamp.civil(seconds)
        return "\(Timestamp.pad(c.year, 4))-\(Timestamp.pad(c.month, 2))-\(Timestamp.pad(c.day, 2))T"
            + "\(Timestamp.pad(c.hour, 2)):\(Timestamp.pad(c.minute, 2)):\(Timestamp.pad(c.second, 2))Z"
    }

    /// The wall clock, seconds since the epoch.
    public static func now() -> Int {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int(ts.tv_sec)
    }
}
