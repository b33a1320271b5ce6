import Testing

@testable import RolecallLanguage

/// Mistakes first-time authors make (issue 11): each gives exactly one diagnostic, at the mistake, whose help is
/// the author's own code fixed.
@Suite struct AuthorDiagnosticsTests {
    struct Case: CustomStringConvertible, Sendable {
        var source: String
        var code: DiagnosticCode
        var message: String
        var help: String
        var underlined: String
        var description: String { source }
    }

    static let cases: [Case] = [
        Case(
            source: #"when user.email ends_with "@acme.com" or "@acme.de" assign "staff""#, code: .typeMismatch,
            message: #"`or` joins conditions, and `"@acme.de"` alone is not one"#,
            help: #"repeat the left side: `user.email ends_with "@acme.de"`"#, underlined: #""@acme.de""#),
        Case(
            source: #"when user.email == "a@x.io" and "b@x.io" assign "r""#, code: .typeMismatch,
            message: #"`and` joins conditions, and `"b@x.io"` alone is not one"#,
            help: #"repeat the left side: `user.email == "b@x.io"`"#, underlined: #""b@x.io""#),
        Case(
            source: #"when request.geoip.countryCode in ["DE", "FR"] or "NL" assign "eu""#, code: .typeMismatch,
            message: #"`or` joins conditions, and `"NL"` alone is not one"#,
            help: #"add it to the list: `request.geoip.countryCode in ["DE", "FR", "NL"]`"#, underlined: #""NL""#),
        Case(
            source: #"when user.email matches /@acme\.com$/ or "@acme.de" assign "staff""#, code: .typeMismatch,
            message: #"`or` joins conditions, and `"@acme.de"` alone is not one"#,
            help: #"repeat the left side: `user.email matches "@acme.de"`"#, underlined: #""@acme.de""#),
        Case(
            source: #"when connection.name == acme-okta assign "okta""#, code: .unquotedString,
            message: "`acme-okta` is not a field: strings need quotes",
            help: #"write `connection.name == "acme-okta"`"#, underlined: "acme-okta"),
        Case(
            source: #"when connection.name == acme assign "okta""#, code: .unquotedString,
            message: "`acme` is not a field: strings need quotes",
            help: #"write `connection.name == "acme"`"#, underlined: "acme"),
        Case(
            source: #"when request.geoip.countryCode in [DE, FR] assign "eu""#, code: .unquotedString,
            message: "`DE` is not a field: strings need quotes", help: #"write `["DE", "FR"]`"#, underlined: "DE"),
        Case(
            source: #"when user.email_verified == True assign "r""#, code: .unquotedString,
            message: "`True` is not a literal: `true`, `false` and `null` are lower case",
            help: "write `user.email_verified == true`", underlined: "True"),
        Case(
            source: #"when user.app_metadata.x != NULL assign "r""#, code: .unquotedString,
            message: "`NULL` is not a literal: `true`, `false` and `null` are lower case",
            help: "write `user.app_metadata.x != null`", underlined: "NULL"),
        Case(
            source: #"when user.email_verified && logins_count > 5 assign "r""#, code: .unexpectedCharacter,
            message: "`&&` is not an operator", help: "write `and`", underlined: "&&"),
        Case(
            source: #"when user.email_verified || logins_count > 5 assign "r""#, code: .unexpectedCharacter,
            message: "`||` is not an operator", help: "write `or`", underlined: "||"),
        Case(
            source: #"when user.email == 'admin@acme.com' assign "admin""#, code: .singleQuotedString,
            message: "strings are written in double quotes", help: #"write `"admin@acme.com"`"#,
            underlined: "'admin@acme.com'"),
        Case(
            source: #"when user.email_verified then assign "member""#, code: .syntax,
            message: "rules read `when ... assign ...`, without `then`",
            help: #"remove `then`: `when user.email_verified assign "member"`"#, underlined: "then"),
        Case(
            source: #"when event.user.email ends_with "@acme.com" assign "staff""#, code: .unknownRoot,
            message: "rules read the event's fields directly: drop `event.`", help: "write `user.email`",
            underlined: "event."),
        Case(
            source: #"when "google-oauth2" in user.identities assign "g""#, code: .typeMismatch,
            message: #"string `"google-oauth2"` can never be in a list"#,
            help: "a list of objects holds no strings; test a field of each element: "
                + #"`any(user.identities, i, i.provider == "google-oauth2")`"#,
            underlined: #""google-oauth2" in user.identities"#),
        Case(
            source: #"when user.identities contains "samlp" assign "s""#, code: .typeMismatch,
            message: "a list never contains a string",
            help: "a list of objects holds no strings; test a field of each element: "
                + #"`any(user.identities, i, i.provider == "samlp")`"#,
            underlined: #"user.identities contains "samlp""#),
        Case(
            source: "when user.email_verified\nwhen logins_count > 5 assign \"r\"", code: .syntax,
            message: "rule has no action",
            help: #"end it with `assign "ROLE"`, `revoke "ROLE"` or `stop` after the condition"#, underlined: "when"),
    ]

    @Test(arguments: cases)
    func oneDiagnosticWithTheFix(_ test: Case) throws {
        let result = check(test.source)
        #expect(result.diagnostics.count == 1, "\(result.diagnostics.map(\.message))")
        let diagnostic = try #require(result.diagnostics.first)
        #expect(diagnostic.code == test.code)
        #expect(diagnostic.message == test.message)
        #expect(diagnostic.help == test.help)
        #expect(diagnostic.underlinedText == test.underlined)
    }

    @Test func aLiteralAloneGetsNoAdviceThatMakesItAlwaysTrue() throws {
        // `"admin" != null` would always be true: no such help for a literal.
        let diagnostic = try #require(check(#"when "admin" assign "r""#).diagnostics.first)
        #expect(diagnostic.message == "the condition is a string, not a boolean")
        #expect(diagnostic.help == nil)
    }

    @Test func aRuleWithoutAnActionIsReportedAtItsOwnWhenNotAtTheNextRule() throws {
        let result = check("rule \"a\" when user.email_verified\n\nrule \"b\" when logins_count > 5 assign \"r\"")
        let diagnostic = try #require(result.diagnostics.first)
        #expect(result.diagnostics.count == 1)
        #expect(diagnostic.location.line == 1)
        #expect(diagnostic.location.column == 10)
        // Without a condition, the rule's name is underlined.
        let named = check("rule \"a\"\nrule \"b\" assign \"r\"")
        #expect(named.diagnostics.map(\.underlinedText) == [#""a""#])
        // At the end of the file too.
        #expect(check("when user.email_verified").diagnostics.map(\.message) == ["rule has no action"])
    }

    @Test func theRestOfTheConditionStillParsesAfterASymbolicOperator() {
        // `&&` reads as `and`: an error later in the same rule is still found, and nothing in between.
        let result = check(#"when user.email_verified && user.emial == "x" assign "r""#)
        #expect(result.diagnostics.map(\.code) == [.unexpectedCharacter, .unknownField])
    }

    @Test func aWordThatIsARootIsNotQuoted() {
        // `user` is a field (an object): comparing with it is a type question, not a missing quote.
        #expect(!check(#"when connection.name == user.name assign "r""#).hasErrors)
        #expect(check(#"when connection.name == usr assign "r""#).diagnostics.map(\.code) == [.unquotedString])
    }

    @Test func parserDiagnosticsAreSortedByPosition() {
        // The unterminated string (a lexical error) is on line 2, the parser's error on line 1.
        let source = "when == 1 assign \"r\"\nwhen user.email == \"a assign \"s\"\n"
        let (_, diagnostics) = Parser.parseDeclarations(SourceFile(path: "s.rules", text: source))
        #expect(diagnostics.count >= 2)
        #expect(diagnostics.map(\.span.start) == diagnostics.map(\.span.start).sorted())
        guard case .failure(let failure) = Formatter.format(SourceFile(path: "s.rules", text: source)) else {
            Issue.record("a file with syntax errors cannot be formatted")
            return
        }
        #expect(failure.diagnostics.map(\.span.start) == failure.diagnostics.map(\.span.start).sorted())
    }
}
