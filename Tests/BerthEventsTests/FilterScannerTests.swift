@testable import BerthEvents
import Testing

/// containerd's scanner table (filters/scanner_test.go), token for token.
@Suite struct FilterScannerTests {
    typealias T = FilterScanner.Token

    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        let input: String
        let tokens: [(Int, T, String)]
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "Field", input: "name", tokens: [(0, .field, "name"), (4, .eof, "")]),
        Case(name: "SelectorsWithOperators", input: "name==value,foo!=bar", tokens: [
            (0, .field, "name"), (4, .operator, "=="), (6, .value, "value"), (11, .separator, ","),
            (12, .field, "foo"), (15, .operator, "!="), (17, .value, "bar"), (20, .eof, ""),
        ]),
        Case(name: "SelectorsWithFieldPaths", input: "name==value,labels.foo=value,other.bar~=match", tokens: [
            (0, .field, "name"), (4, .operator, "=="), (6, .value, "value"), (11, .separator, ","),
            (12, .field, "labels"), (18, .separator, "."), (19, .field, "foo"), (22, .operator, "="),
            (23, .value, "value"), (28, .separator, ","), (29, .field, "other"), (34, .separator, "."),
            (35, .field, "bar"), (38, .operator, "~="), (40, .value, "match"), (45, .eof, ""),
        ]),
        Case(name: "RegexpValue", input: "name~=[abc]+,foo=test", tokens: [
            (0, .field, "name"), (4, .operator, "~="), (6, .value, "[abc]+"), (12, .separator, ","),
            (13, .field, "foo"), (16, .operator, "="), (17, .value, "test"), (21, .eof, ""),
        ]),
        Case(name: "RegexpEscapedValue", input: #"name~=[abc]\+,foo=test"#, tokens: [
            (0, .field, "name"), (4, .operator, "~="), (6, .value, #"[abc]\+"#), (13, .separator, ","),
            (14, .field, "foo"), (17, .operator, "="), (18, .value, "test"), (22, .eof, ""),
        ]),
        Case(name: "RegexpQuotedValue", input: "name~=/[abc]{0,2}/,foo=test", tokens: [
            (0, .field, "name"), (4, .operator, "~="), (6, .quoted, "/[abc]{0,2}/"), (18, .separator, ","),
            (19, .field, "foo"), (22, .operator, "="), (23, .value, "test"), (27, .eof, ""),
        ]),
        Case(name: "Cowsay", input: "name~=牛,labels.moo=true", tokens: [
            (0, .field, "name"), (4, .operator, "~="), (6, .value, "牛"), (9, .separator, ","),
            (10, .field, "labels"), (16, .separator, "."), (17, .field, "moo"), (20, .operator, "="),
            (21, .value, "true"), (25, .eof, ""),
        ]),
        Case(name: "CowsayRegexpQuoted", input: "name~=|牛|,labels.moo=true", tokens: [
            (0, .field, "name"), (4, .operator, "~="), (6, .quoted, "|牛|"), (11, .separator, ","),
            (12, .field, "labels"), (18, .separator, "."), (19, .field, "moo"), (22, .operator, "="),
            (23, .value, "true"), (27, .eof, ""),
        ]),
        Case(name: "Escapes", input: #"name~="asdf\n\tfooo""#, tokens: [
            (0, .field, "name"), (4, .operator, "~="), (6, .quoted, #""asdf\n\tfooo""#), (20, .eof, ""),
        ]),
        Case(name: "NullInput", input: "foo\u{0}bar", tokens: [
            (0, .field, "foo"), (3, .illegal, ""), (4, .field, "bar"), (7, .eof, ""),
        ]),
        Case(name: "SpacesChomped", input: "foo = bar    ", tokens: [
            (0, .field, "foo"), (4, .operator, "="), (6, .value, "bar"), (13, .eof, ""),
        ]),
        Case(name: "ValuesPunctuated", input: "compound.labels==punctuated_value.foo-bar", tokens: [
            (0, .field, "compound"), (8, .separator, "."), (9, .field, "labels"), (15, .operator, "=="),
            (17, .value, "punctuated_value.foo-bar"), (41, .eof, ""),
        ]),
        Case(name: "PartialInput", input: "interrupted=", tokens: [
            (0, .field, "interrupted"), (11, .operator, "="), (12, .eof, ""),
        ]),
        Case(name: "DoubleValue", input: "doublevalue=value value", tokens: [
            (0, .field, "doublevalue"), (11, .operator, "="), (12, .value, "value"), (18, .field, "value"), (23, .eof, ""),
        ]),
        Case(name: "LeadingWithQuoted", input: #""leading quote".postquote==value"#, tokens: [
            (0, .quoted, #""leading quote""#), (15, .separator, "."), (16, .field, "postquote"),
            (25, .operator, "=="), (27, .value, "value"), (32, .eof, ""),
        ]),
        Case(name: "MissingValue", input: "input==,id!=ff", tokens: [
            (0, .field, "input"), (5, .operator, "=="), (7, .separator, ","), (8, .field, "id"),
            (10, .operator, "!="), (12, .value, "ff"), (14, .eof, ""),
        ]),
        Case(name: "QuotedRegexp", input: #"input~=/foo\/bar/,id!=ff"#, tokens: [
            (0, .field, "input"), (5, .operator, "~="), (7, .quoted, #"/foo\/bar/"#), (17, .separator, ","),
            (18, .field, "id"), (20, .operator, "!="), (22, .value, "ff"), (24, .eof, ""),
        ]),
        Case(name: "QuotedRegexpAlt", input: "input~=|foo/bar|,id!=ff", tokens: [
            (0, .field, "input"), (5, .operator, "~="), (7, .quoted, "|foo/bar|"), (16, .separator, ","),
            (17, .field, "id"), (19, .operator, "!="), (21, .value, "ff"), (23, .eof, ""),
        ]),
    ]

    @Test(arguments: cases)
    func tokens(_ c: Case) {
        var scanner = FilterScanner(c.input)
        for (i, expected) in c.tokens.enumerated() {
            let got = scanner.scan()
            #expect(got.pos == expected.0 && got.token == expected.1 && got.text == expected.2,
                    "token \(i): got (\(got.pos), \(got.token), \(got.text)), want \(expected)")
        }
        #expect(scanner.scan().token == .eof, "must consume all input")
    }

    @Test func anUnterminatedQuoteIsIllegal() {
        var scanner = FilterScanner("a==\"open")
        _ = scanner.scan()
        _ = scanner.scan()
        let got = scanner.scan()
        #expect(got.token == .illegal && got.pos == 3)
        #expect(scanner.error == "quoted literal not terminated")
    }

    @Test func anIllegalEscapeIsIllegal() {
        var scanner = FilterScanner(#"a~=/\d+/"#)
        _ = scanner.scan()
        _ = scanner.scan()
        #expect(scanner.scan().token == .illegal)
        #expect(scanner.error == "illegal escape sequence")
    }
}
