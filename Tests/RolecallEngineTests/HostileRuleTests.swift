import RolecallEngine
import RolecallLanguage
import Testing

/// Rule files an attacker (or a generator gone wrong) would write: the largest and deepest shapes the parser
/// accepts must pass through every later stage (checker, lints, compiler, evaluator, trace, coverage atoms,
/// formatter) without exhausting the stack, and the first shape past a limit must be a diagnostic.
@Suite struct HostileRuleTests {
    static func chain(_ count: Int, _ keyword: String) -> String {
        (0..<count).map { "user.app_metadata.f\($0) == \"v\"" }.joined(separator: " \(keyword) ")
    }

    /// An event in which `user.app_metadata.f0` ... `f(count-1)` are all "v".
    static func event(fields count: Int) -> [UInt8] {
        let members = (0..<count).map { "\"f\($0)\":\"v\"" }.joined(separator: ",")
        return Array("{\"user\":{\"app_metadata\":{\(members)}}}".utf8)
    }

    /// Formats `source`, then checks the round trip: the same rules, and formatting again changes nothing.
    static func expectFormatRoundTrip(_ source: String) throws {
        let file = SourceFile(path: "t.rules", text: source)
        let formatted = try Formatter.format(file).get()
        let reparsed = Parser.parse(SourceFile(path: "t.rules", text: formatted))
        #expect(reparsed.diagnostics.isEmpty)
        #expect(reparsed.rules == Parser.parse(file).rules)
        #expect(try Formatter.format(SourceFile(path: "t.rules", text: formatted)).get() == formatted)
    }

    @Test(arguments: ["and", "or"])
    func tenThousandConditionChainsPassEveryStage(keyword: String) throws {
        let count = 10_000
        let source = "rule \"long\" when \(Self.chain(count, keyword)) assign \"a\""
        #expect(source.utf8.count > 240_000)
        let (rules, syntax) = Parser.parse(SourceFile(path: "t.rules", text: source))
        #expect(syntax.isEmpty)
        let operands: [Expr]? =
            switch rules.first?.condition?.kind {
            case .and(let items)? where keyword == "and": items
            case .or(let items)? where keyword == "or": items
            default: nil
            }
        // One n-ary node, not 10,000 nested ones.
        #expect(operands?.count == count)
        let program = try compile(source)
        #expect(program.conditionAtoms(ofRule: 0).count == count)
        let evaluator = Evaluator(program: program)
        #expect(try evaluator.evaluate(Self.event(fields: count)).matched == ["long"])
        let explanation = try evaluator.explain(Self.event(fields: count))
        #expect(explanation.decision.matched == ["long"])
        // `and` evaluates every operand when all hold; `or` stops at the first.
        #expect(explanation.rules[0].steps.count == (keyword == "and" ? count : 1))
        try Self.expectFormatRoundTrip(source)
    }

    /// Nesting exactly at the parser's limit, with a chain and a `not` at every level: every stage copes.
    @Test func theDeepestAcceptedNestingPassesEveryStage() throws {
        let depth = Parser.maxDepth
        var condition = "user.app_metadata.f0 == \"v\""
        // Each level nests two deep (`not (`, `not (`: a parenthesis after `not` shares its level), so this
        // reaches the limit exactly.
        for level in 0..<(depth / 2) {
            condition = "not (user.app_metadata.f\(level % 7) == \"w\" and not (\(condition)) or user.email_verified)"
        }
        let source = "rule \"deep\" when \(condition) assign \"a\""
        let checked = Checker.check([SourceFile(path: "t.rules", text: source)])
        #expect(!checked.hasErrors, "\(checked.diagnostics.map(\.message))")
        let evaluator = Evaluator(program: try compile(source))
        let decision = try evaluator.evaluate(Self.event(fields: 7))
        let explanation = try evaluator.explain(Self.event(fields: 7))
        #expect(explanation.decision == decision)
        try Self.expectFormatRoundTrip(source)

        // One level more is a diagnostic, not a crash.
        let tooDeep = "rule \"deep\" when (\(condition)) assign \"a\""
        let diagnostics = Parser.parse(SourceFile(path: "t.rules", text: tooDeep)).diagnostics
        #expect(diagnostics.map(\.code) == [.nestingTooDeep])
    }

    /// Found by the `format` fuzz target in the one-hour run: `not a in b` at the nesting limit formatted to
    /// `not (a in b)`, one level past it, so the formatted file did not parse.
    @Test func formattingNeverTakesAFilePastTheNestingLimit() throws {
        let inner =
            String(repeating: "[", count: Parser.maxDepth - 1) + "\"a\""
            + String(repeating: "]", count: Parser.maxDepth - 1)
        let source = "rule \"r\" when not \"a\" in \(inner) assign \"x\""
        #expect(Parser.parse(SourceFile(path: "t.rules", text: source)).diagnostics.isEmpty)
        try Self.expectFormatRoundTrip(source)
    }

    @Test func twoHundredThousandBadCharactersAreOneDiagnostic() {
        let source = String(repeating: "@", count: 200_000) + "\nrule \"ok\" when user.email_verified assign \"a\""
        let checked = Checker.check([SourceFile(path: "t.rules", text: source)])
        #expect(checked.diagnostics.map(\.code) == [.unexpectedCharacter])
        #expect(checked.diagnostics.first?.message == "200000 unexpected characters, starting `@@@@@@@@@@@@@@@@`")
        #expect(checked.rules.map(\.name) == ["ok"])
        // A rendered excerpt of the 200,000-column line stays short.
        #expect(DiagnosticRenderer.human(checked.diagnostics[0]).utf8.count < 600)
        let separate = Lexer.tokenize(SourceFile(path: "t.rules", text: "when @ x $ assign \"a\"")).diagnostics
        #expect(separate.map(\.message) == ["unexpected character `@`", "unexpected character `$`"])
    }

    /// Found by an attacker ("Trojan source"): text an editor shows one way must not run another way.
    @Test func aLineEndAnEditorShowsEndsAComment() {
        for lineEnd in ["\r", "\u{2028}", "\u{2029}", "\u{85}", "\r\n", "\n"] {
            let source = "rule \"a\" when user.email_verified assign \"x\"\n# note\(lineEnd)rule \"b\" assign \"y\"\n"
            let checked = Checker.check([SourceFile(path: "t.rules", text: source)])
            #expect(checked.rules.map(\.name) == ["a", "b"], "line end \(Array(lineEnd.unicodeScalars))")
        }
        let file = SourceFile(path: "t.rules", text: "# one\rrule \"b\" assign \"y\"\n")
        #expect(file.location(of: 7).line == 2)
    }

    @Test func bidirectionalControlsAreErrorsAndInvalidUTF8InCommentsToo() {
        let source =
            "rule \"a\u{202E}\" when user.email matches /x\u{2066}/ assign \"x\" # c\u{202D}\n"
        let checked = Checker.check([SourceFile(path: "t.rules", text: source)])
        #expect(checked.diagnostics.map(\.code) == [.bidiControl, .bidiControl, .bidiControl])
        #expect(
            checked.diagnostics.first?.message
                == "bidirectional control character U+202E in a string: the text can read differently than it runs")
        let invalid = Checker.check([SourceFile(path: "t.rules", bytes: Array("# a ".utf8) + [0xFF, 0xFE] + [0x0A])])
        #expect(invalid.diagnostics.map(\.code) == [.invalidUTF8])
    }

    @Test func aByteOrderMarkIsNotText() throws {
        let file = SourceFile(path: "t.rules", bytes: [0xEF, 0xBB, 0xBF] + Array("rule \"a\" assign \"x\"\n".utf8))
        let checked = Checker.check([file])
        #expect(checked.diagnostics.isEmpty)
        #expect(checked.rules.map(\.name) == ["a"])
        #expect(try Formatter.format(file).get() == "rule \"a\"\nassign \"x\"\n")
    }

    @Test func anEmptyRuleSetDecidesNothing() throws {
        let program = try RuleEngine.compile(source: "# only a comment\n", path: "t.rules")
        let evaluator = Evaluator(program: program)
        let event = Array(#"{"authorization":{"roles":["member"]}}"#.utf8)
        let decision = try evaluator.evaluate(event)
        #expect(decision.json == #"{"assign":[],"revoke":[],"roles":["member"],"matched":[],"errors":[]}"#)
        var line: [UInt8] = []
        try event.withUnsafeBytes { bytes in try evaluator.evaluate(bytes, writingTo: &line) }
        #expect(String(decoding: line, as: UTF8.self) == decision.json + "\n")
        let explanation = try evaluator.explain(event)
        #expect(explanation.rules.isEmpty)
        #expect(explanation.text == "decision: \(decision.json)\n")
    }

    @Test func aNegatedConditionIsTracedAsWritten() throws {
        let source = #"rule "newcomer" when not ("member" in authorization.roles) assign "member""#
        let explanation = try Evaluator(program: try compile(source)).explain(
            Array(#"{"authorization":{"roles":["admin"]}}"#.utf8))
        #expect(
            explanation.text.hasPrefix(
                """
                rule "newcomer" at t.rules:1: fired
                  false  ("member" in authorization.roles)
                         authorization.roles = ["admin"]
                  true   not ("member" in authorization.roles)

                """))
    }

    @Test func aCallTakesNoTrailingCommaButAListDoes() {
        let call = Parser.parse(SourceFile(path: "t.rules", text: "when lower(user.email,) == \"a\" assign \"r\""))
        #expect(call.diagnostics.map(\.code) == [.syntax])
        #expect(call.diagnostics.first?.underlinedText == ")")
        let list = Parser.parse(SourceFile(path: "t.rules", text: "when user.email in [\"a\",] assign \"r\""))
        #expect(list.diagnostics.isEmpty)
    }

    @Test func evaluationErrorsCarryAStableCodeAndTheOperandTypes() throws {
        let decision = try decide(
            #"rule "r" when user.app_metadata.plan > 3 assign "x""#, #"{"user":{"app_metadata":{"plan":"pro"}}}"#)
        #expect(decision.errors.map(\.code) == ["type-mismatch"])
        #expect(decision.json.contains(#""code":"type-mismatch""#))
        #expect(
            EvaluationError.Code.allCases.map(\.rawValue) == [
                "not-boolean", "type-mismatch", "not-timestamp", "budget-exceeded", "regex-limit", "regex-failed",
            ])
    }
}
