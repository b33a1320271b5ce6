import RolecallLanguage
import Testing

/// Anonymous rules are named `FILE#N`: the file's name and the rule's position in it (issue 7, item 13).
@Suite struct RuleNameTests {
    static let source = """
        rule "named" when user.email_verified assign "a"
        when logins_count > 3 assign "b"

        when user.app_metadata.plan == "pro" assign "c"
        """

    static let anonymous = "when user.email_verified assign \"x\""

    /// The names of the rules of `files` (path, text) checked as one rule set.
    static func names(_ files: [(String, String)]) -> [String] {
        Checker.check(files.map { SourceFile(path: $0.0, text: $0.1) }).rules.map(\.name)
    }

    @Test func anAnonymousRuleIsNamedByItsFileAndPosition() {
        #expect(Self.names([("r.rules", Self.source)]) == ["named", "r.rules#2", "r.rules#3"])
    }

    @Test(arguments: [
        "r.rules", "./r.rules", ".//r.rules", "rules/../r.rules", "/srv/policies/r.rules", "a/./b/r.rules",
    ])
    func theNameDoesNotDependOnHowThePathIsSpelt(path: String) {
        #expect(Self.names([(path, Self.source)]) == ["named", "r.rules#2", "r.rules#3"])
    }

    @Test func formattingDoesNotChangeTheName() throws {
        // The same rules laid out badly: `fmt` moves the anonymous rules to other lines.
        let messy = """
            rule "named"
                 when user.email_verified assign "a" when logins_count > 3
            assign "b"   when user.app_metadata.plan == "pro"
                assign "c"
            """
        let file = SourceFile(path: "r.rules", text: messy)
        let formatted = try Formatter.format(file).get()
        #expect(formatted != file.text(Span(0, file.bytes.count)))
        let before = Checker.check([file]).rules.map(\.name)
        let after = Checker.check([SourceFile(path: "r.rules", text: formatted)]).rules.map(\.name)
        #expect(before == after)
        #expect(after == ["named", "r.rules#2", "r.rules#3"])
    }

    @Test func filesWithTheSameNameAreToldApartByTheirDirectories() {
        let names = Self.names([
            ("rules/eu/r.rules", Self.anonymous), ("rules/us/r.rules", Self.anonymous),
            ("rules/other.rules", Self.anonymous), ("./rules/eu/r.rules", Self.anonymous),
        ])
        #expect(names == ["eu/r.rules#1", "us/r.rules#1", "other.rules#1", "eu/r.rules#1"])
    }

    @Test func theOverriddenEffectLintNamesAnAnonymousRuleTheSameWay() throws {
        let result = Checker.check([
            SourceFile(
                path: "./r.rules",
                text:
                    "when user.email_verified and logins_count > 2 assign \"a\"\nwhen user.email_verified revoke \"a\"")
        ])
        let d = try #require(result.diagnostics.first)
        #expect(d.message == "this rule assigns `a`, but \"r.rules#2\" always revokes it afterwards")
    }
}

/// Found by an attacker: a written name could take an anonymous rule's generated name, so two rules shared one
/// name in decisions and suites.
@Suite struct RuleNameCollisionTests {
    @Test func aWrittenNameCannotTakeAGeneratedOne() {
        let after = Checker.check([
            SourceFile(path: "x.rules", text: "when true assign \"a\"\nrule \"x.rules#1\" when true assign \"b\"\n")
        ])
        #expect(
            after.diagnostics.filter { $0.severity == .error }.map(\.message) == ["duplicate rule name `x.rules#1`"])
        let before = Checker.check([
            SourceFile(path: "a.rules", text: "rule \"b.rules#1\" when true assign \"a\"\n"),
            SourceFile(path: "b.rules", text: "when true assign \"b\"\n"),
        ])
        #expect(
            before.diagnostics.filter { $0.severity == .error }.map(\.message) == ["duplicate rule name `b.rules#1`"])
    }
}
