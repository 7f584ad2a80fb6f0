/// A filter expression that does not parse: where, and why.
///
/// `description` has containerd's shape, with the offending character marked:
/// `filters: parse error: [image~= >|,|< id?=?fbaq]: expected value or quoted`.
public struct FilterSyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
    public let input: String
    /// Byte offset into `input` (UTF-8) of the offending character; `input`'s length
    /// when the input ended too early.
    public let position: Int
    public let message: String

    public var description: String {
        let bytes = Array(input.utf8)
        guard position < bytes.count else { return "filters: parse error: [\(input)]: \(message)" }
        var end = position + 1
        while end < bytes.count, bytes[end] & 0xC0 == 0x80 { end += 1 } // the whole character
        let before = String(decoding: bytes[..<position], as: UTF8.self)
        let at = String(decoding: bytes[position..<end], as: UTF8.self)
        let after = String(decoding: bytes[end...], as: UTF8.self)
        return "filters: parse error: [\(before) >|\(at)|< \(after)]: \(message)"
    }
}

/// Parses containerd's filter grammar (its `filters/parser.go`):
///
///     selectors := selector ("," selector)*
///     selector  := fieldpath (operator value)?
///     fieldpath := field ("." field)*
///     field     := quoted | [A-Za-z0-9_-]+
///     operator  := "==" | "!=" | "~="
///     value     := quoted | [^\s,]+
///     quoted    := "..." with Go escapes; /.../ and |...| too, for ~= values only
struct FilterParser {
    private var scanner: FilterScanner
    private let input: String

    init(_ input: String) {
        self.input = input
        self.scanner = FilterScanner(input)
    }

    /// The selectors of one filter string, all of which must match.
    mutating func parse() throws(FilterSyntaxError) -> [FilterSelector] {
        var selectors = [try selector()]
        while true {
            switch scanner.peek() {
            case .scalar(","):
                _ = scanner.scan()
                selectors.append(try selector())
            case .eof:
                return selectors
            case let .scalar(c):
                throw fail(scanner.ppos, "unexpected input: \(Character(c))")
            case .illegal:
                throw fail(scanner.ppos, "unexpected input: \u{FFFD}")
            }
        }
    }

    private mutating func selector() throws(FilterSyntaxError) -> FilterSelector {
        let path = try fieldPath()
        switch scanner.peek() {
        case .scalar(","), .eof:
            return FilterSelector(path: path, op: .present, value: "")
        default:
            break
        }
        let op = try parseOperator()
        let (valuePosition, value) = try value(allowingRegexQuotes: op == .matches)
        var selector = FilterSelector(path: path, op: op, value: value)
        if op == .matches {
            do {
                selector.regex = try FilterRegex(value)
            } catch {
                throw fail(valuePosition, "invalid regular expression \"\(value)\": \(error)")
            }
        }
        return selector
    }

    private mutating func fieldPath() throws(FilterSyntaxError) -> [String] {
        var path = [try field()]
        while scanner.peek() == .scalar(".") {
            _ = scanner.scan()
            path.append(try field())
        }
        return path
    }

    private mutating func field() throws(FilterSyntaxError) -> String {
        let (pos, token, text) = scanner.scan()
        switch token {
        case .field: return text
        case .quoted: return try unquote(pos, text, allowingRegexQuotes: false)
        case .illegal: throw fail(pos, scanner.error)
        default: throw fail(pos, "expected field or quoted")
        }
    }

    private mutating func parseOperator() throws(FilterSyntaxError) -> FilterSelector.Operator {
        let (pos, token, text) = scanner.scan()
        switch token {
        case .operator:
            switch text {
            case "==": return .equal
            case "!=": return .notEqual
            case "~=": return .matches
            default: throw fail(pos, "unsupported operator \"\(text)\"")
            }
        case .illegal:
            throw fail(pos, scanner.error)
        default:
            throw fail(pos, #"expected an operator ("=="|"!="|"~=")"#)
        }
    }

    private mutating func value(allowingRegexQuotes: Bool) throws(FilterSyntaxError) -> (Int, String) {
        let (pos, token, text) = scanner.scan()
        switch token {
        case .value, .field: return (pos, text)
        case .quoted: return (pos, try unquote(pos, text, allowingRegexQuotes: allowingRegexQuotes, isValue: true))
        case .illegal: throw fail(pos, scanner.error)
        default: throw fail(pos, "expected value or quoted")
        }
    }

    private func unquote(_ pos: Int, _ text: String, allowingRegexQuotes: Bool, isValue: Bool = false) throws(FilterSyntaxError) -> String {
        let quote = text.unicodeScalars.first!
        if !allowingRegexQuotes && quote != "\"" && quote != "'" {
            // An unquoted value may not start with / or |: containerd reads them as quotes.
            let hint = isValue ? #" (a value that starts with \#(quote) must be in double quotes, as in topic=="/tasks/exit")"# : ""
            throw fail(pos, "invalid quote encountered" + hint)
        }
        guard let value = FilterQuoting.unquote(text) else {
            throw fail(pos, "unquoting failed: quote syntax error")
        }
        return value
    }

    private func fail(_ position: Int, _ message: String) -> FilterSyntaxError {
        FilterSyntaxError(input: input, position: position, message: message)
    }
}

/// Go's string unquoting, extended (as containerd's `filters/quote.go`) so that `/` and
/// `|` delimit literals like `"` does.
enum FilterQuoting {
    static func unquote(_ text: String) -> String? {
        let scalars = Array(text.unicodeScalars)
        guard scalars.count >= 2, let quote = scalars.first, quote == scalars.last,
              ["\"", "'", "/", "|"].contains(quote) else { return nil }
        var body = scalars[1..<(scalars.count - 1)]
        if body.contains("\n") { return nil }
        var out = String.UnicodeScalarView()
        while let c = body.first {
            body = body.dropFirst()
            if c == quote { return nil }
            guard c == "\\" else {
                out.append(c)
                continue
            }
            guard let e = body.first else { return nil }
            body = body.dropFirst()
            switch e {
            case "a": out.append("\u{07}")
            case "b": out.append("\u{08}")
            case "f": out.append("\u{0C}")
            case "n": out.append("\n")
            case "r": out.append("\r")
            case "t": out.append("\t")
            case "v": out.append("\u{0B}")
            case "\\": out.append("\\")
            case "x", "u", "U":
                let n = e == "x" ? 2 : e == "u" ? 4 : 8
                guard body.count >= n else { return nil }
                var v: UInt32 = 0
                for d in body.prefix(n) {
                    let digit = FilterScanner.digitValue(d)
                    guard digit < 16 else { return nil }
                    v = v << 4 | UInt32(digit)
                }
                body = body.dropFirst(n)
                guard let scalar = Unicode.Scalar(v) else { return nil }
                out.append(scalar)
            case "0"..."7":
                guard body.count >= 2 else { return nil }
                var v = e.value - 48
                for d in body.prefix(2) {
                    guard ("0"..."7").contains(d) else { return nil }
                    v = v << 3 | (d.value - 48)
                }
                body = body.dropFirst(2)
                guard v <= 255, let scalar = Unicode.Scalar(v) else { return nil }
                out.append(scalar)
            case "'", "\"", "|", "/":
                guard e == quote else { return nil }
                out.append(e)
            default:
                return nil
            }
        }
        if quote == "'" && out.count != 1 { return nil } // a Go rune literal: one character
        return String(out)
    }
}
