import BerthAPI
@testable import BerthEvents
import Testing

/// containerd's filter table (filters/filter_test.go), same corpus, inputs, matches and
/// error texts; then what the event adaptor adds.
@Suite struct FilterTests {
    struct Entry: FilterAdaptor, Equatable {
        var name = ""
        var other = ""
        var labels: [String: String] = [:]

        func filterField(_ path: ArraySlice<String>) -> String? {
            switch path.first {
            case "name": return name.isEmpty ? nil : name
            case "other": return other.isEmpty ? nil : other
            case "labels": return labels[path.dropFirst().joined(separator: ".")]
            default: return nil
            }
        }
    }

    static let corpus: [Entry] = [
        Entry(name: "foo", labels: ["foo": "true"]),
        Entry(name: "bar"),
        Entry(name: "foo", labels: ["foo": "present", "more complex label": "present"]),
        Entry(name: "bar", labels: ["bar": "true"]),
        Entry(name: "fooer", labels: [#"more complex label with \ and ""#: "present"]),
        Entry(name: "fooer", labels: [#"more complex label with \ and ".post"#: "present"]),
        Entry(name: "baz", other: "too complex, yo"),
        Entry(name: "bazo", other: "abc"),
        Entry(name: "compound", labels: ["foo": "omg_asdf.asdf-qwer"]),
    ]

    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        let input: String
        var expected: [Int] = []
        var error: String?
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "Empty", input: "", expected: Array(0..<9)),
        Case(name: "Present", input: "name", expected: Array(0..<9)),
        Case(name: "LabelPresent", input: "labels.foo", expected: [0, 2, 8]),
        Case(name: "NameAndLabelPresent", input: "labels.foo,name", expected: [0, 2, 8]),
        Case(name: "LabelValue", input: "labels.foo==true", expected: [0]),
        Case(name: "LabelValuePunctuated", input: "labels.foo==omg_asdf.asdf-qwer", expected: [8]),
        Case(name: "LabelValueNoAltQuoting", input: "labels.|foo|==omg_asdf.asdf-qwer",
             error: "filters: parse error: [labels. >|||< foo|==omg_asdf.asdf-qwer]: invalid quote encountered"),
        Case(name: "Name", input: "name==bar", expected: [1, 3]),
        Case(name: "NameNotEqual", input: "name!=bar", expected: [0, 2, 4, 5, 6, 7, 8]),
        Case(name: "NameAndLabelPresent2", input: "name==bar,labels.bar", expected: [3]),
        Case(name: "QuotedValue", input: #"other=="too complex, yo""#, expected: [6]),
        Case(name: "RegexpValue", input: "other~=[abc]+,name!=foo", expected: [6, 7]),
        Case(name: "RegexpQuotedValue", input: "other~=/[abc]+/,name!=foo", expected: [6, 7]),
        Case(name: "RegexpQuotedValue2", input: "other~=/[abc]{1,2}/,name!=foo", expected: [6, 7]),
        Case(name: "RegexpQuotedValueGarbage", input: #"other~=/[abc]{0,1}"\//,name!=foo"#, expected: []),
        Case(name: "NameAndLabelValue", input: "name==bar,labels.bar==true", expected: [3]),
        Case(name: "NameAndLabelValueNoMatch", input: "name==bar,labels.bar==wrong", expected: []),
        Case(name: "LabelQuotedFieldPathPresent", input: #"name==foo,labels."more complex label""#, expected: [2]),
        Case(name: "LabelQuotedFieldPathPresentWithQuoted", input: #"labels."more complex label with \\ and \""==present"#, expected: [4]),
        Case(name: "LabelQuotedFieldPathPresentWithQuotedEmbed", input: #"labels."more complex label with \\ and \"".post==present"#, expected: [5]),
        Case(name: "LabelQuotedFieldPathPresentWithQuotedEmbedInvalid", input: #"labels.?"more complex label with \\ and \"".post==present"#,
             error: #"filters: parse error: [labels. >|?|< "more complex label with \\ and \"".post==present]: expected field or quoted"#),
        Case(name: "TrailingComma", input: "name==foo,", error: "filters: parse error: [name==foo,]: expected field or quoted"),
        Case(name: "TrailingFieldSeparator", input: "labels.", error: "filters: parse error: [labels.]: expected field or quoted"),
        Case(name: "MissingValue", input: "image~=,id?=?fbaq",
             error: "filters: parse error: [image~= >|,|< id?=?fbaq]: expected value or quoted"),
        Case(name: "FieldQuotedLiteralNotTerminated", input: "labels.ns/key==value",
             error: "filters: parse error: [labels.ns >|/|< key==value]: quoted literal not terminated"),
        Case(name: "ValueQuotedLiteralNotTerminated", input: "labels.key==/value",
             error: "filters: parse error: [labels.key== >|/|< value]: quoted literal not terminated"),
    ]

    @Test(arguments: cases)
    func containerdTable(_ c: Case) throws {
        if let expected = c.error {
            var parser = FilterParser(c.input)
            do {
                _ = try parser.parse()
                Issue.record("\(c.input) parsed")
            } catch {
                #expect(error.description == expected)
            }
            return
        }
        let filter = try EventFilter(parsing: [c.input])
        let matched = Self.corpus.indices.filter { filter.matches(Self.corpus[$0]) }
        #expect(matched == c.expected, "\(c.input)")
    }

    // MARK: beyond the table

    @Test func severalStringsAreOr() throws {
        let filter = try EventFilter(parsing: ["name==bar,labels.bar", "other==abc"])
        #expect(Self.corpus.indices.filter { filter.matches(Self.corpus[$0]) } == [3, 7])
    }

    @Test func noStringsOrAnEmptyOneMatchEverything() throws {
        #expect(try EventFilter(parsing: []).matchesEverything)
        #expect(try EventFilter(parsing: ["name==nothing", ""]).matchesEverything)
    }

    @Test func theFailingStringAndItsPositionAreNamed() {
        do {
            _ = try EventFilter(parsing: ["name==foo", "image~=,id"])
            Issue.record("parsed")
        } catch {
            #expect(error.index == 1 && error.syntax.position == 7)
            #expect(error.description == "filters[1]: parse error at byte 7: [image~= >|,|< id]: expected value or quoted")
        }
    }

    @Test(arguments: [
        ("name==a b", 7, "unexpected input"),
        ("name<>a", 4, "expected an operator"),
        ("name=a", 4, "unsupported operator \"=\""),
        ("name===a", 4, "unsupported operator \"===\""),
        ("name==\"a", 6, "quoted literal not terminated"),
        (#"name==/a/"#, 6, "invalid quote encountered"),
        ("name~=[", 6, "invalid regular expression"),
        ("name~=\"\\q\"", 6, "illegal escape sequence"),
        ("\"a\\x4\"==b", 0, "illegal numeric escape sequence"),
        ("==a", 0, "expected field or quoted"),
        (",", 0, "expected field or quoted"),
        ("a,,b", 2, "expected field or quoted"),
    ])
    func malformedFiltersAreRejectedAtTheirPosition(_ input: String, _ position: Int, _ text: String) {
        do {
            _ = try EventFilter(parsing: [input])
            Issue.record("\(input) parsed")
        } catch {
            #expect(error.syntax.position == position, "\(input): \(error)")
            #expect(error.syntax.message.contains(text), "\(input): \(error)")
        }
    }

    @Test func quotedValuesUnescapeLikeGo() throws {
        let entry = Entry(name: "a\"b\\c\td牛")
        #expect(try EventFilter(parsing: [#"name=="a\"b\\c\td\u725b""#]).matches(entry))
        #expect(try EventFilter(parsing: [#"name=="a\"b\\c\x09d\U0000725b""#]).matches(entry))
        #expect(try EventFilter(parsing: [#"name=="a\"b\\c\011d牛""#]).matches(entry))
    }

    @Test func notEqualAndRegexSeeAnAbsentFieldAsEmpty() throws {
        let bare = Entry(name: "x")
        #expect(try EventFilter(parsing: ["other!=abc"]).matches(bare))
        #expect(try !EventFilter(parsing: ["other==abc"]).matches(bare))
        #expect(try EventFilter(parsing: ["other~=^$"]).matches(bare))
        #expect(try !EventFilter(parsing: ["other"]).matches(bare))
    }

    // MARK: events

    static func record(_ topic: String, _ namespace: String, _ payload: String) -> EventRecord {
        EventRecord(seq: 7, timestamp: "2026-11-25T00:00:00.000000000Z", namespace: namespace, topic: topic, payloadJSON: Array(payload.utf8))
    }

    @Test func eventFieldsTopicNamespaceAndPayload() throws {
        let exit = Self.record("/tasks/exit", "k8s.io",
                               #"{"containerID":"web","exitStatus":137,"exitedAt":"t","id":"web","pid":42,"labels":{"io.kubernetes.pod":"p1"},"ok":true,"empty":""}"#)
        func m(_ f: String...) throws -> Bool { try EventFilter(parsing: f).matches(exit) }
        #expect(try m(#"topic=="/tasks/exit""#))
        #expect(try m(#"topic~=^/tasks/"#))
        #expect(try m(#"topic~=/^\/tasks\/(exit|oom)$/"#))
        #expect(try !m(#"topic=="/tasks/start""#))
        #expect(try m("namespace==k8s.io"))
        #expect(try m("namespace==default", #"topic=="/tasks/exit""#))
        #expect(try !m(#"namespace==default,topic=="/tasks/exit""#))
        #expect(try m("payload.containerID==web"))
        #expect(try m("event.containerID==web")) // containerd's name for the payload
        #expect(try m("payload.exitStatus==137,payload.pid==42"))
        #expect(try m("payload.ok==true"))
        #expect(try m("payload.labels.io.kubernetes.pod==p1"))
        #expect(try m(#"payload.labels."io.kubernetes.pod"==p1"#))
        #expect(try m("payload.pid"))
        #expect(try !m("payload.empty"))
        #expect(try !m("payload.missing"))
        #expect(try m("payload.missing!=x"))
        #expect(try !m("seq==7"))
    }

    @Test func aTopicValueMustBeDoubleQuoted() {
        do {
            _ = try EventFilter(parsing: ["topic==/tasks/exit"])
            Issue.record("parsed")
        } catch {
            #expect(error.syntax.message.hasPrefix("invalid quote encountered"))
            #expect(error.syntax.message.contains("double quotes"))
        }
    }
}

@Suite struct AnyJSONTests {
    @Test func everyKindOfValueRoundTrips() throws {
        let text = #"{"a":null,"b":true,"c":-5,"d":18446744073709551615,"e":1.5,"f":"s","g":[1,"x",{"h":[]}],"i":{},"j":false,"k":0}"#
        let value = try WireJSON.decode(AnyJSON.self, from: Array(text.utf8))
        #expect(value == .object([
            "a": .null, "b": .bool(true), "c": .integer(-5), "d": .unsigned(.max), "e": .number(1.5), "f": .string("s"),
            "g": .array([.integer(1), .string("x"), .object(["h": .array([])])]), "i": .object([:]), "j": .bool(false), "k": .integer(0),
        ]))
        #expect(try WireJSON.decode(AnyJSON.self, from: WireJSON.encode(value)) == value)
        #expect(try WireJSON.decode(AnyJSON.self, from: Array("[]".utf8)) == .array([]))
        #expect(try WireJSON.decode(AnyJSON.self, from: Array("\"x\"".utf8)) == .string("x"))
    }
}
