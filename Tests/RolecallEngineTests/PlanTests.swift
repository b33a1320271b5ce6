import RolecallEngine
import Testing

/// Decisions run each rule's plan (specialised steps, `and`/`or`/`not` as branches); traces run the instruction
/// table through the interpreter. Every specialised step, fed every kind of value (the types it handles, the
/// ones it hands to the interpreter, wrong types, `null`, missing fields), must decide exactly as the
/// interpreter does: the same rules fired, the same errors with the same messages and positions.
@Suite struct PlanTests {
    /// Values of `@v`, the field most conditions test: strings of the lengths the keys distinguish (0, 2, 7, 8, 13,
    /// 16, 17 and more bytes), strings with escapes (decoded, so not event bytes), strings ending in a newline,
    /// user agents with a literal at the start, across a 16-byte block boundary, in the last block and at the very
    /// end, numbers, booleans, `null`, a list, an object, and missing.
    static let values: [String?] = [
        #""abc""#, #""""#, #""AT""#, #""SE""#, #""abcdefg""#, #""abcdefgh""#, #""google-oauth2""#,
        #""google-oauth2\u0020""#, #""samlp""#, #""sixteen-bytes-ok""#, #""a string longer than sixteen""#,
        #""a\u0062c""#, #""A\u0054""#, #""x@acme.com""#, #""x@acme.com\n""#, #""x@acme.co""#, #""a@gmail.com""#,
        #""b@outlook.com""#, #""@acme.com""#, #""c""#, #""abc\n""#, #""iPhone""#, #""Mozilla/5.0 (iPhone; CPU)""#,
        #""Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36""#,
        #""0123456789abcdeAndroid and the rest of a longer agent string""#,
        #""Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/126 Safari/537.36""#,
        #""Mozilla/5.0 (Windows NT 10.0; Win64; x64) Gecko ends with Android""#, #""xxxxxxxxxxxxxxxxiPhon""#,
        // 40 bytes: the blocks at 0 and 16 cover starts up to 31, the last (overlapping) block the rest
        #""xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxiPhone!""#, #""xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxAndroid""#,
        #""An""#, #""Andr\u006fid phone""#, "0", "1", "1.0", "10", "10.5", "100", "-3", "true", "false", "null",
        #"["abc"]"#, #"{"k":"abc"}"#, nil,
    ]

    /// Values of `@w` (a second operand, mostly tested for truth) and `@g` (a list tested with `"x" in`).
    static let others: [(w: String?, g: String?)] = [
        ("true", #"["admin","billing"]"#), ("false", #"[ "ops" , "finance" ]"#), ("null", "[]"), (nil, nil),
        (#""s""#, #"["adm\u0069n"]"#), ("true", #"[1,"admin"]"#), ("false", #"[["admin"],"x"]"#),
        ("true", #""admin""#), ("true", "null"), ("false", #"["engineering","readonly","sales"]"#),
        ("true", #"{"admin":true}"#), ("true", "5"),
        // names of 7, 8, 9 and 16 bytes, so the walk's last word holds 1 to 8 of a name's bytes
        (nil, #"["billing","finance1","engineers","sixteen-bytes-ok","admin"]"#), ("false", #"["readonly","billing"]"#),
        ("true", #"["a list of more than sixty-four bytes", "so that comparing it with anything", "admin"]"#),
        (nil, #"{"an object of more than sixty-four bytes": "which the interpreter counts", "k": 1}"#),
    ]

    /// One event with these values (nil: the field is absent).
    static func event(_ v: String?, _ w: String?, _ g: String?) -> [UInt8] {
        var members: [String] = []
        if let v { members.append(#""v":\#(v)"#) }
        if let w { members.append(#""w":\#(w)"#) }
        if let g { members.append(#""g":\#(g)"#) }
        return Array(#"{"user":{"app_metadata":{\#(members.joined(separator: ","))}}}"#.utf8)
    }

    static var events: [[UInt8]] {
        var events: [[UInt8]] = []
        for (index, value) in values.enumerated() {
            // Each value with several companions, not every combination: the companions matter to combined
            // conditions, and every companion meets many values.
            for offset in 0..<4 {
                let other = others[(index + offset * 3) % others.count]
                events.append(event(value, other.w, other.g))
            }
        }
        return events
    }

    /// Conditions with one specialised step each, its negation, the shapes left to the interpreter next to them,
    /// and connectives over them. `@x` is `user.app_metadata.x`.
    static let conditions: [String] = [
        // a field tested for truth
        "@v", "not @v", "@w", "not not @w",
        // string equality, by length and bytes
        #"@v == "abc""#, #"@v != "abc""#, #"@v == """#, #"@v != """#, #"@v == "google-oauth2""#,
        #"@v == "abcdefgh""#, #"@v == "sixteen-bytes-ok""#, #"@v == "a string longer than sixteen""#,
        #"@v == "AT""#, #"@v != "a\u{62}c""#,
        // string sets as keys (up to 16 bytes), and longer ones left to the interpreter
        #"@v in ["AT","BE","DE","DK","ES","FI","FR","IE","IT","NL","PL","PT","SE"]"#,
        #"@v not in ["AT","BE","SE"]"#, #"@v in ["", "abc", "abcdefg", "abcdefgh"]"#,
        #"@v in ["samlp","waad","adfs","oidc","google-oauth2"]"#, #"@v not in ["sixteen-bytes-ok", "x"]"#,
        #"@v in ["a string longer than sixteen", "abc"]"#, #"@v not in ["a string longer than sixteen"]"#,
        // a string in a list field: one walk answers every string tested in the same list
        #""admin" in @g"#, #""billing" in @g or "finance" in @g"#, #"not ("admin" in @g)"#, #""" in @g"#,
        #""engineering" in @g and "sales" in @g"#, #""admin" in @v"#, #""admin" not in @g"#,
        // equality with null and booleans, either side; a list or an object past 64 bytes is left to the
        // interpreter (it counts the walk against the budget)
        "@v == null", "@v != null", "null == @g", "@g != null", "@v == true", "@v != false", "true == @w",
        "@g == false", "not (@w == true)",
        // a field starting or ending with a string
        #"@v starts_with "Mozilla/5.0 (""#, #"@v ends_with "@acme.com""#, #"@v starts_with """#, #"@v ends_with "c""#,
        #"not (@v ends_with "abc")"#, #"@v starts_with "abcdefghijklmnopqrstuvwxyz""#, #"@v ends_with "a\u{62}c""#,
        // numbers against a constant, every operator
        "@v == 1", "@v != 1", "@v < 10", "@v <= 10.5", "@v > 10", "@v >= 100", "@v == -3", "not (@v < 0)",
        // regexes that are sets of suffixes or substrings, and the shapes left to PCRE2
        #"@v matches /@acme\.com$/"#, #"@v matches /@(gmail|yahoo|hotmail|outlook)\.com$/"#, "@v matches /c$/",
        #"@v matches /(iPhone|Android)/"#, "@v matches /(iPhone|Android|Windows|Linux)/", "@v matches /Android/",
        "@v matches /(a|b|c|d|e)/",
        "@v matches /(Windows|Linux|Ubuntu|iPhone|iPad|Android|Macintosh|X11)/", "@v matches /(xx|yy|zz|ab|bc)/",
        "@v matches /(a1|b2|c3|d4|e5|f6|g7|h8|i9)/", "@v matches /^abc/", "@v matches /ABC/i",
        "@v matches /(iPhone|x)/",
        #"not (@v matches /@acme\.com$/)"#, "@v matches /^abc$/",
        // connectives: short-circuit order decides which operand's error is reported
        #"@v == "abc" and @w"#, #"@w and @v == "abc""#, #"not (@v == "abc" or @w)"#,
        #"@w and (@v > 10 or "admin" in @g)"#, "@v and @w", "@w or @v", "not @v or not @w",
        #"(@v matches /(iPhone|Android)/ or @v >= 100) and not ("admin" in @g)"#,
        #"@v in ["AT","SE"] and @w or @v == 1 and not @w"#, "length(@v) > 2 and @w", "lower(@v) == \"at\" or @w",
    ]

    @Test(arguments: conditions)
    func aPlanDecidesAsTheInterpreter(condition: String) throws {
        let source = "rule \"r\" when \(condition.replacingDollars()) assign \"x\""
        let evaluator = Evaluator(program: try compile(source))
        for event in Self.events {
            let decision = try evaluator.evaluate(event)
            let interpreted = try evaluator.explain(event).decision
            #expect(decision == interpreted, "\(String(decoding: event, as: UTF8.self))")
        }
    }

    /// Rules after one that fires, fails or has no condition run on, and `stop` ends the run, as in the
    /// interpreter: the plans of all rules are one table in which a rule that does not fire goes on to the next.
    @Test func rulesFollowOneAnotherAsInTheInterpreter() throws {
        let source = """
            rule "always" assign "a"
            rule "str" when @v == "abc" assign "b"
            rule "fails" when @v > 1 assign "c"
            rule "list" when "admin" in @g assign "d"
            rule "also" assign "e" revoke "a"
            rule "stops" when @w stop
            rule "after" when not @w assign "f"
            rule "last" assign "g"
            """.replacingDollars()
        let evaluator = Evaluator(program: try compile(source))
        for event in Self.events {
            let decision = try evaluator.evaluate(event)
            #expect(decision == (try evaluator.explain(event).decision), "\(String(decoding: event, as: UTF8.self))")
        }
        let stopped = try evaluator.evaluate(Self.event(#""abc""#, "true", #"["admin"]"#))
        #expect(stopped.matched == ["always", "str", "list", "also", "stops"])
        let failed = try evaluator.evaluate(Self.event(#""abc""#, "false", "[]"))
        #expect(failed.matched == ["always", "str", "also", "after", "last"])
        #expect(failed.errors.map(\.rule) == ["fails"])
    }

    /// Past the budget, the rules left with a condition fail without running, one without a condition still
    /// fires, and `stop` still ends the run, as in the interpreter's loop; effects are applied in rule order.
    @Test func theRulesAfterAnExhaustedBudget() throws {
        let source = """
            rule "first" assign "a"
            rule "slow" when any(user.app_metadata.tags, t, all(user.app_metadata.tags, u, u != "x")) assign "b"
            rule "free" assign "f" revoke "a"
            rule "cond" when user.email_verified assign "c"
            rule "stopper" assign "s" stop
            rule "never" assign "n"
            """
        let tags = (0..<400).map { "\"t\($0)\"" }.joined(separator: ",")
        let event = Array(#"{"user":{"email_verified":true,"app_metadata":{"tags":[\#(tags)]}}}"#.utf8)
        let evaluator = Evaluator(program: try compile(source))
        evaluator.timeBudget = 0
        let decision = try evaluator.evaluate(event)
        #expect(decision.matched == ["first", "free", "stopper"])
        #expect(decision.errors.map(\.rule) == ["slow", "cond"])
        #expect(decision.errors.map(\.code) == ["budget-exceeded", "budget-exceeded"])
        #expect(decision.assign == ["f", "s"])
        #expect(decision.revoke == ["a"])
        let interpreted = try evaluator.explain(event).decision
        #expect(interpreted.matched == decision.matched)
        #expect(interpreted.errors.map(\.rule) == decision.errors.map(\.rule))
        #expect(interpreted.assign == decision.assign)
    }

    /// Comparing a large list or object with `null` or a boolean counts against the budget as deep equality
    /// always did: the steps for those comparisons leave such values to the interpreter.
    @Test(arguments: ["@g == null", "@g != null", "null == @g", "@g == true", "false != @g"])
    func aLargeListComparedWithAConstantCountsAgainstTheBudget(condition: String) throws {
        let list = "[" + (0..<2_000).map { "\"e\($0)\"" }.joined(separator: ",") + "]"
        let event = Self.event(nil, nil, list)
        let source = "rule \"r\" when \(condition.replacingDollars()) assign \"x\"\nrule \"after\" when @w assign \"y\""
        let evaluator = Evaluator(program: try compile(source.replacingDollars()))
        evaluator.timeBudget = 0
        let decision = try evaluator.evaluate(event)
        #expect(decision.errors.map(\.code) == ["budget-exceeded", "budget-exceeded"], "\(decision.errors)")
        #expect(try evaluator.explain(event).decision.errors.map(\.code) == decision.errors.map(\.code))
    }

    /// A list tested for more strings than one probe group holds: the strings past the group's 64 are left to
    /// the interpreter, and every test still answers for its own string.
    @Test func aListTestedForManyStrings() throws {
        let source = (0..<70).map { "rule \"r\($0)\" when \"s\($0)\" in @g assign \"x\($0)\"" }.joined(
            separator: "\n"
        ).replacingDollars()
        let evaluator = Evaluator(program: try compile(source))
        let decision = try evaluator.evaluate(Self.event(nil, nil, #"["s3", "s64", "s69", "s70"]"#))
        #expect(decision.matched == ["r3", "r64", "r69"])
        #expect(decision == (try evaluator.explain(Self.event(nil, nil, #"["s3", "s64", "s69", "s70"]"#)).decision))
    }

    /// Random rule sets of random conditions over the leaves above, on every event: the plan and the
    /// interpreter agree. The generator is seeded, so a failure repeats.
    @Test func randomRuleSetsDecideAsTheInterpreter() throws {
        let leaves = Self.conditions
        var random = SplitMix(seed: 20_261_130)
        func condition(depth: Int) -> String {
            switch depth == 0 ? 0 : random.next() % 4 {
            case 0: return "(" + leaves[Int(random.next() % UInt64(leaves.count))] + ")"
            case 1: return "not " + condition(depth: depth - 1)
            case 2: return "(" + condition(depth: depth - 1) + " and " + condition(depth: depth - 1) + ")"
            default: return "(" + condition(depth: depth - 1) + " or " + condition(depth: depth - 1) + ")"
            }
        }
        for set in 0..<60 {
            var rules: [String] = []
            for rule in 0..<(1 + Int(random.next() % 5)) {
                let when = random.next() % 6 == 0 ? "" : "when \(condition(depth: Int(random.next() % 4))) "
                let stop = random.next() % 8 == 0 ? " stop" : ""
                rules.append("rule \"s\(set)r\(rule)\" \(when)assign \"x\(rule)\"\(stop)")
            }
            let source = rules.joined(separator: "\n").replacingDollars()
            let evaluator = Evaluator(program: try compile(source))
            for event in Self.events {
                let decision = try evaluator.evaluate(event)
                #expect(
                    decision == (try evaluator.explain(event).decision),
                    "\(source)\n\(String(decoding: event, as: UTF8.self))")
            }
        }
    }
}

/// A small seeded generator (SplitMix64), so random tests repeat.
struct SplitMix {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var mixed = state
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return mixed ^ (mixed >> 31)
    }
}
