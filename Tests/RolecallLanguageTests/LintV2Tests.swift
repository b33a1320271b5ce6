import Testing

@testable import RolecallLanguage

/// The language-v2 lints: each case is a condition and the lint codes it must give (none for the negatives).
@Suite struct LintV2Tests {
    static let lintCodes: Set<DiagnosticCode> = [
        .anchorAlternation, .unanchoredDomain, .unescapedDot, .userEditableField, .firstLoginCount,
    ]

    /// The v2 lint codes of a one-rule source whose rule assigns a role.
    static func lints(_ condition: String, action: String = "assign \"r\"") -> [DiagnosticCode] {
        let result = check("when \(condition) \(action)")
        #expect(!result.hasErrors, "\(result.diagnostics.map(\.message))")
        return result.diagnostics.map(\.code).filter(lintCodes.contains)
    }

    static let regexCases: [(String, [DiagnosticCode])] = [
        // anchor-alternation
        (#"user.email matches /@acme\.com|de$/"#, [.anchorAlternation]),
        (#"user.email matches /^a|b$/"#, [.anchorAlternation]),
        (#"user.email matches /^admin|root/"#, [.anchorAlternation]),
        (#"user.email matches /(?i)^a|b/"#, [.anchorAlternation]),
        (#"user.email matches /^a$|^b$/"#, []),
        (#"user.email matches /^(a|b)$/"#, []),
        (#"user.email matches /\.(com|de)$/"#, []),
        (#"user.email matches /^a[|]b$/"#, []),
        (#"user.email matches /^a\|b$/"#, []),
        (#"user.email matches /@acme\.com$|@acme\.de$/"#, []),
        // unanchored-domain
        (#"user.email matches /@acme\.com/"#, [.unanchoredDomain]),
        (#"user.email matches /@acme\.com/i"#, [.unanchoredDomain]),
        (#"user.email matches /@acme\.com\b/"#, [.unanchoredDomain]),
        (#"user.email matches "@acme\\.com""#, [.unanchoredDomain]),
        (#"user.email matches /@acme\.com|@acme\.de/"#, [.unanchoredDomain]),
        (#"user.email matches /@acme\.com$/"#, []),
        (#"user.email matches /@acme\.com\z/"#, []),
        (#"user.email matches /^[^@]+@acme\.com$/"#, []),
        (#"user.email matches /@acme\.com>/"#, []),
        (#"user.email matches /@acme/"#, []),
        (#"user.email matches /@(acme\.com|acme\.de)$/"#, []),
        (#"user.email matches /\Q@acme.com\E$/"#, []),
        // unescaped-dot
        (#"user.email matches /@acme.com$/"#, [.unescapedDot]),
        (#"user.email matches /@acme.com/"#, [.unanchoredDomain, .unescapedDot]),
        (#"request.hostname matches /^login.acme.com$/"#, [.unescapedDot]),
        (#"request.hostname matches /acme.com$/"#, [.unescapedDot]),
        (#"user.email matches /@acme[.]com$/"#, []),
        (#"user.email matches /^.+@acme\.com$/"#, []),
        (#"user.name matches /^v1.10$/"#, []),
        (#"user.name matches /^a.b$/"#, []),
        (#"user.email matches /[@.|$]acme/"#, []),
        // The `x` flag: spaces and comments are not matched, so the lints stay out.
        (#"user.email matches /@acme\.com/x"#, []),
    ]

    @Test(arguments: regexCases)
    func regexLints(condition: String, expected: [DiagnosticCode]) {
        #expect(Self.lints(condition) == expected, "\(condition)")
    }

    /// The fixed forms the regex lints suggest: every fix applied to the author's pattern, as written.
    static let fixedForms: [(String, String)] = [
        (#"/@acme\.com|de$/"#, #"`/@acme\.(com|de)$/` or `/@(acme\.com|acme\.de)$/`"#),
        (#"/^a|b$/i"#, #"`/^(a|b)$/i`"#),
        (#"/(?i)^a|b/"#, #"`/^((?i)a|b)/`"#),
        (#"/@acme\.com|@acme\.de/"#, #"`/(@acme\.com|@acme\.de)$/`"#),
        (#"/@acme.com/"#, #"`/@acme\.com$/`"#),
        (#"/^[a-z]+@acme.com$/"#, #"`/^[a-z]+@acme\.com$/`"#),
        (#""^[a-z]+@acme\\.com""#, #"`"^[a-z]+@acme\\.com$"`"#),
    ]

    @Test(arguments: fixedForms)
    func everyRegexWarningShowsTheFixedPattern(pattern: String, fixed: String) {
        let warnings = check("when user.email matches \(pattern) assign \"r\"").diagnostics
        #expect(!warnings.isEmpty)
        for warning in warnings {
            #expect(warning.help?.contains(fixed) == true, "\(warning.help ?? "")")
        }
    }

    @Test func theEndsWithAlternativeKeepsCaseUnlessTheRegexIgnoresIt() {
        let exact = check(#"when user.email matches /@ACME\.com/ assign "r""#).diagnostics.first?.help ?? ""
        #expect(exact.hasSuffix(#"or write `user.email ends_with "@ACME.com"`"#), "\(exact)")
        let folded = check(#"when user.email matches /@ACME\.com/i assign "r""#).diagnostics.first?.help ?? ""
        #expect(folded.hasSuffix(#"or write `lower(user.email) ends_with "@acme.com"`"#), "\(folded)")
    }

    static let firstLoginCases: [(String, Bool)] = [
        ("logins_count == 1", true),
        ("logins_count <= 1", true),
        ("logins_count < 2", true),
        ("stats.logins_count <= 1", true),
        ("stats.logins_count < 2 and user.email_verified", true),
        ("logins_count <= 2", false),
        ("logins_count < 1", false),
        ("logins_count > 1", false),
        ("logins_count == 2", false),
        ("user.app_metadata.logins_count <= 1", false),
    ]

    @Test(arguments: firstLoginCases)
    func firstLoginCount(condition: String, warns: Bool) {
        #expect(Self.lints(condition) == (warns ? [.firstLoginCount] : []), "\(condition)")
    }

    @Test func firstLoginCountQuotesTheComparisonAsWritten() throws {
        let warning = try #require(check("when stats.logins_count < 2 assign \"new\"").diagnostics.first)
        #expect(warning.message == "`stats.logins_count < 2` can miss a user's first login")
        #expect(warning.underlinedText == "stats.logins_count < 2")
    }

    static let editableCases: [(String, String, Bool)] = [
        ("user.user_metadata.plan == \"pro\"", "assign \"pro\"", true),
        ("user.user_metadata != null", "assign \"r\"", true),
        ("user[\"user_metadata\"][\"role\"] == \"admin\"", "assign \"admin\"", true),
        ("user.email_verified and lower(user.user_metadata.team) == \"ops\"", "assign \"ops\"", true),
        ("not (user.user_metadata.x == 1) or user.email_verified", "assign \"r\"", true),
        ("\"admin\" in user.user_metadata.roles", "assign \"admin\" stop", true),
        // Revoking on user_metadata only takes a role away: the user gains nothing by editing it.
        ("user.user_metadata.x == 1", "revoke \"r\"", false),
        ("user.user_metadata.x == 1", "stop", true),  // a user could skip the rules after it
        ("user.app_metadata.plan == \"pro\"", "assign \"pro\"", false),
        ("user.app_metadata.user_metadata == 1", "assign \"r\"", false),
    ]

    @Test(arguments: editableCases)
    func userEditableField(condition: String, action: String, warns: Bool) {
        #expect(Self.lints(condition, action: action) == (warns ? [.userEditableField] : []), "\(condition)")
    }

    @Test func userEditableFieldShowsTheAppMetadataPath() throws {
        let result = check("rule \"pro\" when user.user_metadata.plan == \"pro\" assign \"pro\"")
        let warning = try #require(result.diagnostics.first)
        #expect(result.diagnostics.count == 1)
        #expect(warning.code == .userEditableField)
        #expect(
            warning.message == "this rule assigns roles on `user.user_metadata.plan`, which users can edit themselves")
        #expect(warning.help?.hasSuffix("`user.app_metadata.plan`") == true)
        #expect(warning.underlinedText == "user.user_metadata.plan")
    }

    // MARK: the walker through `let` and `any`/`all` (built by hand until the checker accepts them)

    static let file = SourceFile(path: "w.rules", text: "when x assign \"r\"\nlet paid = user.user_metadata.plan")

    static func node(_ kind: CheckedExpr.Kind, _ span: Span = Span(5, 6)) -> CheckedExpr {
        CheckedExpr(kind: kind, span: span)
    }

    static func rule(_ condition: CheckedExpr, assign: Bool = true) -> CheckedRule {
        let parsed = Rule(name: nil, condition: nil, actions: [], file: file, span: Span(0, 17))
        return CheckedRule(rule: parsed, name: "r", condition: condition, effects: [("r", assign)], stops: false)
    }

    static let metadataPlan = node(
        .path([
            .key("user", span: Span(29, 33)), .key("user_metadata", span: Span(34, 47)),
            .key("plan", span: Span(48, 52)),
        ]),
        Span(29, 52))

    @Test func aLetThatReadsUserMetadataIsReportedAtItsUseWithANoteAtTheRead() throws {
        let use = Self.node(.named("paid", Self.metadataPlan, file: Self.file))
        let found = Checker.lint([Self.rule(Self.node(.and([use, Self.node(.constant(.bool(true)))])))])
        let warning = try #require(found.first { $0.code == .userEditableField })
        #expect(warning.message.contains("(through `paid`)"))
        #expect(warning.span == Span(5, 6))
        #expect(warning.notes.first?.span == Span(29, 52))
        #expect(warning.notes.first?.file === Self.file)
    }

    @Test func aQuantifierOverUserMetadataIsReported() {
        let body = Self.node(.compare(.equal, Self.node(.local(0, name: "g", [])), Self.node(.constant(.string("x")))))
        let any = Self.node(.quantifier(.any, list: Self.metadataPlan, variable: 0, name: "g", body: body))
        #expect(Checker.lint([Self.rule(any)]).map(\.code) == [.userEditableField])
        #expect(Checker.lint([Self.rule(any, assign: false)]).isEmpty)
    }

    @Test func aLetUsedByManyRulesIsWalkedOnce() {
        // A large binding used by every rule: the work grows with rules plus binding, not their product.
        let big = Self.node(.and((0..<1_000).map { _ in Self.node(.constant(.bool(true))) } + [Self.metadataPlan]))
        func work(_ count: Int) -> Int {
            var units = 0
            let rules = (0..<count).map { _ in Self.rule(Self.node(.named("big", big, file: Self.file))) }
            let found = Checker.lint(rules, work: &units)
            #expect(found.filter { $0.code == .userEditableField }.count == count)
            return units
        }
        #expect(work(200) < 2 * work(100))
    }
}
