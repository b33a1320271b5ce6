import Testing

@testable import RolecallLanguage

@Suite struct SpellingTests {
    @Test func hiddenScalarsAreEscapedAndVisibleOnesAreNot() {
        #expect(
            Spelling.visible("a\u{202E}b\u{200B}c\u{AD}d\u{FEFF}\u{E0001}\u{2028}\u{85}\u{A0}")
                == #"a\u{202e}b\u{200b}c\u{ad}d\u{feff}\u{e0001}\u{2028}\u{85}\u{a0}"#)
        #expect(Spelling.visible("caf\u{E9} \u{5B57} \u{915}\u{93F}") == "caf\u{E9} \u{5B57} \u{915}\u{93F}")
        #expect(Spelling.visible("tab\there") == #"tab\there"#)
    }

    @Test func literalsShowEveryNonASCIIScalarAndCanBePasted() {
        #expect(Spelling.literal("caf\u{E9}") == #""caf\u{e9}""#)
        #expect(Spelling.literal("cafe\u{301}") == #""cafe\u{301}""#)
        #expect(Spelling.literal(#"x"y\z"#) == #""x\"y\\z""#)
        // Pasted into a rule, the literal is the same string again.
        for text in ["caf\u{E9}", "cafe\u{301}", #"x\u{E9}"y"#, "a\u{202E}\n"] {
            let source = "rule \(Spelling.literal(text)) assign \"r\""
            let result = check(source)
            #expect(result.diagnostics.filter { $0.severity == .error }.isEmpty, "\(source)")
            #expect(result.rules.first.map { Array($0.name.utf8) } == Array(text.utf8), "\(source)")
        }
    }

    @Test func namesThatPrintAlikeAreShownAsLiteralsAndOthersAsThemselves() {
        let shown = Spellings(["caf\u{E9}", "cafe\u{301}", "caf\u{E9}", "tea\u{202E}", "x"])
        #expect(shown.alike == [ExactString("caf\u{E9}"), ExactString("cafe\u{301}")])
        #expect(shown.inline("caf\u{E9}") == #""caf\u{e9}""#)
        #expect(shown.inline("cafe\u{301}") == #""cafe\u{301}""#)
        #expect(shown.inline("tea\u{202E}") == #"tea\u{202e}"#)
        #expect(shown.quoted("tea\u{202E}") == #""tea\u{202e}""#)
        #expect(shown.quoted("x") == #""x""#)
        // One spelling alone prints like nothing else: it is shown as itself.
        #expect(Spellings(["caf\u{E9}", "caf\u{E9}"]).inline("caf\u{E9}") == "caf\u{E9}")
        #expect(Spelling.quoted("caf\u{E9}\"") == "\"caf\u{E9}\\\"\"")
    }

    /// A `revoke all except` that keeps the other spelling of the role: the warning writes both out and says so.
    @Test func anOverriddenEffectByTheOtherSpellingSaysWhatDiffers() throws {
        let result = check(
            """
            rule "r1" when user.email_verified assign "caf\u{E9}"
            rule "r2" when user.email_verified revoke all except "cafe\u{301}"
            """)
        let d = try #require(result.diagnostics.first { $0.code == .overriddenEffect })
        #expect(d.message == #"this rule assigns `"caf\u{e9}"`, but "r2" always revokes it afterwards"#)
        #expect(
            d.help
                == #""r2" keeps "cafe\u{301}" with `revoke all except`, which differs from "caf\u{e9}" only in how its "#
                + "characters are encoded")
    }

    @Test func aHiddenScalarInALintedRoleIsEscaped() throws {
        let result = check(
            """
            rule "r1" when user.email_verified assign "a\u{202E}b"
            rule "r2" when user.email_verified revoke "a\u{202E}b"
            """)
        let d = try #require(result.diagnostics.first { $0.code == .overriddenEffect })
        #expect(d.message == #"this rule assigns `a\u{202e}b`, but "r2" always revokes it afterwards"#)
    }
}
