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

    @Test func surrogatePairsAreDecoded() throws {
        let decision = try decide(
            #"rule "r" when user.email == "a😀" assign "y""#, #"{"user": {"email": "a\ud83d\ude00"}}"#)
        #expect(decision.matched == ["r"])
    }

    /// Issue 7, item 13: a lone surrogate used to become U+FFFD silently, and that user was changed.
    @Test(arguments: [
        (#"{"user": {"user_id": "auth0|\ud800"}}"#, "`user.user_id` holds a lone surrogate `\\ud800`"),
        (#"{"user": {"user_id": "x\udc00y"}}"#, "`user.user_id` holds a lone surrogate `\\udc00`"),
        (#"{"user": {"email": "\ud800\u0041"}}"#, "`user.email` holds a lone surrogate `\\ud800`"),
        (#"{"authorization": {"roles": ["a", "\uDBFF"]}}"#, "`authorization.roles[1]` holds a lone surrogate"),
    ])
    func loneSurrogatesInReadFieldsAreRefused(event: String, message: String) throws {
        let error = try #require(try rejection(Array(event.utf8)))
        #expect(error.message.contains(message), "\(error)")
        #expect(error.message.hasSuffix("which I-JSON forbids"), "\(error)")
    }

    @Test func loneSurrogatesInFieldsNobodyReadsAreAccepted() throws {
        #expect(try rejection(Array(#"{"other": "\ud800", "user": {"name": "\udc00"}}"#.utf8)) == nil)
    }

    /// Issue 7, item 3: `{"user": {...alice...}, "user": {...mallory...}}` had two readings.
    @Test(arguments: [
        (
            #"{"user":{"user_id":"auth0|alice","email":"alice@acme.com"},"user":{"user_id":"auth0|mallory"}}"#,
            "the key `user` appears twice in the event"
        ),
        (#"{"user": {"email": "a", "email": "b"}}"#, "the key `user.email` appears twice in the event"),
        (#"{"user": {"user_id": "a", "user_id": "b"}}"#, "the key `user.user_id` appears twice in the event"),
        (#"{"user": {"em\u0061il": "a", "email": "b"}}"#, "the key `user.email` appears twice in the event"),
        (
            #"{"authorization": {"roles": []}, "authorization": {}}"#,
            "the key `authorization` appears twice in the event"
        ),
        (
            #"{"authorization": {"roles": [{"k": 1, "k": 2}]}}"#,
            "the key `authorization.roles[0].k` appears twice in the event"
        ),
    ])
    func duplicateKeysOnTheWayToAReadFieldAreRefused(event: String, message: String) throws {
        let error = try #require(try rejection(Array(event.utf8)))
        #expect(error.message == message, "\(error)")
    }

    @Test func duplicateKeysInsideAnObjectReadAsAWholeAreRefused() throws {
        let whole = #"rule "r" when user.app_metadata.plan == "x" and user.app_metadata != null assign "y""#
        let error = try #require(
            try rejection(Array(#"{"user": {"app_metadata": {"team": {"a": 1, "a": 2}}}}"#.utf8), rules: whole))
        #expect(error.message == "the key `user.app_metadata.team.a` appears twice in the event")
        let sibling = try #require(
            try rejection(Array(#"{"user": {"app_metadata": {"x": 1, "x": 2}}}"#.utf8), rules: whole))
        #expect(sibling.message == "the key `user.app_metadata.x` appears twice in the event")
    }

    @Test func duplicateKeysNobodyReadsAreAccepted() throws {
        #expect(try rejection(Array(#"{"other": 1, "other": 2, "user": {"name": 1, "name": 2}}"#.utf8)) == nil)
    }

    /// Issue 7, item 13: `1e999` where nobody reads it is accepted (by `eval` and `apply` alike, since both use
    /// this reader); where the rules read it, it is refused.
    @Test func numbersOutOfRangeAreRefusedOnlyWhereRead() throws {
        #expect(try rejection(Array(#"{"other": 1e999, "user": {"email": "x"}}"#.utf8)) == nil)
        let inList = #"rule "r" when "a" in authorization.roles assign "y""#
        #expect(
            try rejection(Array(#"{"authorization": {"roles": ["a", 1e999]}}"#.utf8), rules: inList)?.message
                == "`authorization.roles[1]` holds a number out of range for a double, which I-JSON forbids")
    }

    /// Like a lone surrogate or a repeated key, a number out of range where the rules read names its path: a field
    /// read as a number, deep inside a value read whole, and an element bound by `any`.
    @Test func numbersOutOfRangeNameTheirPath() throws {
        let cases: [(rules: String, event: String, path: String)] = [
            (#"when stats.logins_count > 1 assign "x""#, #"{"stats": {"logins_count": -1e400}}"#, "stats.logins_count"),
            (
                #"when "a" in authorization.roles assign "y""#, #"{"authorization": {"roles": ["a", {"x": [1E999]}]}}"#,
                "authorization.roles[1].x[0]"
            ),
            (
                #"when any(authentication.methods, m, m.name == "mfa") assign "z""#,
                #"{"authentication": {"methods": [{"name": 1e999}]}}"#, "authentication.methods[*].name"
            ),
        ]
        for (rules, event, path) in cases {
            let error = try #require(try rejection(Array(event.utf8), rules: rules), "\(event)")
            #expect(error.message == "`\(path)` holds a number out of range for a double, which I-JSON forbids")
            #expect(
                event.utf8.dropFirst(error.offset).first.map { [UInt8(ascii: "-"), UInt8(ascii: "1")].contains($0) }
                    == true)
        }
    }

    @Test func theDecisionCarriesTheUserAndCurrentRolesAsRead() throws {
        let decision = try decide(
            #"rule "r" when user.email == "a" assign "y""#,
            #"{"user": {"user_id": "auth0|\u0061lice", "email": "a"}, "authorization": {"roles": ["x", "z"]}}"#)
        #expect(decision.userID == "auth0|alice")
        #expect(decision.currentRoles == ["x", "z"])
        let anonymous = try decide(#"rule "r" assign "y""#, #"{"user": {"user_id": 7}}"#)
        #expect(anonymous.userID == nil)
        #expect(anonymous.currentRoles.isEmpty)
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
