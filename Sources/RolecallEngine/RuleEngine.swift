import RolecallLanguage

/// The rule set could not be compiled; ``diagnostics`` says why (errors and warnings, sorted).
public struct CompileFailure: Error, Sendable {
    /// Every diagnostic, errors first within each position.
    public var diagnostics: [Diagnostic]
}

/// The front door for embedding: source text in, ``Program`` out, then ``Evaluator`` per thread.
///
/// ```swift
/// let program = try RuleEngine.compile(source: #"rule "first" when logins_count == 1 assign "member""#)
/// let evaluator = Evaluator(program: program)
/// let decision = try evaluator.evaluate(Array(eventJSON.utf8))
/// ```
public enum RuleEngine {
    /// Parses, checks and compiles rule files (in order). Returns the program, or nil when any diagnostic is an
    /// error, and every diagnostic either way.
    public static func compile(_ files: [SourceFile]) -> (program: Program?, diagnostics: [Diagnostic]) {
        let checked = Checker.check(files)
        return (checked.hasErrors ? nil : Program(checked), checked.diagnostics)
    }

    /// Compiles one rule file's text, throwing ``CompileFailure`` when it has errors (warnings are dropped).
    public static func compile(source: String, path: String = "<rules>") throws(CompileFailure) -> Program {
        let (program, diagnostics) = compile([SourceFile(path: path, text: source)])
        guard let program else { throw CompileFailure(diagnostics: diagnostics) }
        return program
    }
}
