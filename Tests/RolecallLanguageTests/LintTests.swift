import Testing

@testable import RolecallLanguage

@Suite struct LintTests {
    /// The codes and messages of the overridden-effect warnings of `source`.
    static func overridden(_ source: String) -> [String] {
        check(source).diagnostics.filter { $0.code == .overriddenEffect }.map(\.message)
    }

    @Test func aRuleThatStopsIsNotUndoneByALaterRule() {
        // Issue 7, item 6: "blocked" revokes and stops, so "everyone else" never runs after it fires.
        let source = """
            rule "blocked" when user.app_metadata.blocked == true revoke "member" stop
            rule "everyone else" assign "member"
            """
        #expect(Self.overridden(source).isEmpty)
        #expect(check(source).diagnostics.isEmpty, "\(check(source).diagnostics.map(\.message))")
    }

    @Test func theSameRuleWithoutStopIsStillLinted() throws {
        let result = check(
            """
            rule "blocked" when user.app_metadata.blocked == true revoke "member"
            rule "everyone else" assign "member"
            """)
        let d = try #require(result.diagnostics.first)
        #expect(result.diagnostics.count == 1)
        #expect(d.code == .overriddenEffect)
        #expect(d.message == "this rule revokes `member`, but \"everyone else\" always assigns it afterwards")
        #expect(d.underlinedText == "\"member\"")
        #expect(d.notes.first.map { d.file.text($0.span!) } == "\"everyone else\"")
    }

    @Test func aRuleInBetweenThatAlwaysStopsKeepsTheLaterRuleFromRunning() {
        #expect(
            Self.overridden(
                """
                rule "blocked" when user.app_metadata.blocked == true revoke "member"
                rule "halt" when user.app_metadata.blocked == true stop
                rule "everyone else" assign "member"
                """
            ).isEmpty)
        // A stop that does not always follow (its condition is not implied) does not help.
        #expect(
            Self.overridden(
                """
                rule "blocked" when user.app_metadata.blocked == true revoke "member"
                rule "halt" when user.email_verified stop
                rule "everyone else" assign "member"
                """
            ).count == 1)
        // The undoing rule may stop itself: it has already undone the effect.
        #expect(
            Self.overridden(
                """
                rule "blocked" when user.app_metadata.blocked == true revoke "member"
                rule "everyone else" assign "member" stop
                """
            ).count == 1)
    }

    @Test func theFirstUndoingRuleIsNamed() {
        let messages = Self.overridden(
            """
            rule "a" when user.email_verified and user.app_metadata.x == 1 assign "r"
            rule "b" when user.app_metadata.y == 2 revoke "r"
            rule "c" when user.app_metadata.x == 1 revoke "r"
            rule "d" revoke "r"
            """)
        #expect(messages == ["this rule assigns `r`, but \"c\" always revokes it afterwards"])
    }

    @Test func conditionsAreComparedAsWrittenNotByLayout() {
        // `1` and `1.0` are the same literal, and spacing or parentheses around a part do not matter.
        let messages = Self.overridden(
            """
            rule "a" when (user.app_metadata.x==1.0) and user.email_verified assign "r"
            rule "b" when user.email_verified and user.app_metadata.x == 1 revoke "r"
            """)
        #expect(messages.count == 1)
    }

    @Test func contradictionsReportTheFirstClash() {
        let result = check(
            """
            when user.email == "a" and connection.strategy == "x" and user.email == "a" \
            and connection.strategy != "x" and user.email == "b" assign "r"
            """)
        #expect(result.diagnostics.map(\.code) == [.contradiction])
        #expect(result.diagnostics.first?.underlinedText == "user.email == \"b\"")
        #expect(result.diagnostics.first?.notes.first.map { result.files[0].text($0.span!) } == "user.email == \"a\"")
        #expect(
            check("when logins_count == 1.0 and logins_count != 1 assign \"r\"").diagnostics.map(\.code).contains(
                .contradiction))
    }

    @Test func conjunctsOfALongChainComeOutInOrder() {
        let condition = (1...2_000).map { "user.app_metadata.f\($0) == \($0)" }.joined(separator: " and ")
        let rules = parse("when \(condition) assign \"r\"").rules
        let atoms = Checker.conjuncts(rules.first?.condition)
        #expect(atoms.count == 2_000)
        #expect(atoms.first.map(ASTPrinter.print) == "(== user.app_metadata.f1 1)")
        #expect(atoms.last.map(ASTPrinter.print) == "(== user.app_metadata.f2000 2000)")
    }

    /// Role names are their bytes: `"caf\u{E9}"` and `"cafe\u{301}"` are two roles, though Swift's `String` finds
    /// them equal. A rule may assign one and revoke the other, and a later rule on one spelling does not undo an
    /// effect on the other.
    @Test func roleNamesAreComparedAsBytes() throws {
        let (nfc, nfd) = ("caf\u{E9}", "cafe\u{301}")
        let both = check("rule \"a\" assign \"\(nfc)\", \"\(nfd)\" revoke \"x\"")
        #expect(both.diagnostics.isEmpty, "\(both.diagnostics.map(\.message))")
        #expect(both.rules.first?.effects.map { Array($0.role.utf8) } == [nfc, nfd, "x"].map { Array($0.utf8) })
        let assignAndRevoke = check("rule \"a\" assign \"\(nfc)\" revoke \"\(nfd)\"")
        #expect(assignAndRevoke.diagnostics.isEmpty, "\(assignAndRevoke.diagnostics.map(\.message))")
        #expect(Self.overridden("rule \"a\" assign \"\(nfc)\"\nrule \"b\" revoke \"\(nfd)\"").isEmpty)
        #expect(Self.overridden("rule \"a\" revoke \"\(nfd)\"\nrule \"b\" assign \"\(nfc)\"").isEmpty)
        #expect(Self.overridden("rule \"a\" assign \"\(nfc)\"\nrule \"b\" revoke \"\(nfc)\"").count == 1)
        // Excepting one spelling from `revoke all` does not spare the other.
        let spared = Self.overridden("rule \"a\" assign \"\(nfc)\"\nrule \"b\" revoke all except \"\(nfd)\"")
        #expect(spared.count == 1)
        // Many roles in one rule (the checker looks them up by name past eight): still two.
        let many = (1...10).map { "\"r\($0)\"" }.joined(separator: ", ")
        let long = check("rule \"a\" assign \(many), \"\(nfc)\" revoke \"\(nfd)\"")
        #expect(long.diagnostics.isEmpty, "\(long.diagnostics.map(\.message))")
        #expect(long.rules.first?.effects.count == 12)
    }
}
