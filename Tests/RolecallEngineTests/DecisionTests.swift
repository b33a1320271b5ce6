import RolecallEngine
import Testing

@Suite struct DecisionTests {
    @Test func theSeedCaseAssignsMemberOnFirstLogin() throws {
        let rules = "rule \"first login gets member\" when logins_count == 1 assign \"member\""
        let first = try decide(rules, #"{"stats": {"logins_count": 1}, "authorization": {"roles": []}}"#)
        #expect(
            first
                == Decision(
                    assign: ["member"], revoke: [], roles: ["member"], matched: ["first login gets member"], errors: [])
        )
        let later = try decide(rules, #"{"stats": {"logins_count": 2}}"#)
        #expect(later.assign.isEmpty && later.matched.isEmpty)
    }

    @Test func laterRulesWinPerRole() throws {
        let rules = """
            rule "a" assign "x", "y"
            rule "b" when logins_count > 1 revoke "x"
            rule "c" when logins_count > 2 assign "x"
            """
        let two = try decide(rules, #"{"stats": {"logins_count": 2}}"#)
        #expect(two.assign == ["y"])
        #expect(two.revoke == ["x"])
        let three = try decide(rules, #"{"stats": {"logins_count": 3}}"#)
        #expect(three.assign == ["x", "y"])
        #expect(three.revoke == [])
        #expect(three.matched == ["a", "b", "c"])
    }

    @Test func stopEndsEvaluation() throws {
        let rules = """
            rule "blocked" when user.app_metadata.blocked == true revoke "member" stop
            rule "member" assign "member"
            """
        let blocked = try decide(
            rules, #"{"user": {"app_metadata": {"blocked": true}}, "authorization": {"roles": ["member", "other"]}}"#)
        #expect(blocked.matched == ["blocked"])
        #expect(blocked.revoke == ["member"])
        #expect(blocked.roles == ["other"])
        let fine = try decide(rules, #"{"user": {"app_metadata": {}}}"#)
        #expect(fine.matched == ["member"])
    }

    @Test func rolesAreCurrentPlusAssignedMinusRevoked() throws {
        let rules = """
            rule "a" assign "new", "kept"
            rule "b" revoke "gone"
            """
        let decision = try decide(rules, #"{"authorization": {"roles": ["kept", "gone", "other", "other"]}}"#)
        #expect(decision.roles == ["kept", "other", "new"])
        // Roles that are not names would vanish from `roles` without being revoked: the event is refused.
        for malformed in [#"["kept", 7]"#, #""kept""#, #"{"kept": true}"#, #"[null]"#] {
            let event = Array(#"{"authorization": {"roles": \#(malformed)}}"#.utf8)
            #expect(try rejection(event, rules: rules)?.message.hasPrefix("`authorization.roles` must") == true)
        }
    }

    @Test func evaluationErrorsAreConfinedToTheirRule() throws {
        let rules = """
            rule "broken" when user.app_metadata.plan > 3 assign "x"
            when logins_count == 1 assign "y"
            """
        let decision = try decide(rules, #"{"user": {"app_metadata": {"plan": "pro"}}, "stats": {"logins_count": 1}}"#)
        #expect(decision.matched == ["t.rules#2"])
        #expect(decision.assign == ["y"])
        #expect(
            decision.errors == [
                Decision.RuleError(
                    rule: "broken", code: "type-mismatch", message: "`>` cannot compare a string with a number",
                    at: "t.rules:1:20")
            ])
    }

    @Test func decisionJSONHasTheDocumentedShape() throws {
        let decision = Decision(
            assign: ["a\"b"], revoke: [], roles: ["a\"b"], matched: ["r"],
            errors: [.init(rule: "r", code: "type-mismatch", message: "m", at: "f:1:2")])
        #expect(
            decision.json
                == #"{"assign":["a\"b"],"revoke":[],"roles":["a\"b"],"matched":["r"],"errors":[{"rule":"r","code":"type-mismatch","message":"m","at":"f:1:2"}]}"#
        )
    }

    @Test func theBatchWriterAgreesWithTheDecisionValue() throws {
        let program = try compile(
            """
            rule "a" when user.email ends_with "@acme.com" assign "staff" revoke "guest"
            rule "b" when user.app_metadata.plan > 1 assign "x"
            """)
        let events = [
            #"{"user": {"email": "a@acme.com"}}"#,
            #"{"user": {"email": "a@acme.com"}, "authorization": {"roles": ["guest", "old"]}}"#,
            #"{"user": {"email": "b@x.com", "app_metadata": {"plan": "pro"}}}"#,
            #"{"authorization": {"roles": []}}"#,
        ]
        let evaluator = Evaluator(program: program)
        for event in events {
            var line: [UInt8] = []
            let bytes = Array(event.utf8)
            try bytes.withUnsafeBytes { buffer in try evaluator.evaluate(buffer, writingTo: &line) }
            let expected = try evaluator.evaluate(bytes).json + "\n"
            #expect(String(decoding: line, as: UTF8.self) == expected)
        }
    }

    @Test func explainShowsEachComparisonAndItsValues() throws {
        let program = try compile(
            """
            rule "staff" when user.email matches /@acme\\.com$/ and user.email_verified assign "staff"
            rule "never" when logins_count > 10 stop
            """)
        let explanation = try Evaluator(program: program).explain(
            Array(#"{"user": {"email": "x@ACME.com", "email_verified": true}, "stats": {"logins_count": 3}}"#.utf8))
        #expect(explanation.rules.map(\.outcome) == ["not fired", "not fired"])
        let step = try #require(explanation.rules[0].steps.first)
        #expect(step.source == "user.email matches /@acme\\.com$/")
        #expect(step.result == false)
        #expect(step.operands == [.init(source: "user.email", value: "\"x@ACME.com\"")])
        #expect(explanation.rules[0].steps.count == 1)  // short-circuited: email_verified never evaluated
        #expect(explanation.text.contains("logins_count = 3"))
    }

    @Test func anEvaluatorIsReusableAcrossEvents() throws {
        let evaluator = Evaluator(program: try compile("rule \"m\" when logins_count == 1 assign \"member\""))
        for count in [1, 2, 1, 5] {
            let decision = try evaluator.evaluate(Array(#"{"stats": {"logins_count": \#(count)}}"#.utf8))
            #expect(decision.assign == (count == 1 ? ["member"] : []))
        }
    }

    @Test func theProgramIsSharedAcrossConcurrentEvaluators() async throws {
        let program = try compile("rule \"m\" when user.email matches /^u[0-9]+@x$/ assign \"member\"")
        let results = await withTaskGroup(of: Bool.self) { group in
            for task in 0..<8 {
                group.addTask {
                    let evaluator = Evaluator(program: program)
                    for index in 0..<500 {
                        let email = index % 2 == 0 ? "u\(task)\(index)@x" : "nobody@y"
                        guard let decision = try? evaluator.evaluate(Array(#"{"user": {"email": "\#(email)"}}"#.utf8)),
                            decision.assign == (index % 2 == 0 ? ["member"] : [])
                        else { return false }
                    }
                    return true
                }
            }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(results == Array(repeating: true, count: 8))
    }

    /// JSON object keys are compared by their bytes: `"caf\u00e9"` and `"cafe\u0301"` are two keys (as the
    /// reader's duplicate-key check has them), though Swift's `String` finds them equal.
    @Test func objectKeysAreComparedByBytesNotByUnicodeEquivalence() throws {
        let rules = """
            rule "two" when length(user.app_metadata.w) == 2 assign "two"
            rule "equal" when user.app_metadata.w == user.app_metadata.v assign "equal"
            """
        let both = #"{"user":{"app_metadata":{"w":{"caf\u00e9":1,"cafe\u0301":2},"v":{"caf\u00e9":1}}}}"#
        #expect(try decide(rules, both).assign == ["two"])
        // Raw UTF-8 keys, not escapes: the same.
        let raw = "{\"user\":{\"app_metadata\":{\"w\":{\"caf\u{E9}\":1,\"cafe\u{301}\":2},\"v\":{\"caf\u{E9}\":1}}}}"
        #expect(try decide(rules, raw).assign == ["two"])
        // One spelling in each object: different objects.
        let crossed = #"{"user":{"app_metadata":{"w":{"caf\u00e9":1},"v":{"cafe\u0301":1}}}}"#
        #expect(try decide(rules, crossed).assign == [])
        let same = #"{"user":{"app_metadata":{"w":{"caf\u00e9":1},"v":{"caf\u00e9":1}}}}"#
        #expect(try decide(rules, same).assign == ["equal"])
    }

    /// Role names are their bytes: `"caf\u{E9}"` and `"cafe\u{301}"` are two roles, as Auth0 has them, though
    /// Swift's `String` finds them equal. (Compared here as bytes too, for the same reason.)
    @Test func roleNamesAreTheirBytesNotUnicodeEquivalents() throws {
        let nfc = "caf\u{E9}"
        let nfd = "cafe\u{301}"
        func bytes(_ names: [String]) -> [[UInt8]] { names.map { Array($0.utf8) } }
        let decision = try decide(
            "rule \"a\" assign \"\(nfc)\"\nrule \"b\" revoke \"\(nfd)\"",
            #"{"authorization":{"roles":["cafe\u0301","x"]}}"#)
        #expect(bytes(decision.assign) == bytes([nfc]))
        #expect(bytes(decision.revoke) == bytes([nfd]))
        #expect(bytes(decision.roles) == bytes(["x", nfc]))
        // `revoke all` revokes each spelling the user holds.
        let all = try decide(
            "rule \"r\" revoke all", #"{"authorization":{"roles":["cafe\u0301","caf\u00e9","x"]}}"#)
        #expect(bytes(all.revoke) == bytes([nfd, nfc, "x"]))
        #expect(all.roles.isEmpty)
    }

    /// One rule naming both spellings assigns both; decisions that differ only in a spelling are not equal; and
    /// each spelling is decided by its own rule (a `[String: String]` of deciding rules merged the two, and the
    /// trace of `revoke all` then listed a role another rule revoked).
    @Test func eachSpellingOfARoleHasItsOwnEffectAndDecidingRule() throws {
        let nfc = "caf\u{E9}"
        let nfd = "cafe\u{301}"
        func bytes(_ names: [String]) -> [[UInt8]] { names.map { Array($0.utf8) } }
        let both = try decide("rule \"a\" assign \"\(nfc)\", \"\(nfd)\"", "{}")
        #expect(bytes(both.assign) == bytes([nfc, nfd]))
        #expect(try decide("rule \"a\" assign \"\(nfc)\"", "{}") != decide("rule \"a\" assign \"\(nfd)\"", "{}"))
        let program = try compile("rule \"r\" revoke all\nrule \"b\" revoke \"\(nfd)\"")
        let explanation = try Evaluator(program: program).explain(
            Array(#"{"authorization":{"roles":["caf\u00e9","cafe\u0301"]}}"#.utf8))
        #expect(bytes(explanation.decision.revoke) == bytes([nfd, nfc]))
        #expect(bytes(explanation.rules.map(\.outcome)) == bytes(["fired, revoke all: \(nfc)", "fired"]))
    }

    /// A ``JSONValue`` (suites' events and patches) compares strings and keys by their bytes, as the reader does.
    @Test func jsonValuesCompareStringsAndKeysByTheirBytes() {
        let (nfc, nfd) = ("caf\u{E9}", "cafe\u{301}")
        #expect(JSONValue.string(nfc) != .string(nfd))
        #expect(JSONValue.object([(nfc, .null)]) != .object([(nfd, .null)]))
        #expect(JSONValue.object([(nfc, .null)]) == .object([(nfc, .null)]))
        let merged = JSONValue.object([(nfc, .number(1))]).merging(.object([(nfd, .number(2))]))
        #expect(Array(merged.serialized.utf8) == Array("{\"\(nfc)\":1,\"\(nfd)\":2}".utf8))
    }
}
