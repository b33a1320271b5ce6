import FuzzSupport
import RolecallLanguage

#if canImport(Glibc)
    import Glibc
#endif

// The formatter's promise, on two kinds of file: the input bytes themselves (when they parse), and a valid rule
// file generated from them (``RuleWriter``, with `let`, `any`/`all`, `revoke all` and comments inside conditions and
// lists). Formatting keeps the AST (spans aside) and every comment, and is idempotent; a
// difference traps with both texts, so libFuzzer saves the input.
runFuzzer { data, size in
    let bytes = inputBytes(data, size)
    checkRoundTrip(SourceFile(path: "fuzz.rules", bytes: bytes))
    var writer = RuleWriter(bytes)
    let generated = writer.ruleSet()
    // FUZZ_SHOW=1 prints each generated file and whether it parses, to triage a reproducer.
    if getenv("FUZZ_SHOW") != nil {
        let errors = Parser.parse(SourceFile(path: "generated.rules", text: generated)).diagnostics.map(\.message)
        print("--- generated (errors: \(errors))\n\(generated)")
    }
    checkRoundTrip(SourceFile(path: "generated.rules", text: generated))
    return 0
}

/// The texts of the comments of `file`, sorted.
func commentTexts(_ file: SourceFile) -> [String] {
    var lexer = Lexer(file: file)
    while lexer.next().kind != .endOfFile {}
    return lexer.comments.map { file.text($0) }.sorted()
}

/// Formats `file`, then checks that the result parses cleanly to the same declarations (rules and `let`s), keeps
/// every comment, stays within the parser's limits, and formats to itself.
func checkRoundTrip(_ file: SourceFile) {
    let (declarations, diagnostics) = Parser.parseDeclarations(file)
    guard !diagnostics.contains(where: { $0.severity == .error }) else { return }
    let source = String(decoding: file.bytes, as: UTF8.self)
    guard case .success(let once) = Formatter.format(file) else {
        preconditionFailure("a file that parses was not formatted:\n\(source)")
    }
    let formatted = SourceFile(path: "formatted.rules", text: once)
    let reparsed = Parser.parseDeclarations(formatted)
    let errors = reparsed.diagnostics.filter { $0.severity == .error }.map(\.message)
    precondition(
        errors.isEmpty, "the formatted text has errors: \(errors)\n--- source\n\(source)\n--- formatted\n\(once)")
    precondition(
        reparsed.declarations == declarations,
        "formatting changed the rules:\n--- source\n\(source)\n--- formatted\n\(once)")
    precondition(
        commentTexts(formatted) == commentTexts(file),
        "formatting lost or changed a comment:\n--- source\n\(source)\n--- formatted\n\(once)")
    guard case .success(let twice) = Formatter.format(SourceFile(path: "formatted.rules", text: once)) else {
        preconditionFailure("the formatted text was not formatted:\n\(once)")
    }
    precondition(twice == once, "formatting is not idempotent:\n--- once\n\(once)\n--- twice\n\(twice)")
}
