import RolecallEngine
import RolecallJSON
import RolecallLanguage
import Testing

/// The version 2 constructs against every value type and `null` (DESIGN.md, "version 2 additions"): `any` and
/// `all`, `days_since` and the clock, `let`, and `revoke all [except]`.
@Suite struct Version2EvaluatorTests {
    static let event = """
        {"user": {"user_id": "auth0|1", "created_at": "2026-01-01T00:00:00Z", "app_metadata": {
          "s": "abc", "n": 5, "t": true, "z": null, "e": [], "strings": ["admin-eu", "dev"],
          "objects": [{"k": "a", "n": 1}, {"k": "b", "n": 2, "deep": {"x": [10, 20]}}],
          "mixed": ["a", 1, null, {"k": "a"}], "nested": [["x", "y"], ["z"]], "o": {"k": "v"},
          "stamp": "2026-11-29T00:00:00Z", "late": "2026-12-01T08:00:00+02:00", "bad": "yesterday"
        }},
        "authentication": {"methods": [{"name": "pwd", "timestamp": "2026-11-30T08:00:00Z"}, {"name": "mfa"}]},
        "user_identities_note": "unused"}
        """

    enum Outcome: Sendable, CustomStringConvertible {
        case fires, doesNotFire
        case error(String)
        var description: String {
            switch self {
            case .fires: "fires"
            case .doesNotFire: "does not fire"
            case .error(let message): "error containing \(message)"
            }
        }
    }

    /// 2026-11-30T00:00:00Z.
    static let now = Timestamp.seconds("2026-11-30T00:00:00Z")!

    @Test(arguments: [
        // any: at least one element; all: every element, true on []; null list false for both
        ("any(@strings, g, g starts_with \"admin-\")", Outcome.fires),
        ("all(@strings, g, g starts_with \"admin-\")", .doesNotFire),
        ("all(@strings, g, length(g) >= 3)", .fires), ("any(@e, x, true)", .doesNotFire), ("all(@e, x, false)", .fires),
        ("any(@z, x, true)", .doesNotFire), ("all(@z, x, true)", .doesNotFire),
        ("any(@missing, x, true)", .doesNotFire),
        ("all(@missing, x, true)", .doesNotFire),
        // elements of every type; a missing field of an element is null
        ("any(@objects, o, o.k == \"b\" and o.n == 2)", .fires),
        ("any(@objects, o, o.k == \"b\" and o.n == 1)", .doesNotFire),
        ("all(@objects, o, o.n > 0)", .fires), ("any(@objects, o, o.deep.x[1] == 20)", .fires),
        ("any(@objects, o, o.missing == null)", .fires), ("any(@mixed, m, m == null)", .fires),
        ("any(@mixed, m, m == 1)", .fires), ("any(@mixed, m, m.k == \"a\")", .fires),
        ("all(@mixed, m, m.k == null)", .doesNotFire),
        ("any(@nested, l, \"z\" in l)", .fires), ("all(@nested, l, any(l, x, x == \"x\" or x == \"z\"))", .fires),
        ("any(@nested, l, all(l, x, x == \"x\"))", .doesNotFire), ("any([\"a\", @s], x, x == \"abc\")", .fires),
        ("any(authentication.methods, m, m.name == \"mfa\")", .fires),
        ("all(authentication.methods, m, m.name == \"mfa\")", .doesNotFire),
        // the list is not a list, or the condition fails: an error of the rule
        ("any(@s, x, true)", .error("`any` takes a list, not a string")),
        ("all(@o, x, true)", .error("`all` takes a list, not an object")),
        ("any(@n, x, true)", .error("not a number")), ("any(@t, x, true)", .error("not a boolean")),
        ("any(@strings, g, g)", .error("condition is a string")), ("all(@mixed, m, m < 2)", .error("cannot compare")),
        // an element that decides before the error: `any` stops at the first true
        ("any(@mixed, m, m == \"a\" or m < 2)", .fires),
        // days_since: fractional days to the clock; null for null; an error for a non-timestamp
        ("days_since(@stamp) == 1", .fires), ("days_since(user.created_at) > 300", .fires),
        ("days_since(user.created_at) > 333", .doesNotFire), ("days_since(@late) == -1.25", .fires),
        ("days_since(@z) == null", .fires), ("days_since(@missing) > 1", .doesNotFire),
        ("days_since(authentication.methods[0].timestamp) < 0", .fires),
        ("days_since(@bad) > 1", .error("`days_since` takes an RFC 3339 timestamp, not \"yesterday\"")),
        ("days_since(@n) > 1", .error("`days_since` takes an RFC 3339 timestamp string, not a number")),
        ("days_since(@strings) > 1", .error("not a list")),
    ])
    func constructSemantics(condition: String, expected: Outcome) throws {
        let source = "rule \"r\" when \(condition.replacingDollars()) assign \"x\""
        let evaluator = Evaluator(program: try compile(source))
        evaluator.now = Self.now
        let decision = try evaluator.evaluate(Array(Self.event.utf8))
        let traced = try evaluator.explain(Array(Self.event.utf8)).decision
        #expect(traced == decision)
        switch expected {
        case .fires:
            #expect(decision.matched == ["r"], "\(decision.errors)")
            #expect(decision.errors.isEmpty)
        case .doesNotFire:
            #expect(decision.matched.isEmpty)
            #expect(decision.errors.isEmpty, "\(decision.errors)")
        case .error(let message):
            #expect(decision.matched.isEmpty)
            #expect(decision.errors.count == 1)
            #expect(decision.errors.first?.message.contains(message) == true, "\(decision.errors)")
            #expect(decision.errors.first?.at.hasPrefix("t.rules:1:") == true)
        }
    }

    @Test func aQuantifierInsideALetInsideAQuantifierKeepsTheOuterElement() throws {
        let source = """
            let mfa = any(authentication.methods, m, m.name == "mfa")
            rule "r" when any(user.app_metadata.objects, o, mfa and o.k == "b") assign "x"
            """
        #expect(try decide(source, Self.event).matched == ["r"])
    }

    @Test func theClockIsFixedByNowOrReadOnceFromTheWallClock() throws {
        let program = try compile("rule \"r\" when days_since(user.app_metadata.stamp) < 2 assign \"x\"")
        let evaluator = Evaluator(program: program)
        evaluator.now = Timestamp.seconds("2026-12-05T00:00:00Z")
        #expect(try evaluator.evaluate(Array(Self.event.utf8)).matched.isEmpty)
        evaluator.now = nil
        // The wall clock is after 2026-11-29 on any machine that runs this test after it was written.
        let wall = Evaluator.wallClock()
        #expect(try evaluator.evaluate(Array(Self.event.utf8)).matched.isEmpty == (wall > Self.now + 86_400))
    }

    @Test func aReplayedEventCarriesItsOwnClockOnlyWhenAsked() throws {
        let program = try compile("rule \"r\" when days_since(user.created_at) < 1 assign \"x\"")
        let event = Array(
            #"{"rolecall_now": "2026-01-01T12:00:00Z", "user": {"created_at": "2026-01-01T00:00:00Z"}}"#.utf8)
        let evaluator = Evaluator(program: program)
        evaluator.now = Self.now
        #expect(try evaluator.evaluate(event).matched.isEmpty)
        evaluator.clockFromEvent = true
        #expect(try evaluator.evaluate(event).matched == ["r"])
        let bad = Array(#"{"rolecall_now": "noon", "user": {}}"#.utf8)
        #expect(throws: JSONError.self) { try evaluator.evaluate(bad) }
        let twice = Array(#"{"rolecall_now": "2026-01-01T12:00:00Z", "rolecall_now": "2027-01-01T12:00:00Z"}"#.utf8)
        evaluator.clockFromEvent = false
        #expect(throws: JSONError.self) { try evaluator.evaluate(twice) }
    }

    @Test func letNamesConditionsAndConstantsAcrossFiles() throws {
        let files = [
            SourceFile(
                path: "names.rules",
                text: "let eu = [\"DE\", \"FR\"]\nlet employee = user.email ends_with \"@acme.com\"\n"),
            SourceFile(
                path: "rules.rules",
                text: "rule \"eu staff\" when employee and request.geoip.countryCode in eu assign \"eu-staff\""),
        ]
        let checked = Checker.check(files)
        #expect(!checked.hasErrors, "\(checked.diagnostics.map(\.message))")
        let evaluator = Evaluator(program: Program(checked))
        let yes = #"{"user": {"email": "a@acme.com"}, "request": {"geoip": {"countryCode": "FR"}}}"#
        let no = #"{"user": {"email": "a@acme.co"}, "request": {"geoip": {"countryCode": "FR"}}}"#
        #expect(try evaluator.evaluate(Array(yes.utf8)).matched == ["eu staff"])
        #expect(try evaluator.evaluate(Array(no.utf8)).matched.isEmpty)
        // Traces show the name with its value, and the conditions it stands for in their own file.
        let steps = try evaluator.explain(Array(yes.utf8)).rules[0].steps
        #expect(steps.map(\.source).contains("employee"))
        #expect(steps.map(\.source).contains("user.email ends_with \"@acme.com\""))
        // Coverage counts the conditions inside the name, located where they are written.
        let atoms = evaluator.program.conditionAtoms(ofRule: 0)
        #expect(atoms.map(\.source) == ["user.email ends_with \"@acme.com\"", "request.geoip.countryCode in eu"])
        #expect(atoms[0].location == "names.rules:2:16")
    }

    @Test func anErrorInsideALetIsReportedWhereItIsUsed() throws {
        let files = [
            SourceFile(path: "names.rules", text: "let big = user.app_metadata.s > 1\n"),
            SourceFile(path: "rules.rules", text: "rule \"r\"\nwhen big assign \"x\""),
        ]
        let evaluator = Evaluator(program: Program(Checker.check(files)))
        let decision = try evaluator.evaluate(Array(Self.event.utf8))
        #expect(decision.errors.map(\.at) == ["rules.rules:2:6"])
        #expect(decision.errors.first?.message.hasPrefix("in `big`: ") == true, "\(decision.errors)")
    }

    @Test(arguments: [
        // (current roles, actions of the rules in order, expected assign, revoke, roles)
        ([], ["assign \"a\", \"b\"", "revoke all"], [String](), ["a", "b"], [String]()),
        (["old", "a"], ["assign \"b\"", "revoke all except \"a\""], [], ["b", "old"], ["a"]),
        (["old"], ["revoke all", "assign \"old\""], ["old"], [], ["old"]),
        (["old"], ["revoke all", "rule \"z\" assign \"new\""], ["new"], ["old"], ["new"]),
        (["x"], ["revoke all assign \"q\""], ["q"], ["x"], ["q"]),
        (["x", "y"], ["revoke all except \"y\", \"rol_1\""], [], ["x"], ["y"]),
        ([], ["revoke all"], [], [], []),
    ])
    func revokeAll(current: [String], actions: [String], assign: [String], revoke: [String], roles: [String]) throws {
        let source = actions.enumerated().map { index, action in
            action.hasPrefix("rule ") ? action : "rule \"r\(index)\" \(action)"
        }.joined(separator: "\n")
        let event = "{\"authorization\": {\"roles\": [\(current.map { "\"\($0)\"" }.joined(separator: ","))]}}"
        let program = try compile(source)
        let decision = try Evaluator(program: program).evaluate(Array(event.utf8))
        #expect(decision.assign == assign)
        #expect(decision.revoke.sorted() == revoke.sorted())
        #expect(decision.roles == roles)
        // The batch writer gives the same decision.
        var line: [UInt8] = []
        try Array(event.utf8).withUnsafeBytes { try Evaluator(program: program).evaluate($0, writingTo: &line) }
        #expect(String(decoding: line, as: UTF8.self) == decision.json + "\n")
    }
}

@Suite struct RevokeAllTraceTests {
    @Test func theTraceNamesTheRolesRevokeAllRemoved() throws {
        let source = """
            rule "a" assign "a"
            rule "all" revoke all except "keep" stop
            rule "none" when user.email == "x" revoke all
            """
        let event = Array(#"{"authorization": {"roles": ["keep", "old"]}}"#.utf8)
        let outcomes = try Evaluator(program: try compile(source)).explain(event).rules.map(\.outcome)
        #expect(outcomes == ["fired", "fired, revoke all: a, old, stop", "not evaluated (an earlier rule stopped)"])
        let nothing = try Evaluator(program: try compile("rule \"all\" revoke all")).explain(Array("{}".utf8))
        #expect(nothing.rules.map(\.outcome) == ["fired, revoke all (nothing to revoke)"])
    }
}

/// How the reader checks the elements of a quantified list: the fields the condition reads, in every element.
@Suite struct QuantifiedListReadingTests {
    static let rules = "rule \"g\" when any(user.identities, i, i.provider == \"google-oauth2\") assign \"g\""

    @Test(arguments: [
        // a key the condition reads, repeated in any element, is refused; the next element may have it again
        (
            #"{"user": {"identities": [{"provider": "a"}, {"provider": "b", "provider": "google-oauth2"}]}}"#,
            "the key `user.identities[*].provider` appears twice"
        ),
        (
            #"{"user": {"identities": [{"provider": "a", "provider": "a"}]}}"#,
            "the key `user.identities[*].provider` appears twice"
        ),
        (
            #"{"user": {"identities": [{"provider": "google-oauth2"}, {"provider": "a"}], "identities": []}}"#,
            "the key `user.identities` appears twice"
        ),
        (#"{"user": {"identities": [{"provider": "\ud800"}]}}"#, "surrogate"),
        (#"{"user": {"identities": [{"provider": "a"}, {"provider": "b"]}}"#, "unexpected `]`"),
    ])
    func refused(event: String, message: String) throws {
        let error = try rejection(Array(event.utf8), rules: Self.rules)
        #expect(error != nil)
        #expect(error?.message.contains(message) == true, "\(String(describing: error))")
    }

    @Test(arguments: [
        // keys nobody reads may repeat, as anywhere else in the event; elements of any type are fine
        #"{"user": {"identities": [{"x": 1, "x": 2, "provider": "google-oauth2"}]}}"#,
        #"{"user": {"identities": ["a", 1, null, [{"provider": "no"}], {"provider": "google-oauth2"}]}}"#,
        #"{"user": {"identities": [{"provider": "a"}, {"provider": "google-oauth2"}]}}"#,
    ])
    func accepted(event: String) throws {
        #expect(try rejection(Array(event.utf8), rules: Self.rules) == nil)
        #expect(try decide(Self.rules, event).matched == ["g"])
    }

    @Test func aListAlsoReadWholeOrAtAnIndexIsCheckedWhole() throws {
        let whole = Self.rules + "\nrule \"n\" when length(user.identities) > 5 assign \"n\""
        let indexed = Self.rules + "\nrule \"f\" when user.identities[0].connection == \"x\" assign \"f\""
        let event = Array(#"{"user": {"identities": [{"x": 1, "x": 2, "provider": "google-oauth2"}]}}"#.utf8)
        #expect(try rejection(event, rules: whole)?.message.contains("appears twice") == true)
        #expect(try rejection(event, rules: indexed)?.message.contains("appears twice") == true)
    }

    @Test func anElementUsedWholeIsCheckedWhole() throws {
        let rules = "rule \"g\" when any(user.identities, i, i.profileData == {}) assign \"g\""
            .replacingOccurrences(of: "{}", with: "null")
        let event = Array(#"{"user": {"identities": [{"profileData": {"a": 1, "a": 2}}]}}"#.utf8)
        #expect(try rejection(event, rules: rules)?.message.contains("appears twice") == true)
    }
}
