import RolecallEngine
import Testing

/// What the compiler's faster paths for large rule sets (issue 10, item 4) must keep: regexes compiled once per
/// distinct pattern still match as written, and names written into decisions are quoted as JSON.
@Suite struct LoadSpeedCompileTests {
    @Test func aPatternIsSharedOnlyWithTheSameBytesAndFlags() throws {
        let rules = """
            rule "exact" when user.email matches /^a@x$/ assign "exact"
            rule "folded" when user.email matches /^a@x$/i assign "folded"
            rule "exact again" when user.email matches /^a@x$/ assign "again"
            rule "precomposed" when user.name matches /^\u{E9}$/ assign "pre"
            rule "combining" when user.name matches /^e\u{301}$/ assign "comb"
            """
        #expect(try decide(rules, #"{"user": {"email": "A@X"}}"#).matched == ["folded"])
        #expect(try decide(rules, #"{"user": {"email": "a@x"}}"#).matched == ["exact", "folded", "exact again"])
        #expect(try decide(rules, "{\"user\": {\"name\": \"\u{E9}\"}}").matched == ["precomposed"])
        #expect(try decide(rules, "{\"user\": {\"name\": \"e\u{301}\"}}").matched == ["combining"])
    }

    @Test(arguments: ["plain", "q\\\"uote", "back\\\\slash", "tab\\t", "\\u{1}", "é", "e\\u{301}"])
    func namesAreWrittenAsJSONStrings(written: String) throws {
        let program = try compile(
            """
            rule "rule \(written)" when user.email_verified assign "role \(written)"
            rule "revoker" when user.email_verified revoke all except "role \(written)"
            """)
        let evaluator = Evaluator(program: program)
        let event = Array(#"{"user": {"email_verified": true}, "authorization": {"roles": ["old"]}}"#.utf8)
        var line: [UInt8] = []
        try event.withUnsafeBytes { try evaluator.evaluate($0, writingTo: &line) }
        let decision = try evaluator.evaluate(event)
        #expect(String(decoding: line, as: UTF8.self) == decision.json + "\n")
        #expect(decision.matched.first?.hasPrefix("rule ") == true)
    }
}
