import Testing

@testable import RolecallLanguage

@Suite struct SpellingTests {
    @Test func hiddenScalarsAreEscapedAndVisibleOnesAreNot() {
        #expect(
            Spelling.visible("a\u{202E}b\u{200B}c\u{AD}d\u{FEFF}\u{E0001}\u{2028}\u{85}\u{A0}")
                == #"a\u{202e}b\u{200b}c\u{ad}d\u{feff}\u{e0001}\u{2028}\u{85}\u{a0}"#)
        #expect(Spelling.visible("caf\u{E9} \u{5B57} \u{915}\u{93F}") == "caf\u{E9} \u{5B57} \u{915}\u{93F}")
        #expect(Spelling.visible("tab\there") == #"tab\u{9}here"#)
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
}
