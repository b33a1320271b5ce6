import RolecallLanguage
import Testing

/// The checker on the version 2 constructs: names, quantifiers, `days_since` and `revoke all`.
@Suite struct CheckerV2Tests {
    /// The diagnostics of `source` as (code, message, help, underlined text).
    func diagnostics(_ source: String) -> [(DiagnosticCode, String, String?, String)] {
        check(source).diagnostics.map { ($0.code, $0.message, $0.help, $0.underlinedText) }
    }

    @Test(arguments: [
        // quantifiers: the element is typed from the schema, misspellings get a did-you-mean
        (
            "when any(authentication.methods, m, m.nmae == \"mfa\") assign \"r\"", DiagnosticCode.unknownField,
            "unknown field `m.nmae`", "m.nmae"
        ),
        (
            "when any(user.identities, i, i.isSocial == \"yes\") assign \"r\"", .typeMismatch,
            "comparing a boolean with a string", "i.isSocial == \"yes\""
        ),
        ("when any(user.email, c, c == \"a\") assign \"r\"", .typeMismatch, "`any` takes a list", "user.email"),
        (
            "when all(user.identities, i, i.provider) assign \"r\"", .typeMismatch,
            "the condition of `all` is a string", "i.provider"
        ),
        ("when any(user.identities, user, true) assign \"r\"", .invalidName, "`user` is a field", "user"),
        ("when any(user.identities, lower, true) assign \"r\"", .invalidName, "`lower` is a function", "lower"),
        (
            "when any(user.identities, i, any(user.identities, i, true)) assign \"r\"", .invalidName,
            "bound by an enclosing", "i"
        ),
        // days_since takes a timestamp string
        ("when days_since(logins_count) > 1 assign \"r\"", .typeMismatch, "takes a string", "logins_count"),
        (
            "when days_since(\"2026-02-30T00:00:00Z\") > 1 assign \"r\"", .invalidTimestamp, "not an RFC 3339",
            "\"2026-02-30T00:00:00Z\""
        ),
        // names
        ("let a = 1\nlet a = 2\nwhen a == logins_count assign \"r\"", .duplicateBinding, "`a` is defined twice", "a"),
        ("let user = 1\nrule \"x\" assign \"r\"", .invalidName, "`user` is a field of the post-login event", "user"),
        ("let logins_count = 1\nrule \"x\" assign \"r\"", .invalidName, "`logins_count` is a field", "logins_count"),
        ("let a = b\nlet b = a\nwhen a assign \"r\"", .recursiveBinding, "refers to itself", "a"),
        ("let a = a or true\nwhen a assign \"r\"", .recursiveBinding, "`a` refers to itself (`a` -> `a`)", "a"),
        ("let a = user.email == \"x\"\nwhen a.b assign \"r\"", .typeMismatch, "it has no field `b`", "b"),
        (
            "let meta = user.app_metadata\nlet id = user.emial\nwhen meta.x and id == \"1\" assign \"r\"",
            .unknownField, "`user.emial`", "user.emial"
        ),
        ("let unused = true\nrule \"x\" assign \"r\"", .unusedBinding, "`unused` is never used", "unused"),
        ("let n = 1\nwhen n == \"1\" assign \"r\"", .typeMismatch, "comparing a number with a string", "n == \"1\""),
        // revoke all
        ("rule \"x\" revoke all revoke all except \"a\"", .duplicateRevokeAll, "twice", "revoke all except \"a\""),
    ])
    func errorsAndWarnings(source: String, code: DiagnosticCode, message: String, underlined: String) {
        let found = diagnostics(source)
        #expect(found.count == 1, "\(found.map(\.1))")
        #expect(found.first?.0 == code, "\(found.map(\.1))")
        #expect(found.first?.1.contains(message) == true, "\(found.map(\.1))")
        #expect(found.first?.3 == underlined)
    }

    @Test(arguments: [
        "let eu = [\"DE\", \"FR\"]\nwhen request.geoip.countryCode in eu assign \"eu\"",
        "let staff = user.email ends_with \"@acme.com\"\nlet admin = staff and \"admin\" in user.app_metadata.groups\nwhen admin assign \"a\"",
        "when any(user.identities, i, i.provider == \"google-oauth2\" and i.isSocial) assign \"g\"",
        "when all(user.app_metadata.groups, g, g starts_with \"admin-\") assign \"g\"",
        "when any(user.identities, i, any(authentication.methods, m, m.name == i.provider)) assign \"g\"",
        "when days_since(user.created_at) > 30 and days_since(\"2026-01-01T00:00:00+01:00\") > 0 assign \"v\"",
        "rule \"sanctioned\" when request.geoip.countryCode in [\"KP\"] revoke all except \"auditor\" stop",
        "rule \"all\" revoke all assign \"quarantined\"",
        "let ids = user.identities\nwhen any(ids, i, i.provider == \"x\") assign \"g\"",
    ])
    func validVersion2RuleSetsCheckClean(source: String) {
        let found = diagnostics(source)
        #expect(found.isEmpty, "\(found.map(\.1))")
    }

    @Test func foldsQuantifiersOverKnownLists() {
        let never = check("when any([], x, true) assign \"r\"").diagnostics
        #expect(never.map(\.code) == [.constantCondition])
        let always = check("when all([], x, false) assign \"r\"").diagnostics
        #expect(always.map(\.message) == ["condition is always true"])
    }
}

/// What the attack on language v2 found in the checker and the lints.
@Suite struct CheckerAttackRegressionTests {
    /// Nine `let`s of 250 `not`s each, each using the next: 2,250 levels once expanded, which crashed every
    /// command. The depth through names is held to the parser's limit.
    @Test func nestingThroughLetsIsBounded() {
        let nots = String(repeating: "not ", count: 250)
        var source = (0..<9).map { "let n\($0) = \(nots)n\($0 + 1)" }.joined(separator: "\n")
        source += "\nlet n9 = user.email_verified\nrule \"r\" when n0 assign \"x\""
        let codes = check(source).diagnostics.map(\.code)
        #expect(codes.contains(.nestingTooDeep), "\(codes)")
        let chain = (0..<1000).map { "let a\($0) = a\($0 + 1)" }.joined(separator: "\n") + "\nlet a1000 = true"
        #expect(check(chain + "\nrule \"r\" when a0 assign \"x\"").diagnostics.contains { $0.code == .nestingTooDeep })
    }

    @Test func aLetOfARegexIsAPattern() {
        let source = "let acme = /@acme\\.com$/i\nrule \"r\" when user.email matches acme assign \"staff\""
        #expect(check(source).diagnostics.isEmpty, "\(check(source).diagnostics.map(\.message))")
        let misuse = check("let acme = /@acme\\.com$/\nrule \"r\" when acme assign \"staff\"").diagnostics
        #expect(misuse.map(\.message) == ["the condition is a regex, not a boolean"])
        let lint = check("let acme = /@acme\\.com|de$/\nrule \"r\" when user.email matches acme assign \"s\"")
            .diagnostics
        #expect(lint.map(\.code) == [.anchorAlternation])
        #expect(lint.first?.location.line == 1)
    }

    @Test func revokeAllExceptAnIdIsAWarning() {
        let found = check("rule \"r\" when user.email_verified revoke all except \"admin\", \"rol_123\"").diagnostics
        #expect(found.map(\.code) == [.exceptByID])
        #expect(found.first?.underlinedText == "\"rol_123\"")
    }

    @Test func daysSinceWithTheWrongArityIsOneError() {
        let found = check("rule \"r\" when days_since() >= 30 assign \"x\"").diagnostics
        #expect(found.map(\.code) == [.wrongArity])
    }

    @Test func aStopOnUserMetadataIsFlagged() {
        let found = check("rule \"r\" when user.user_metadata.beta == true stop").diagnostics
        #expect(found.map(\.code) == [.userEditableField])
        #expect(found.first?.message.hasPrefix("this rule stops evaluation on `user.user_metadata.beta`") == true)
    }

    @Test(arguments: [
        ("/@acme\\.com|de$/", true), ("/^(a|b)$/", false), ("/a$|b/", true), ("/^a$|^b$/", false),
    ])
    func anchorAlternationFlagsOnlyAnUnanchoredBranch(pattern: String, flagged: Bool) {
        let found = check("rule \"r\" when user.email matches \(pattern) assign \"x\"").diagnostics
        #expect(found.contains { $0.code == .anchorAlternation } == flagged, "\(found.map(\.message))")
    }

    @Test(arguments: [
        ("1 == logins_count", true), ("2 > logins_count", true), ("logins_count in [1]", true),
        ("logins_count < 1.5", true), ("logins_count <= 1", true), ("logins_count > 1", false),
        ("logins_count < 3", false),
    ])
    func firstLoginCountVariants(condition: String, flagged: Bool) {
        let found = check("rule \"r\" when \(condition) assign \"member\"").diagnostics
        #expect(found.contains { $0.code == .firstLoginCount } == flagged, "\(found.map(\.message))")
    }
}

@Suite struct RevokeAllLintTests {
    @Test(arguments: [
        ("rule \"a\" when user.email_verified assign \"staff\"\nrule \"b\" when user.email_verified revoke all", true),
        ("rule \"a\" when user.email_verified assign \"staff\"\nrule \"b\" revoke all", true),
        ("rule \"a\" when user.email_verified assign \"staff\"\nrule \"b\" revoke all except \"staff\"", false),
        ("rule \"a\" when user.email_verified assign \"staff\"\nrule \"b\" revoke all assign \"staff\"", false),
        ("rule \"a\" assign \"staff\"\nrule \"b\" when user.email_verified revoke all", false),
        ("rule \"b\" revoke all\nrule \"a\" assign \"staff\"", false),
    ])
    func aLaterRevokeAllOverridesAnAssign(source: String, flagged: Bool) {
        let found = check(source).diagnostics
        #expect(found.contains { $0.code == .overriddenEffect } == flagged, "\(found.map(\.message))")
    }
}

@Suite struct JoinedValuesTests {
    @Test(arguments: [
        (
            "user.email ends_with (\"@a.com\" or \"@b.com\")",
            "compare with each value: `user.email ends_with \"@a.com\" or user.email ends_with \"@b.com\"`"
        ),
        ("connection.name == (\"x\" or \"y\")", "compare with each value: `connection.name in [\"x\", \"y\"]`"),
        ("logins_count > (1 and 2)", "compare with each value: `logins_count > 1 and logins_count > 2`"),
    ])
    func valuesJoinedByOrAreOneError(condition: String, help: String) {
        let found = check("rule \"r\" when \(condition) assign \"x\"").diagnostics
        #expect(found.count == 1, "\(found.map(\.message))")
        #expect(found.first?.help == help)
    }

    @Test func conditionsJoinedByOrAreNotValues() {
        #expect(check("rule \"r\" when user.email_verified == (true or false) assign \"x\"").diagnostics.count == 1)
        #expect(check("rule \"r\" when (user.email_verified or logins_count > 1) assign \"x\"").diagnostics.isEmpty)
    }
}

@Suite struct RevokeAllStopLintTests {
    /// A rule that takes every role and stops gives a user nothing by editing their own metadata.
    @Test func revokeAllAndStopOnUserMetadataIsNotFlagged() {
        #expect(check("rule \"r\" when user.user_metadata.optout == true revoke all stop").diagnostics.isEmpty)
        #expect(check("rule \"r\" when user.user_metadata.optout == true stop").diagnostics.count == 1)
    }
}

@Suite struct QuantifierNameTakenTests {
    @Test func aLetNameUsedAsAQuantifierNameIsOneError() {
        let found = check("let i = true\nrule \"r\" when any(user.identities, i, i.provider == \"x\") assign \"g\"")
            .diagnostics
        #expect(found.map(\.code) == [.invalidName])
    }
}
