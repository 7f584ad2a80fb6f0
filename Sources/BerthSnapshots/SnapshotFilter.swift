import BerthAPI

/// One containerd filter over snapshots: selectors joined by `,` (all must match).
///
/// A selector is a field path, optionally with an operator and a value:
/// `kind==active`, `parent!=base`, `name~=^layer-`, `labels."com.example/x"==y`,
/// `labels.gc` (the label is present). Fields: `name`, `parent`, `kind`,
/// `labels.<key>`. Values may be "double-quoted" (with `\"` and `\\` escapes) to hold
/// `,` or spaces. Several filters are OR-ed by the caller.
struct SnapshotFilter: Sendable {
    enum Operator: Sendable { case present, equal, notEqual, matches }

    struct Selector: @unchecked Sendable {
        let field: [String]
        let op: Operator
        let value: String
        let regex: Regex<AnyRegexOutput>?
    }

    let selectors: [Selector]

    init(_ text: String) throws {
        var scanner = Scanner(Array(text.unicodeScalars))
        var selectors: [Selector] = []
        repeat {
            scanner.skipSpaces()
            var field = try scanner.fieldPath(text)
            if field[0] == "labels" && field.count > 2 { field = ["labels", field.dropFirst().joined(separator: ".")] }
            scanner.skipSpaces()
            var op = Operator.present
            var value = ""
            if let found = scanner.op() {
                op = found
                scanner.skipSpaces()
                value = try scanner.value(text)
            }
            guard ["name", "parent", "kind"].contains(field[0]) && field.count == 1 || field[0] == "labels" && field.count == 2 else {
                throw BerthError.invalidArgument("filter \"\(text)\": unknown field \"\(field.joined(separator: "."))\"; use name, parent, kind or labels.<key>")
            }
            var regex: Regex<AnyRegexOutput>?
            if op == .matches {
                do { regex = try Regex(value) } catch {
                    throw BerthError.invalidArgument("filter \"\(text)\": invalid regular expression \"\(value)\"")
                }
            }
            selectors.append(Selector(field: field, op: op, value: value, regex: regex))
            scanner.skipSpaces()
        } while scanner.consume(",")
        guard scanner.atEnd else { throw BerthError.invalidArgument("filter \"\(text)\": unexpected text at offset \(scanner.index)") }
        self.selectors = selectors
    }

    func matches(_ info: SnapshotInfo) -> Bool {
        selectors.allSatisfy { selector in
            let actual: String?
            switch selector.field[0] {
            case "name": actual = info.name
            case "parent": actual = info.parent
            case "kind": actual = info.kind.rawValue
            default: actual = info.labels[selector.field[1]]
            }
            switch selector.op {
            case .present: return actual != nil
            case .equal: return actual == selector.value
            case .notEqual: return actual != selector.value
            case .matches: return actual.map { (try? selector.regex!.firstMatch(in: $0)) != nil } ?? false
            }
        }
    }

    private struct Scanner {
        let scalars: [Unicode.Scalar]
        var index = 0

        init(_ scalars: [Unicode.Scalar]) { self.scalars = scalars }

        var atEnd: Bool { index >= scalars.count }
        var peek: Unicode.Scalar? { atEnd ? nil : scalars[index] }

        mutating func skipSpaces() { while peek == " " || peek == "\t" { index += 1 } }

        mutating func consume(_ s: String) -> Bool {
            let want = Array(s.unicodeScalars)
            guard index + want.count <= scalars.count, Array(scalars[index..<index + want.count]) == want else { return false }
            index += want.count
            return true
        }

        mutating func op() -> Operator? {
            if consume("==") { return .equal }
            if consume("!=") { return .notEqual }
            if consume("~=") { return .matches }
            return nil
        }

        mutating func fieldPath(_ text: String) throws -> [String] {
            var parts: [String] = []
            repeat {
                if peek == "\"" { parts.append(try quoted(text)) } else {
                    var part = ""
                    while let c = peek, c.properties.isAlphabetic || ("0"..."9").contains(c) || c == "_" || c == "-" || c == "/" {
                        part.unicodeScalars.append(c)
                        index += 1
                    }
                    guard !part.isEmpty else { throw BerthError.invalidArgument("filter \"\(text)\": expected a field name at offset \(index)") }
                    parts.append(part)
                }
            } while consume(".")
            return parts
        }

        mutating func value(_ text: String) throws -> String {
            if peek == "\"" { return try quoted(text) }
            var out = ""
            while let c = peek, c != "," { out.unicodeScalars.append(c); index += 1 }
            while out.hasSuffix(" ") { out.removeLast() }
            return out
        }

        mutating func quoted(_ text: String) throws -> String {
            index += 1
            var out = ""
            while let c = peek {
                index += 1
                if c == "\"" { return out }
                if c == "\\", let next = peek { out.unicodeScalars.append(next); index += 1; continue }
                out.unicodeScalars.append(c)
            }
            throw BerthError.invalidArgument("filter \"\(text)\": unterminated quoted string")
        }
    }
}
