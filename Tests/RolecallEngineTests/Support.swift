import RolecallEngine
import RolecallLanguage
import Testing

/// Compiles `source`, failing the test on any error.
func compile(_ source: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> Program {
    do {
        return try RuleEngine.compile(source: source, path: "t.rules")
    } catch {
        Issue.record("rules did not compile: \(error.diagnostics.map(\.message))", sourceLocation: sourceLocation)
        throw error
    }
}

/// Evaluates `source` on `event` (JSON text).
func decide(_ source: String, _ event: String) throws -> Decision {
    try Evaluator(program: try compile(source)).evaluate(Array(event.utf8))
}

/// The JSON error `event` raises under a rule that reads `user.email`, or nil if it is accepted.
func rejection(_ event: [UInt8], rules: String = "when user.email == \"x\" assign \"r\"") throws -> JSONError? {
    let evaluator = Evaluator(program: try compile(rules))
    do {
        _ = try evaluator.evaluate(event)
        return nil
    } catch {
        return error
    }
}
