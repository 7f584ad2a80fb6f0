import BerthSystem
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Event timestamps: RFC 3339 in UTC with nanoseconds, without gmtime_r (whose first
/// call loads the local time zone).
@Suite struct TimestampTests {
    @Test func timestampsAreRFC3339WithNanoseconds() {
        #expect(Timestamp.format(seconds: 0, nanoseconds: 5) == "1970-01-01T00:00:00.000000005Z")
        #expect(Timestamp.format(seconds: 1_795_000_000, nanoseconds: 123_456_789) == "2026-11-18T11:06:40.123456789Z")
    }

    @Test("timestamps agree with strftime's, and years outside 0–9999 keep their digits")
    func timestampsMatchStrftime() {
        var random = SystemRandomNumberGenerator()
        var cases = [(0, 0), (253_402_300_799, 999_999_999), (951_782_400, 1)]
        for _ in 0..<20_000 {
            cases.append((Int.random(in: 0...253_402_300_799, using: &random), Int.random(in: 0..<1_000_000_000, using: &random)))
        }
        for (s, ns) in cases {
            var t = time_t(s)
            var parts = tm()
            gmtime_r(&t, &parts)
            var text = [CChar](repeating: 0, count: 64)
            let n = strftime(&text, text.count, "%Y-%m-%dT%H:%M:%S", &parts)
            let head = String(decoding: text[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            let fraction = String(ns)
            let expected = head + "." + String(repeating: "0", count: 9 - fraction.count) + fraction + "Z"
            guard Timestamp.format(seconds: s, nanoseconds: ns) == expected else {
                Issue.record("\(s).\(ns): \(Timestamp.format(seconds: s, nanoseconds: ns)) against \(expected)")
                return
            }
        }
        #expect(Timestamp.format(seconds: 253_402_300_800, nanoseconds: 7) == "10000-01-01T00:00:00.000000007Z")
    }

    @Test("the UTC calendar arithmetic agrees with gmtime_r, leap days and centuries included")
    func civilTimeMatchesGmtime() {
        var seconds = [-86_401, -86_400, -1, 0, 951_782_399, 951_782_400, 4_107_542_400, 4_107_542_399, 13_569_465_600]
        var random = SystemRandomNumberGenerator()
        for _ in 0..<20_000 { seconds.append(Int.random(in: -5_000_000_000...15_000_000_000, using: &random)) }
        for s in seconds {
            var t = time_t(s)
            var parts = tm()
            gmtime_r(&t, &parts)
            let c = Timestamp.civil(s)
            let expected = (Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday),
                            Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec))
            guard c == expected else {
                Issue.record("\(s): \(c) against gmtime_r's \(expected)")
                return
            }
        }
    }
}
