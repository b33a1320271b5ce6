import RolecallJSON
import RolecallLanguage
import Testing

/// The one JSON writer, and the one path printer, as every module uses them.
@Suite struct JSONTextTests {
    @Test(arguments: [
        (1.0, "1"), (-3.0, "-3"), (1.5, "1.5"), (0.0, "0"), (-0.0, "-0.0"), (1e15, "1000000000000000.0"),
        (1e20, "1e+20"),
        (999_999_999_999_999.0, "999999999999999"),
        (.infinity, "null"), (-.infinity, "null"), (.nan, "null"), (0.1, "0.1"),
    ])
    func numbers(value: Double, expected: String) {
        #expect(JSONText.number(value) == expected)
    }

    @Test func stringsEscapeQuotesBackslashesAndControlCharacters() {
        #expect(JSONText.quote("a\"b\\c\nd\re\tf\u{1}g\u{7F}é") == #""a\"b\\c\nd\re\tf\u0001g"# + "\u{7F}é\"")
    }

    @Test(arguments: [
        ("user.email", "user.email"), ("user.app_metadata[\"x-team\"]", "user.app_metadata[\"x-team\"]"),
        ("user.identities[0].provider", "user.identities[0].provider"),
        ("user.app_metadata.in", "user.app_metadata.in"),
        ("user[\"a\\\"b\"]", "user[\"a\\\"b\"]"),
    ])
    func pathsPrintAsWritten(source: String, expected: String) {
        let (rules, diagnostics) = Parser.parse(SourceFile(path: "t.rules", text: "when \(source) assign \"r\""))
        #expect(diagnostics.isEmpty)
        guard case .path(let segments)? = rules.first?.condition?.kind else {
            Issue.record("not a path")
            return
        }
        #expect(segments.dotted == expected)
    }
}
