import BerthAPI

/// Prints rows as aligned columns, as ctr's tabwriter output.
func printTable(_ header: [String], _ rows: [[String]]) {
    var widths = header.map(\.count)
    for row in rows {
        for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) }
    }
    for row in [header] + rows {
        var line = ""
        for (i, cell) in row.enumerated() {
            let last = i == row.count - 1
            line += last ? cell : cell + String(repeating: " ", count: widths[i] - cell.count + 4)
        }
        print(line)
    }
}

/// Prints a value as pretty JSON (sorted keys), one document.
func printJSON(_ value: some Encodable) throws {
    print(String(decoding: try PrettyJSON.encode(value), as: UTF8.self))
}

/// Labels as ctr shows them: `k=v,k2=v2`, sorted.
func formatLabels(_ labels: [String: String]) -> String {
    labels.keys.sorted().map { "\($0)=\(labels[$0]!)" }.joined(separator: ",")
}
