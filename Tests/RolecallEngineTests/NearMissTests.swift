import RolecallEngine
import Testing

/// Traces say when a false comparison was nearly true.
@Suite struct NearMissTests {
    @Test(arguments: [
        (
            #"user.email == "a@acme.com""#, #"{"user": {"email": "A@Acme.com"}}"#,
            #""A@Acme.com" and "a@acme.com" differ only by letter case"#
        ),
        (
            #"user.email == "a@acme.com""#, #"{"user": {"email": " a@acme.com "}}"#,
            #"" a@acme.com " and "a@acme.com" differ only by surrounding whitespace"#
        ),
        (
            #"user.app_metadata.level == 1"#, #"{"user": {"app_metadata": {"level": "1"}}}"#,
            #""1" is a string and 1 a number: they differ only by type"#
        ),
        (
            #"request.geoip.countryCode in ["DE", "FR"]"#, #"{"request": {"geoip": {"countryCode": "de"}}}"#,
            #""de" and "DE" differ only by letter case"#
        ),
        (
            #""admin" in user.app_metadata.groups"#, #"{"user": {"app_metadata": {"groups": ["Admin"]}}}"#,
            #""admin" and "Admin" differ only by letter case"#
        ),
        (
            #"user.email matches /@acme\.com$/"#, #"{"user": {"email": "a@ACME.com"}}"#,
            "would match with the `i` flag (ignoring letter case)"
        ),
        (#"user.email starts_with "ada""#, #"{"user": {"email": "Ada@x"}}"#, "would be true ignoring letter case"),
        (
            #"user.app_metadata.groups contains "ops""#, #"{"user": {"app_metadata": {"groups": ["OPS"]}}}"#,
            #""ops" and "OPS" differ only by letter case"#
        ),
    ])
    func hints(condition: String, event: String, hint: String) throws {
        let program = try compile("rule \"r\" when \(condition) assign \"x\"")
        let explanation = try Evaluator(program: program).explain(Array(event.utf8))
        let step = try #require(explanation.rules.first?.steps.first)
        #expect(step.result == false)
        #expect(step.hint == hint)
        #expect(explanation.text.contains("hint: \(hint)"))
    }

    @Test func noHintWhenNothingIsClose() throws {
        let program = try compile(#"rule "r" when user.email == "a@acme.com" assign "x""#)
        let explanation = try Evaluator(program: program).explain(Array(#"{"user": {"email": "b@other.org"}}"#.utf8))
        #expect(explanation.rules.first?.steps.first?.hint == nil)
    }
}
