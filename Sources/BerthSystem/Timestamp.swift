#if canImport(Glibc)
import Glibc
#endif

/// RFC 3339 timestamps with nanoseconds, in UTC: what the wire, the store, the events
/// and the runtime's state all carry (`2026-11-25T18:11:21.369640638Z`).
public enum Timestamp {
    public static func now() -> String {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return format(seconds: Int(ts.tv_sec), nanoseconds: Int(ts.tv_nsec))
    }

    /// `2026-11-26T15:04:05.123456789Z`. Written digit by digit into one string: every
    /// event's envelope has one, and the padded pieces joined cost ~5% of berthd's work
    /// per shim event.
    public static func format(seconds: Int, nanoseconds: Int) -> String {
        let c = civil(seconds)
        guard (0...9999).contains(c.year), (0..<1_000_000_000).contains(nanoseconds) else {
            return "\(pad(c.year, 4))-\(pad(c.month, 2))-\(pad(c.day, 2))T"
                + "\(pad(c.hour, 2)):\(pad(c.minute, 2)):\(pad(c.second, 2)).\(pad(nanoseconds, 9))Z"
        }
        return String(unsafeUninitializedCapacity: 30) { buffer in
            var at = 0
            func digits(_ value: Int, _ width: Int, then separator: UInt8) {
                var n = value
                for i in stride(from: at + width - 1, through: at, by: -1) {
                    buffer[i] = UInt8(truncatingIfNeeded: 48 + n % 10)
                    n /= 10
                }
                buffer[at + width] = separator
                at += width + 1
            }
            digits(c.year, 4, then: UInt8(ascii: "-"))
            digits(c.month, 2, then: UInt8(ascii: "-"))
            digits(c.day, 2, then: UInt8(ascii: "T"))
            digits(c.hour, 2, then: UInt8(ascii: ":"))
            digits(c.minute, 2, then: UInt8(ascii: ":"))
            digits(c.second, 2, then: UInt8(ascii: "."))
            digits(nanoseconds, 9, then: UInt8(ascii: "Z"))
            return at
        }
    }

    /// `seconds` since the epoch as a UTC date and time: gmtime_r's answer, by hand
    /// (Howard Hinnant's civil_from_days). glibc's first gmtime_r in a process loads the
    /// local time zone (/etc/localtime), which UTC does not need: ~0.1 ms in each
    /// runtime and init process here.
    public static func civil(_ seconds: Int) -> (year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int) {
        let days = seconds >= 0 ? seconds / 86400 : (seconds - 86399) / 86400
        let secondOfDay = seconds - days * 86400
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, dayOfYear - (153 * mp + 2) / 5 + 1,
                secondOfDay / 3600, secondOfDay / 60 % 60, secondOfDay % 60)
    }

    /// `n` in decimal, zero-padded to `width` digits.
    public static func pad(_ n: Int, _ width: Int) -> String {
        let s = String(n)
        return String(repeating: "0", count: max(0, width - s.count)) + s
    }
}
