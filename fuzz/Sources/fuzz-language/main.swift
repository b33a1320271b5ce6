import FuzzSupport
import RolecallEngine
import RolecallLanguage

#if canImport(Glibc)
    import Glibc
#endif

// Arbitrary bytes as one rule file, through the lexer, the parser and the checker (with its lints); when the
// file compiles, the program is also built and run on one fixed event, with and without --explain, so that the
// passes after checking (lowering, evaluation, tracing) see every shape of rule too. Any diagnostic is a fine
// answer; a crash, a hang or a memory error is the finding.
runFuzzer { data, size in
    let file = SourceFile(path: "fuzz.rules", bytes: inputBytes(data, size))
    _ = Parser.parse(file)
    let checked = Checker.check([file])
    _ = checked.diagnostics.map(\.message)
    guard !checked.hasErrors else { return 0 }
    let evaluator = Evaluator(program: Program(checked))
    evaluator.now = FixedRules.clock
    let decision = try? evaluator.evaluate(LanguageFixture.event)
    let explanation = try? evaluator.explain(LanguageFixture.event)
    precondition(
        explanation?.decision == decision,
        "--explain decided differently: \(explanation?.decision.json ?? "error") \(decision?.json ?? "error")")
    _ = explanation?.text
    return 0
}
