import RolecallEngine
import Testing

/// The byte-level event reader: every malformed or hostile event is a clear error, never a crash.
@Suite struct EventReaderTests {
    @Test(arguments: [
        (#"{"user": {"email": "x"}"#, "unexpected end of input"),
        (#"{"user": {"email": "x}}"#, "unterminated string"),
        (#"{"user": {"email": "x"}} trailing"#, "expected the end of the event"),
        (#"[1, 2]"#, "expected a JSON object"),
        ("", "empty input"),
        ("   ", "unexpected end of input"),
        (#"{"user": {"email": "a\qb"}}"#, "invalid escape"),
        (#"{"user": {"email": "\u12"}}"#, "invalid \\u escape"),
        (#"{"a": 01}"#, "unexpected `1`"),
        (#"{"a": 1.}"#, "digits expected after `.`"),
        (#"{"a": -}"#, "invalid number"),
        (#"{"a": tru}"#, "invalid literal"),
        (#"{"a": nul, "user": {}}"#, "invalid literal"),
        (#"{"a" 1}"#, "expected `:`"),
        (#"{"a": 1,}"#, "expected a key in quotes"),
        (#"{"a": [1 2]}"#, "expected `,` or `]`"),
        (#"{a: 1}"#, "expected a key in quotes"),
        ("{\"user\": {\"email\": \"tab\there\"}}", "control character"),
        (#"{"user": {"email": 1e999}}"#, "number out of range"),
    ])
    func malformedEventsAreRejected(event: String, message: String) throws {
        let error = try #require(try rejection(Array(event.utf8)))
        #expect(error.message.contains(message), "\(error)")
    }

    @Test func invalidUTF8IsRejectedInReadAndSkippedFields() throws {
        for bytes in [[0xC3, 0x28], [0xED, 0xA0, 0x80], [0xF8, 0x88, 0x80, 0x80], [0xE2, 0x82]] as [[UInt8]] {
            let read = Array(#"{"user": {"email": ""#.utf8) + bytes + Array(#""}}"#.utf8)
            let skipped = Array(#"{"other": ""#.utf8) + bytes + Array(#"", "user": {}}"#.utf8)
            #expect(try rejection(read)?.message == "invalid UTF-8")
            #expect(try rejection(skipped)?.message == "invalid UTF-8")
        }
    }

    @Test func hundredThousandNestedArraysAreAnError() throws {
        let depth = 100_000
        let skipped = Array(
            ("{\"deep\": " + String(repeating: "[", count: depth) + String(repeating: "]", count: depth) + "}").utf8)
        #expect(try rejection(skipped)?.message == "nesting deeper than 512 levels")
        let read = Array(
            ("{\"user\": {\"email\": " + String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
                + "}}").utf8)
        #expect(try rejection(read)?.message == "nesting deeper than 512 levels")
        let objects = Array(
            (String(repeating: "{\"user\":", count: depth) + "1" + String(repeating: "}", count: depth)).utf8)
        #expect(try rejection(objects)?.message == "nesting deeper than 512 levels")
    }

    @Test func escapedStringsAndKeysAreDecoded() throws {
        let rules = #"rule "r" when user.email == "é😀\"\\/" and user.name == "x" assign "y""#
        let event = #"{"user": {"em\u0061il": "\u00e9\ud83d\ude00\"\\\/", "name": "x"}}"#
        #expect(try decide(rules, event).matched == ["r"])
    }

    @Test func loneSurrogatesBecomeReplacementCharacters() throws {
        let decision = try decide(
            #"rule "r" when user.email == "a\u{FFFD}" assign "y""#, #"{"user": {"email": "a\ud800"}}"#)
        #expect(decision.matched == ["r"])
    }

    @Test func duplicateKeysLastWins() throws {
        let decision = try decide(
            #"rule "r" when user.email == "b" assign "y""#, #"{"user": {"email": "a", "email": "b"}}"#)
        #expect(decision.matched == ["r"])
    }

    @Test func fieldsOfTheWrongShapeReadAsTheyAre() throws {
        // `user` is a string here: `user.email` is then missing (null), not an error.
        let decision = try decide(#"rule "r" when user.email == null assign "y""#, #"{"user": "someone"}"#)
        #expect(decision.matched == ["r"])
        let indexed = try decide(
            #"rule "r" when user.identities[1].provider == "github" assign "y""#,
            #"{"user": {"identities": [{"provider": "auth0"}, {"provider": "github"}]}}"#)
        #expect(indexed.matched == ["r"])
    }

    @Test func aFiftyMegabyteEventIsReadCorrectly() throws {
        // The CLI refuses events over --max-event-bytes; the engine itself has no size limit and no recursion
        // proportional to size.
        let padding = String(repeating: "x", count: 50 << 20)
        let event = #"{"pad": ""# + padding + #"", "user": {"email": "x"}}"#
        let decision = try decide(#"rule "r" when user.email == "x" assign "y""#, event)
        #expect(decision.matched == ["r"])
    }

    @Test func catastrophicRegexEndsAsAnEvaluationError() throws {
        let rules = #"rule "evil" when user.email matches /^(a+)+$/ assign "x" rule "next" assign "y""#
        let event = #"{"user": {"email": ""# + String(repeating: "a", count: 40) + #"!"}}"#
        let decision = try decide(rules, event)
        #expect(decision.matched == ["next"])
        #expect(
            decision.errors.first?.message.contains("exceeded its backtracking limit") == true, "\(decision.errors)")
    }
}
