import RolecallLanguage
import Testing

@Suite struct ParserTests {
    @Test(arguments: [
        ("logins_count == 1", "(== logins_count 1)"),
        ("a or b and c", "(or a (and b c))"),
        ("(a or b) and c", "(and (or a b) c)"),
        ("not a and b", "(and (not a) b)"),
        ("not not a", "(not (not a))"),
        ("x not in [1, 2,]", "(not in x [1 2])"),
        ("not x in [1]", "(not (in x [1]))"),
        ("-5 < -x", "(< -5 (- x))"),
        ("user.identities[0].provider == \"g\"", "(== user.identities[0].provider \"g\")"),
        ("user.app_metadata[\"x-team\"] != null", "(!= user.app_metadata[\"x-team\"] null)"),
        ("user.app_metadata.in == true", "(== user.app_metadata.in true)"),
        ("lower(user.email) ends_with \"@a.com\"", "(ends_with (lower user.email) \"@a.com\")"),
        ("user.email matches /^a.*$/im", "(matches user.email /^a.*$/im)"),
        ("[\"a\", [1, 2.5], null] contains x", "(contains [\"a\" [1 2.5] null] x)"),
        ("a starts_with \"x\" or a contains \"y\"", "(or (starts_with a \"x\") (contains a \"y\"))"),
        ("length(x) >= 2", "(>= (length x) 2)"),
    ])
    func expressions(source: String, expected: String) {
        #expect(printedCondition(source) == expected)
    }

    @Test func rulesAndActions() {
        let (rules, diagnostics) = parse(
            """
            rule "first" when logins_count == 1 assign "member", "new"
            when x revoke "a" stop
            rule "always" assign "rol_123"
            """)
        #expect(diagnostics.isEmpty)
        #expect(
            ASTPrinter.print(rules) == """
                (rule "first" (== logins_count 1) (assign "member" "new"))
                (rule _ x (revoke "a") (stop))
                (rule "always" _ (assign "rol_123"))
                """)
    }

    @Test func equalityIgnoresSpans() {
        let a = parse("when  a==1   assign \"r\"").rules
        let b = parse("when a == 1\nassign \"r\"").rules
        #expect(a == b)
        #expect(a[0].span != b[0].span)
    }

    @Test func recoversAtRuleBoundariesAndReportsEveryBrokenRule() {
        let (rules, diagnostics) = parse(
            """
            rule "one" when a == assign "x"
            rule "two" when b assign "y"
            rule "three" when (c assign "z"
            rule "four" when d asign "w"
            rule "five" when e assign "v"
            """)
        #expect(rules.compactMap(\.name) == ["two", "five"])
        #expect(diagnostics.count == 3)
        #expect(diagnostics.map { $0.location.line } == [1, 3, 4])
        #expect(diagnostics[2].code == .unknownKeyword)
        #expect(diagnostics[2].help == "did you mean `assign`?")
    }

    @Test(arguments: [
        ("when a == b == c assign \"r\"", DiagnosticCode.chainedComparison, "=="),
        ("assign \"r\"", .syntax, "assign"),
        ("rul \"x\" assign \"r\"", .unknownKeyword, "rul"),
        ("rule \"x\" whn a assign \"r\"", .unknownKeyword, "whn"),
        ("when a matchs /x/ assign \"r\"", .unknownKeyword, "matchs"),
        // A rule that ends without an action is reported at its own `when`, not at what follows it.
        ("when a", .syntax, "when"),
        ("when a[-1] == 1 assign \"r\"", .syntax, "-"),
        ("when a[1.5] == 1 assign \"r\"", .syntax, "1.5"),
        ("rule \"x\" assign \"\"", .emptyRole, "\"\""),
        ("when a assign \"x\" \"y\"", .syntax, "\"y\""),
        ("when x = 1 assign \"r\"", .singleEquals, "="),
        ("let = 1", .syntax, "="),
        ("let a == 1", .syntax, "=="),
        ("let a = 1 b", .syntax, "b"),
        ("when any(user.identities, i.provider, true) assign \"r\"", .syntax, "."),
        ("when any(user.identities, i) assign \"r\"", .syntax, ")"),
        ("when any(user.identities, \"i\", true) assign \"r\"", .syntax, "\"i\""),
        ("when all(user.identities) assign \"r\"", .syntax, ")"),
    ])
    func syntaxErrors(source: String, code: DiagnosticCode, underlined: String) {
        let diagnostics = parse(source).diagnostics
        #expect(diagnostics.first?.code == code, "\(diagnostics.map(\.message))")
        #expect(diagnostics.first?.underlinedText == underlined)
    }

    @Test func version2Declarations() {
        let source = """
            let employee = user.email ends_with "@acme.com"
            rule "google" when any(user.identities, i, i.provider == "google-oauth2") and employee assign "google"
            rule "sanctioned" when all(user.identities, i, not i.isSocial) revoke all except "auditor", "rol_1" stop
            rule "everything" revoke all
            """
        let (declarations, diagnostics) = Parser.parseDeclarations(SourceFile(path: "t.rules", text: source))
        #expect(diagnostics.isEmpty, "\(diagnostics.map(\.message))")
        guard declarations.count == 4, case .binding(let binding) = declarations[0] else {
            Issue.record("expected a binding and three rules, got \(declarations)")
            return
        }
        #expect(binding.name == "employee")
        #expect(ASTPrinter.print(binding.value) == "(ends_with user.email \"@acme.com\")")
        let rules = declarations.dropFirst().compactMap { declaration -> Rule? in
            if case .rule(let rule) = declaration { return rule }
            return nil
        }
        #expect(
            ASTPrinter.print(rules) == """
                (rule "google" (and (any user.identities i (== i.provider "google-oauth2")) employee) (assign "google"))
                (rule "sanctioned" (all user.identities i (not i.isSocial)) (revoke-all "auditor" "rol_1") (stop))
                (rule "everything" _ (revoke-all))
                """)
    }

    @Test func hundredThousandNestedParenthesesAreAnErrorNotACrash() {
        let depth = 100_000
        let source =
            "when " + String(repeating: "(", count: depth) + "a" + String(repeating: ")", count: depth)
            + " assign \"r\"\nrule \"after\" when b assign \"s\""
        let (rules, diagnostics) = parse(source)
        #expect(diagnostics.map(\.code) == [.nestingTooDeep])
        #expect(rules.compactMap(\.name) == ["after"])
    }

    @Test func deepNotChainsAndListsAreBoundedToo() {
        let nots = parse("when " + String(repeating: "not ", count: 50_000) + "a assign \"r\"").diagnostics
        let lists = parse("when a in " + String(repeating: "[", count: 50_000) + " assign \"r\"").diagnostics
        #expect(nots.map(\.code) == [.nestingTooDeep])
        #expect(lists.map(\.code) == [.nestingTooDeep])
    }
}
