import RolecallLanguage

/// Parses one in-memory file.
func parse(_ source: String, path: String = "test.rules") -> (rules: [Rule], diagnostics: [Diagnostic]) {
    Parser.parse(SourceFile(path: path, text: source))
}

/// Parses and checks one in-memory file.
func check(_ source: String, path: String = "test.rules") -> CheckedRuleSet {
    Checker.check([SourceFile(path: path, text: source)])
}

/// The condition of a one-rule source, printed canonically.
func printedCondition(_ condition: String) -> String {
    let (rules, diagnostics) = parse("when \(condition) assign \"r\"")
    guard diagnostics.isEmpty, let expr = rules.first?.condition else {
        return "error: " + diagnostics.map(\.message).joined(separator: "; ")
    }
    return ASTPrinter.print(expr)
}
