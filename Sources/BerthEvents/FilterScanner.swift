/// The tokenizer of containerd's filter syntax (its `filters/scanner.go`), with the same
/// tokens, byte positions and error texts, so filters that work with `ctr` work here and
/// errors point at the same place.
///
/// Positions are byte offsets into the UTF-8 input.
struct FilterScanner {
    /// One unit read from the input.
    enum Rune: Equatable {
        case eof
        case illegal
        case scalar(Unicode.Scalar)

        func `is`(_ c: Unicode.Scalar) -> Bool { self == .scalar(c) }
    }

    enum Token: Equatable {
        case eof
        case illegal
        case quoted
        case value
        case field
        case separator
        case `operator`
        /// Any other character, returned as itself.
        case other(Unicode.Scalar)
    }

    let input: [UInt8]
    /// Start of the rune read last.
    private(set) var pos = 0
    /// End of the rune read last: where the next one starts.
    private(set) var ppos = 0
    /// After an operator the next word is a value, which may hold more characters.
    private var expectingValue = false
    /// The first error met, for an `illegal` token.
    private(set) var error = ""

    init(_ input: String) {
        self.input = Array(input.utf8)
    }

    // MARK: runes

    mutating func next() -> Rune {
        if pos >= input.count { return .eof }
        pos = ppos
        guard ppos < input.count else { return .eof }
        guard let (scalar, width) = decodeScalar(at: ppos) else {
            ppos += 1
            setError("rune error")
            return .illegal
        }
        ppos += width
        if scalar.value == 0 {
            setError("unexpected null")
            return .illegal
        }
        return .scalar(scalar)
    }

    mutating func peek() -> Rune {
        let (savedPos, savedPPos) = (pos, ppos)
        defer { (pos, ppos) = (savedPos, savedPPos) }
        return next()
    }

    private func decodeScalar(at index: Int) -> (Unicode.Scalar, Int)? {
        var iterator = input[index...].makeIterator()
        var decoder = UTF8()
        switch decoder.decode(&iterator) {
        case let .scalarValue(scalar): return (scalar, UTF8.width(scalar))
        case .emptyInput, .error: return nil
        }
    }

    private mutating func setError(_ message: String) {
        if error.isEmpty { error = message }
    }

    func text(_ range: Range<Int>) -> String {
        String(decoding: input[range], as: UTF8.self)
    }

    // MARK: tokens

    mutating func scan() -> (pos: Int, token: Token, text: String) {
        var ch = next()
        var start = pos
        while true {
            guard case let .scalar(c) = ch else {
                return (pos, ch == .eof ? .eof : .illegal, "")
            }
            if Self.isQuote(c) {
                let ok = scanQuoted(c)
                return (start, ok ? .quoted : .illegal, text(start..<ppos))
            }
            if Self.isSeparator(c) {
                expectingValue = false
                return (start, .separator, text(start..<ppos))
            }
            if Self.isOperator(c) {
                scanWhile(Self.isOperator)
                expectingValue = true
                return (start, .operator, text(start..<ppos))
            }
            if c.properties.isWhitespace {
                ch = next()
                start = pos
                continue
            }
            if expectingValue {
                scanWhile(Self.isValue)
                expectingValue = false
                return (start, .value, text(start..<ppos))
            }
            if Self.isField(c) {
                scanWhile(Self.isField)
                return (start, .field, text(start..<ppos))
            }
            return (pos, .other(c), "")
        }
    }

    private mutating func scanWhile(_ accept: (Unicode.Scalar) -> Bool) {
        while case let .scalar(c) = peek(), accept(c) {
            _ = next()
        }
    }

    /// Reads up to and including the closing `quote`; false if the literal is not
    /// terminated or holds an illegal escape.
    private mutating func scanQuoted(_ quote: Unicode.Scalar) -> Bool {
        var illegal = false
        var ch = next()
        while ch != .scalar(quote) {
            guard case let .scalar(c) = ch, c != "\n" else {
                setError("quoted literal not terminated")
                return false
            }
            if c == "\\" {
                let legal: Bool
                (ch, legal) = scanEscape(quote)
                if !legal { illegal = true }
            } else {
                ch = next()
            }
        }
        return !illegal
    }

    private mutating func scanEscape(_ quote: Unicode.Scalar) -> (Rune, Bool) {
        let ch = next()
        guard case let .scalar(c) = ch else {
            setError("illegal escape sequence")
            return (ch, false)
        }
        switch c {
        case "a", "b", "f", "n", "r", "t", "v", "\\", quote:
            return (next(), true)
        case "0"..."7":
            return scanDigits(ch, base: 8, count: 3)
        case "x":
            return scanDigits(next(), base: 16, count: 2)
        case "u":
            return scanDigits(next(), base: 16, count: 4)
        case "U":
            return scanDigits(next(), base: 16, count: 8)
        default:
            setError("illegal escape sequence")
            return (ch, false)
        }
    }

    private mutating func scanDigits(_ first: Rune, base: Int, count: Int) -> (Rune, Bool) {
        var ch = first
        var n = count
        while n > 0, case let .scalar(c) = ch, Self.digitValue(c) < base {
            ch = next()
            n -= 1
        }
        if n > 0 {
            setError("illegal numeric escape sequence")
            return (ch, false)
        }
        return (ch, true)
    }

    // MARK: classes

    static func digitValue(_ c: Unicode.Scalar) -> Int {
        switch c {
        case "0"..."9": Int(c.value - 48)
        case "a"..."f": Int(c.value - 97 + 10)
        case "A"..."F": Int(c.value - 65 + 10)
        default: 16
        }
    }

    static func isField(_ c: Unicode.Scalar) -> Bool {
        switch c {
        case "-", "_", "A"..."Z", "a"..."z", "0"..."9": true
        default: false
        }
    }

    static func isOperator(_ c: Unicode.Scalar) -> Bool { c == "=" || c == "!" || c == "~" }

    /// `"` quotes anything; `/` and `|` quote regular expressions.
    static func isQuote(_ c: Unicode.Scalar) -> Bool { c == "/" || c == "|" || c == "\"" }

    static func isSeparator(_ c: Unicode.Scalar) -> Bool { c == "," || c == "." }

    /// Anything printable but `,` and white space.
    static func isValue(_ c: Unicode.Scalar) -> Bool {
        if c == "," || c.properties.isWhitespace { return false }
        switch c.properties.generalCategory {
        case .control, .format, .surrogate, .privateUse, .unassigned, .lineSeparator, .paragraphSeparator: return false
        default: return true
        }
    }
}
