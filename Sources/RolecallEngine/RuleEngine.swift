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
    ///
    /// Each rule is compiled as soon as it is checked, while it is in the processor's caches (see
    /// ``Checker/check(_:each:)``): the program is the one `Program(Checker.check(files))` builds.
    public static func compile(_ files: [SourceFile]) -> (program: Program?, diagnostics: [Diagnostic]) {
        // Rules are at most one a line in most rule sets: room for that many.
        var compilation = Program.Compilation(capacity: files.reduce(0) { $0 + $1.lineCount })
        let diagnostics = Checker.check(files) { compilation.add($0) }
        let hasErrors = diagnostics.contains { $0.severity == .error }
        return (hasErrors ? nil : Program(compilation), diagnostics)
    }

    /// Compiles one rule file's text, throwing ``CompileFailure`` when it has errors (warnings are dropped).
    public static func compile(source: String, path: String = "<rules>") throws(CompileFailure) -> Program {
        let (program, diagnostics) = compile([SourceFile(path: path, text: source)])
        guard let program else { throw CompileFailure(diagnostics: diagnostics) }
        return program
    }
}
