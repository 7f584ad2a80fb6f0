import BerthAPI
import Testing

/// Expects `body` to fail with a `BerthError` of `kind` (and wire `code`, when given).
func expectError(_ kind: ErrorKind, code: Int? = nil, _ what: String,
                 sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> Void) async {
    do {
        try await body()
        Issue.record("\(what): succeeded; expected \(kind.rawValue)", sourceLocation: sourceLocation)
    } catch let error as BerthError {
        #expect(error.kind == kind, "\(what): got \(error.kind.rawValue) (\(error.message))", sourceLocation: sourceLocation)
        if let code { #expect(error.code == code, "\(what): code \(error.code) (\(error.message))", sourceLocation: sourceLocation) }
    } catch {
        Issue.record("\(what): \(error); expected a BerthError \(kind.rawValue)", sourceLocation: sourceLocation)
    }
}
