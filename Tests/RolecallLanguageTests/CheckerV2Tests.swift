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
