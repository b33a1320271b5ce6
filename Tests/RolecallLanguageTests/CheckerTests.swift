import RolecallLanguage
import Testing

@Suite struct CheckerTests {
    /// The single diagnostic of `source` as (code, message, help, underlined text).
    static func only(_ source: String) -> (DiagnosticCode, String, String?, String)? {
        let diagnostics = check(source).diagnostics
        guard diagnostics.count == 1, let d = diagnostics.first else { return nil }
        return (d.code, d.message, d.help, d.underlinedText)
    }

    @Test func misspelledFieldIsAWarningWithDidYouMean() throws {
        let d = try #require(Self.only("when user.emial == \"x\" assign \"r\""))
        #expect(d.0 == .unknownField)
        #expect(d.1 == "unknown field `user.emial`")
        #expect(d.2 == "did you mean `user.email`?")
        #expect(d.3 == "user.emial")
        #expect(check("when user.emial == \"x\" assign \"r\"").diagnostics[0].severity == .warning)
    }

    @Test(arguments: [
        // (condition, underlined, quick fix's replacement, the text it replaces)
        (#"user["emial"] == "x""#, #"user["emial"]"#, #""email""#, #""emial""#),
        (#"user[ "emial" ] == "x""#, #"user[ "emial" ]"#, #""email""#, #""emial""#),
        (
            #"request["geoip"]["countryCdoe"] == "x""#, #"request["geoip"]["countryCdoe"]"#, #""countryCode""#,
            #""countryCdoe""#
        ),
        (#"user["emial"]["x"] == "x""#, #"user["emial"]"#, #""email""#, #""emial""#),
        (
            #"request.geoip["countryCdoe"] == "x""#, #"request.geoip["countryCdoe"]"#, #""countryCode""#,
            #""countryCdoe""#
        ),
        // Written after a dot, the name ends where it ends, even before a list's `]`.
        (#""x" in [user.emial]"#, "user.emial", "email", "emial"),
    ])
    func aFieldNameWrittenAsASubscriptIsUnderlinedToItsBracket(
        condition: String, underlined: String, replacement: String, replaced: String
    ) throws {
        let result = check("when \(condition) assign \"r\"")
        let d = try #require(result.diagnostics.first { $0.code == .unknownField })
        #expect(d.underlinedText == underlined)
        let fix = try #require(d.fix)
        #expect(fix.replacement == replacement)
        #expect(d.file.text(fix.span) == replaced)
    }

    @Test func unknownRootIsAnError() throws {
        let result = check("when usr.email == \"x\" assign \"r\"")
        #expect(result.hasErrors)
        let d = try #require(Self.only("when usr.email == \"x\" assign \"r\""))
        #expect(d.0 == .unknownRoot)
        #expect(d.2 == "did you mean `user`?")
        #expect(d.3 == "usr")
    }

    @Test(arguments: [
        (
            "logins_count == \"1\"", "comparing a number with a string is always false",
            "write `1` without quotes to compare numbers"
        ),
        (
            "\"x\" in user.email", "`in` needs a list on the right, `user.email` is a string",
            "to look for a substring, write `user.email contains \"x\"`"
        ),
        ("user.email_verified > 1", "`>` compares numbers or strings, not a boolean", nil),
        ("user.email starts_with 1", "`starts_with` compares strings, `1` is a number", nil),
        (
            "user.email", "the condition is a string, not a boolean",
            "compare it with a value, e.g. `user.email != null`"
        ),
        ("lower(stats.logins_count) == \"a\"", "`lower` takes a string, not a number", nil),
        (
            "user.identities.provider == \"x\"", "`user.identities` is a list, it has no field `provider`",
            "pick an element first, e.g. `user.identities[0].provider`"
        ),
        ("user.email.domain == \"x\"", "`user.email` is a string, it has no field `domain`", nil),
        ("stats.logins_count matches /1/", "`matches` searches a string, `stats.logins_count` is a number", nil),
        ("1 in authorization.roles", "number `1` can never be in a list of strings", nil),
    ])
    func typeErrorsOnKnownFields(condition: String, message: String, help: String?) throws {
        let d = try #require(
            Self.only("when \(condition) assign \"r\""),
            "\(check("when \(condition) assign \"r\"").diagnostics.map(\.message))")
        #expect(d.0 == .typeMismatch)
        #expect(d.1 == message)
        #expect(d.2 == help)
    }

    @Test func unknownFieldsUnderOpenObjectsAreFine() {
        let result = check(
            """
            when user.app_metadata.anything.deep[3] == 1 and connection.metadata.x == "y"
              and request.query.prompt == "login" assign "r"
            """)
        #expect(result.diagnostics.isEmpty)
    }

    @Test func badRegexPointsIntoThePattern() throws {
        let result = check("when user.email matches /ab(c/ assign \"r\"")
        let d = try #require(result.diagnostics.first)
        #expect(result.diagnostics.count == 1)
        #expect(d.code == .invalidRegex)
        #expect(d.message == "invalid regex: missing closing parenthesis")
        #expect(d.location.column == 30)  // just past `(c`, where PCRE2 noticed
    }

    @Test func patternMustBeALiteral() throws {
        let d = try #require(Self.only("when user.email matches user.name assign \"r\""))
        #expect(d.0 == .patternNotLiteral)
        #expect(d.3 == "user.name")
    }

    @Test func stringPatternsAreCompiledToo() {
        #expect(check("when user.email matches \"^a+$\" assign \"r\"").diagnostics.isEmpty)
        #expect(check("when user.email matches \"[a-\" assign \"r\"").diagnostics.map(\.code) == [.invalidRegex])
    }

    @Test func functionsAreChecked() {
        #expect(check("when lowr(user.email) == \"a\" assign \"r\"").diagnostics.first?.help == "did you mean `lower`?")
        #expect(check("when lower(user.email, 1) == \"a\" assign \"r\"").diagnostics.map(\.code) == [.wrongArity])
    }

    @Test func duplicateNamesAndAssignRevokeConflicts() {
        let result = check(
            """
            rule "a" when logins_count == 3 assign "x"
            rule "a" when logins_count == 2 assign "y" revoke "y"
            """)
        #expect(result.diagnostics.map(\.code) == [.duplicateRule, .assignAndRevoke])
        #expect(result.diagnostics[0].notes.first?.message == "first used here")
        #expect(
            result.diagnostics[0].help == "rule names identify rules in decisions and tests; give each a different one")
    }

    /// Rule names compare as text, so two encodings of one name are one name; they print alike, so the help spells
    /// both out.
    @Test func twoEncodingsOfOneRuleNameAreADuplicateThatSaysSo() {
        let result = check("rule \"caf\u{E9}\" assign \"x\"\nrule \"cafe\u{301}\" assign \"y\"")
        #expect(result.diagnostics.map(\.code) == [.duplicateRule])
        #expect(
            result.diagnostics.first?.help
                == #""caf\u{e9}" and "cafe\u{301}" differ only in how their characters are encoded, and rule names "#
                + "are compared as text; give each a different one")
    }

    @Test func rulesAfterAnUnconditionalStopAreUnreachable() {
        let result = check(
            """
            rule "maybe" when logins_count == 3 stop
            rule "all" assign "x" stop
            rule "never" when logins_count == 2 assign "y"
            """)
        #expect(result.diagnostics.map(\.code) == [.unreachableRule])
        #expect(result.diagnostics[0].severity == .warning)
        #expect(result.diagnostics[0].underlinedText == "\"never\"")
    }

    @Test func constantConditionsAreWarnings() {
        #expect(check("when 1 == 1 assign \"r\"").diagnostics.map(\.message) == ["condition is always true"])
        #expect(check("when \"a\" in [\"b\"] assign \"r\"").diagnostics.map(\.message) == ["condition is always false"])
        #expect(check("when false and user.email_verified assign \"r\"").diagnostics.count == 1)
    }

    @Test func everyErrorInOneRunSortedByPosition() {
        let result = Checker.check([
            SourceFile(path: "b.rules", text: "when usr.x == 1 assign \"r\"\nwhen logins_count == \"1\" assign \"s\""),
            SourceFile(path: "a.rules", text: "when user.email matches /(/ assign \"t\""),
        ])
        #expect(result.diagnostics.map(\.file.path) == ["b.rules", "b.rules", "a.rules"])
        #expect(result.diagnostics.map(\.code) == [.unknownRoot, .typeMismatch, .invalidRegex])
    }

    @Test func firstLoginCountIsLinted() throws {
        for condition in ["logins_count == 1", "stats.logins_count == 1 and user.email_verified"] {
            let result = check("rule \"first\" when \(condition) assign \"member\"")
            let d = try #require(result.diagnostics.first)
            #expect(result.diagnostics.count == 1)
            #expect(d.code == .firstLoginCount)
            #expect(d.severity == .warning)
            #expect(d.help?.hasSuffix("`not (\"member\" in authorization.roles)`") == true)
        }
        #expect(check("when logins_count == 2 assign \"r\"").diagnostics.isEmpty)
    }

    @Test func contradictionsAreAlwaysFalse() {
        let equal = check("when user.email == \"a\" and user.email_verified and user.email == \"b\" assign \"r\"")
        #expect(equal.diagnostics.map(\.code) == [.contradiction])
        #expect(equal.diagnostics.first?.underlinedText == "user.email == \"b\"")
        let negated = check("when connection.strategy == \"auth0\" and connection.strategy != \"auth0\" assign \"r\"")
        #expect(negated.diagnostics.map(\.code) == [.contradiction])
        #expect(check("when user.email == \"a\" or user.email == \"b\" assign \"r\"").diagnostics.isEmpty)
    }

    @Test func anEffectAlwaysUndoneByALaterRuleIsLinted() throws {
        let result = check(
            """
            rule "staff" when user.email ends_with "@acme.com" and user.email_verified assign "staff"
            rule "unverified" when user.email_verified revoke "staff"
            """)
        let d = try #require(result.diagnostics.first)
        #expect(result.diagnostics.count == 1)
        #expect(d.code == .overriddenEffect)
        #expect(d.message == "this rule assigns `staff`, but \"unverified\" always revokes it afterwards")
        #expect(d.underlinedText == "\"staff\"")
    }

    @Test func theUsualOverridePatternsAreNotLinted() {
        // A default with a later exception, and an exception for a different condition, are intended.
        let result = check(
            """
            rule "everyone" assign "member"
            rule "staff" when user.email ends_with "@acme.com" assign "staff"
            rule "blocked" when user.app_metadata.blocked == true revoke "member", "staff"
            """)
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics.map(\.message))")
    }
}
