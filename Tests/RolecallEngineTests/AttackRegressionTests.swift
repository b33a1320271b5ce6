import RolecallEngine
import RolecallLanguage
import Testing

/// What the attack on language v2 found, kept fixed: each test fails on the build it was found on.
@Suite struct AttackRegressionTests {
    /// An element bound by `any` that is a number out of range was skipped by the reader, and the evaluator's
    /// walk of the list stopped there silently: `all` came out true and `any` false. The event is refused now.
    @Test(arguments: [
        #"{"user":{"identities":[1e999,{"provider":"google-oauth2"}]}}"#,
        #"{"user":{"identities":["\ud800",{"provider":"google-oauth2"}]}}"#,
    ])
    func anElementThatIsNotAValidValueRefusesTheEvent(event: String) throws {
        let rules = #"rule "g" when any(user.identities, i, i.provider == "google-oauth2") assign "g""#
        #expect(try rejection(Array(event.utf8), rules: rules) != nil)
    }

    /// `let b0 = b1 and b1`, ... evaluated each name once per use: 2^n work. Each `let` is computed once per
    /// event now, which the trace shows: the steps of `b20` appear once, not a million times.
    @Test func eachLetIsComputedOncePerEvent() throws {
        var source = (0..<20).map { "let b\($0) = b\($0 + 1) and b\($0 + 1)" }.joined(separator: "\n")
        source += "\nlet b20 = user.email_verified\nrule \"r\" when b0 assign \"x\""
        let evaluator = Evaluator(program: try compile(source))
        let explanation = try evaluator.explain(Array(#"{"user":{"email_verified":true}}"#.utf8))
        #expect(explanation.decision.matched == ["r"])
        #expect(explanation.rules[0].steps.count < 100, "\(explanation.rules[0].steps.count) steps")
    }

    /// Past its time budget an event's evaluation stops: the rule being evaluated and every later one fail with
    /// `budget-exceeded`, and the rules before keep their outcome.
    @Test func anEventPastItsBudgetFailsTheRemainingRules() throws {
        let source = """
            rule "first" assign "a"
            rule "slow" when any(user.app_metadata.tags, t, all(user.app_metadata.tags, u, u != "x")) assign "b"
            rule "after" when user.email_verified assign "c"
            """
        let tags = (0..<400).map { "\"t\($0)\"" }.joined(separator: ",")
        let event = Array(#"{"user":{"email_verified":true,"app_metadata":{"tags":[\#(tags)]}}}"#.utf8)
        let evaluator = Evaluator(program: try compile(source))
        #expect(try evaluator.evaluate(event).errors.isEmpty)
        evaluator.timeBudget = 0
        let decision = try evaluator.evaluate(event)
        #expect(decision.matched == ["first"])
        #expect(decision.errors.map(\.rule) == ["slow", "after"])
        #expect(decision.errors.map(\.code) == ["budget-exceeded", "budget-exceeded"])
    }

    /// `all` over a null list is false, and the trace said "all 0 elements made it true".
    @Test func aNullListIsExplainedAsNull() throws {
        let source = #"rule "r" when all(user.app_metadata.orgs, o, o.ok) assign "x""#
        let step = try Evaluator(program: try compile(source)).explain(Array("{}".utf8)).rules[0].steps.last
        #expect(step?.result == false)
        #expect(step?.hint == "the list is null, which makes `any` and `all` false")
    }

    /// `revoke all` with thousands of current roles no rule names took quadratic time; now each is kept once.
    @Test func revokeAllKeepsEachUnnamedRoleOnce() throws {
        let roles = (0..<3000).map { "\"r\($0 % 1500)\"" }.joined(separator: ",")
        let event = Array(#"{"authorization":{"roles":[\#(roles)]}}"#.utf8)
        let decision = try Evaluator(program: try compile(#"rule "all" revoke all"#)).evaluate(event)
        #expect(decision.revoke.count == 1500)
        #expect(decision.roles.isEmpty)
    }
}

@Suite struct EventClockPositionTests {
    /// A `rolecall_now` that is not a string was reported "at byte 0"; a list or an object is located.
    @Test func aNonStringClockIsLocated() throws {
        let evaluator = Evaluator(program: try compile(#"rule "r" assign "x""#))
        evaluator.clockFromEvent = true
        let error = #expect(throws: JSONError.self) {
            try evaluator.evaluate(Array(#"{"rolecall_now": {"a": 1}}"#.utf8))
        }
        #expect(error?.description.contains("at byte 17") == true, "\(String(describing: error))")
    }
}

/// What the second attack found.
@Suite struct SecondAttackRegressionTests {
    /// Deep equality and `in` over huge lists were not counted against the budget.
    @Test(arguments: [
        #"rule "eq" when user.app_metadata.a == user.app_metadata.b assign "x""#,
        #"rule "in" when "zz" in user.app_metadata.a assign "x""#,
    ])
    func walkingAListCountsAgainstTheBudget(rules: String) throws {
        let list = "[" + (0..<20_000).map { "[\"e\($0)\"]" }.joined(separator: ",") + "]"
        let event = Array(#"{"user":{"app_metadata":{"a":\#(list),"b":\#(list)}}}"#.utf8)
        let evaluator = Evaluator(program: try compile(rules + "\nrule \"after\" assign \"y\""))
        evaluator.timeBudget = 0
        // The first walk starts the clock; the later rules find the budget spent.
        _ = try evaluator.evaluate(event)
        let decision = try evaluator.evaluate(event)
        #expect(decision.errors.map(\.code).contains("budget-exceeded"), "\(decision.errors)")
    }

    /// With names remembered across rules, a trace credited a `let`'s conditions to the first rule that read it
    /// only, and coverage said the second never evaluated them.
    @Test func everyRuleThatReadsALetTracesItsConditions() throws {
        let source = """
            let x = user.app_metadata.v == "a"
            rule "r" when x assign "r"
            rule "s" when not x assign "s"
            """
        let explanation = try Evaluator(program: try compile(source)).explain(
            Array(#"{"user":{"app_metadata":{"v":"a"}}}"#.utf8))
        for rule in explanation.rules {
            #expect(rule.steps.map(\.source).contains(#"user.app_metadata.v == "a""#), "\(rule.name)")
        }
    }
}

/// Event text in an `--explain` trace is written so that it cannot reorder or hide what the terminal shows.
@Suite struct TraceSpellingTests {
    /// Found by an attacker: U+202E from an event reached the terminal as itself (control characters were
    /// already escaped). Strings, lists and objects, and the roles a `revoke all` removes, all have their hidden
    /// scalars written out now, the same way as controls.
    @Test func hiddenScalarsFromTheEventAreWrittenOut() throws {
        let source = """
            rule "a" when user.name == "x" or "x" in user.app_metadata.tags assign "y"
            rule "b" revoke all except "kept"
            """
        let evaluator = Evaluator(program: try compile(source))
        // The list as the event spells it (the scalar itself, not a JSON escape), shown as its JSON text.
        let event =
            #"{"user":{"name":"a\u202eb\n","app_metadata":{"tags":["c"#
            + "\u{202E}" + #"d"]}},"authorization":{"roles":["e\u202ef","kept"]}}"#
        let text = try evaluator.explain(Array(event.utf8)).text
        #expect(!text.unicodeScalars.contains("\u{202E}"), "\(text)")
        #expect(text.contains(#"user.name = "a\u{202e}b\n""#), "\(text)")
        #expect(text.contains(#"["c\u{202e}d"]"#), "\(text)")
        #expect(text.contains(#"revoke all: e\u{202e}f"#), "\(text)")
        #expect(text.contains(#"decision: {"assign":[],"revoke":["e\u{202e}f"]"#), "\(text)")
    }

    /// The rule's file and name in a trace, and every name in the decision line, with hidden scalars written out:
    /// a rule file named with U+202E reached the trace as itself.
    @Test func theRuleFileAndTheDecisionLineWriteHiddenScalarsOut() throws {
        let program = try RuleEngine.compile(
            source: #"rule "n\u{202e}" revoke all except "k" rule "m" assign "r\u{202e}\u{1b}""#,
            path: "d\u{202E}/x.rules")
        let event = #"{"authorization":{"roles":["e\u202ef","k"]}}"#
        let text = try Evaluator(program: program).explain(Array(event.utf8)).text
        #expect(!text.unicodeScalars.contains { $0 == "\u{202E}" || $0 == "\u{1B}" }, "\(text)")
        #expect(text.hasPrefix(#"rule "n\u{202e}" at "d\u{202e}/x.rules":1: fired"#), "\(text)")
        #expect(text.contains(#"decision: {"assign":["r\u{202e}\u001b"],"revoke":["e\u{202e}f"]"#), "\(text)")
        #expect(text.contains(#""matched":["n\u{202e}","m"]"#), "\(text)")
    }
}
