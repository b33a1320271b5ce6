import RolecallEngine
import Testing

/// Every operator against every value type and `null`, with the semantics of DESIGN.md. Fields live under
/// `user.app_metadata` (typed "any"), so type mismatches reach the evaluator instead of the checker.
@Suite struct EvaluatorTableTests {
    static let event = """
        {"user": {"app_metadata": {
          "s": "abc", "e": "", "n": 5, "f": 1.5, "t": true, "b": false, "z": null,
          "l": ["a", "b", 1], "o": {"k": "v"}, "esc": "a\\"b\\u00e9", "u": "ünï",
          "nested": [["x"], {"k": "v"}]
        }}}
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

    @Test(arguments: [
        // equality: deep, numbers by value, null for missing
        ("@s == \"abc\"", Outcome.fires), ("@n == 5.0", .fires), ("@n == \"5\"", .doesNotFire),
        ("@z == null", .fires), ("@missing == null", .fires), ("@l == [\"a\", \"b\", 1]", .fires),
        ("@l == [\"a\", \"b\"]", .doesNotFire), ("@o == @o", .fires), ("@t == true", .fires),
        ("@esc == \"a\\\"bé\"", .fires), ("@u == \"ünï\"", .fires), ("@s != \"abc\"", .doesNotFire),
        ("@z != null", .doesNotFire), ("@n != 4", .fires), ("@e == \"\"", .fires), ("@l != @l", .doesNotFire),
        ("@nested == [[\"x\"], @o]", .fires), ("@s == @esc", .doesNotFire), ("@t == 1", .doesNotFire),
        // ordering: numbers or strings; null side false; anything else an error
        ("@n < 6", .fires), ("@f <= 1.5", .fires), ("@n > 5", .doesNotFire), ("@n >= 5", .fires),
        ("@s < \"abd\"", .fires), ("\"b\" > @s", .fires), ("@u > \"z\"", .fires), ("@z < 1", .doesNotFire),
        ("@missing >= 0", .doesNotFire), ("@s < 1", .error("cannot compare a string with a number")),
        ("@t < 1", .error("cannot compare a boolean with a number")), ("@l > 1", .error("a list")),
        // in / not in: a list on the right, null gives false
        ("\"a\" in @l", .fires), ("1 in @l", .fires), ("\"c\" in @l", .doesNotFire), ("@s in [\"abc\", 1]", .fires),
        ("@n in [5.0]", .fires), ("@s in @z", .doesNotFire), ("@s in @missing", .doesNotFire),
        ("@l in [[\"a\", \"b\", 1]]", .fires), ("@s in @s", .error("`in` needs a list on the right, found a string")),
        ("@s in @o", .error("found an object")), ("\"c\" not in @l", .fires), ("@s not in @z", .fires),
        ("\"a\" not in @l", .doesNotFire), ("@s not in @n", .error("found a number")), ("\"x\" in @nested[0]", .fires),
        ("\"a\" in @s", .error("`in` needs a list on the right, found a string")),
        // contains: substring or element; null false
        ("@s contains \"bc\"", .fires), ("@s contains \"\"", .fires), ("@l contains \"a\"", .fires),
        ("@l contains 1", .fires), ("@l contains \"z\"", .doesNotFire), ("@z contains \"a\"", .doesNotFire),
        ("@s contains @z", .doesNotFire), ("@u contains \"nï\"", .fires), ("@n contains 1", .error("found a number")),
        ("@s contains 1", .error("a string can only contain a string")),
        ("@o contains \"k\"", .error("`contains` needs a string or a list on the left, found an object")),
        ("@o contains @s", .error("`contains` needs a string or a list on the left, found an object")),
        ("@s in @s", .error("`in` needs a list on the right, found a string")),
        ("@o == \"k\"", .doesNotFire), ("@n in [\"5\"]", .doesNotFire), ("@n not in [\"5\"]", .fires),
        // starts_with / ends_with
        ("@s starts_with \"ab\"", .fires), ("@s starts_with \"\"", .fires), ("@s starts_with \"abcd\"", .doesNotFire),
        ("@s ends_with \"bc\"", .fires), ("@u ends_with \"ï\"", .fires), ("@z starts_with \"a\"", .doesNotFire),
        ("@s ends_with @missing", .doesNotFire), ("@n starts_with \"5\"", .error("compares strings, found a number")),
        ("@s ends_with @l", .error("found a list")),
        // matches: PCRE2, unanchored, UTF and Unicode properties on
        ("@s matches /^a/", .fires), ("@s matches /B/i", .fires), ("@s matches /B/", .doesNotFire),
        ("@s matches /b/", .fires), ("@u matches /^\\p{L}{3}$/", .fires), ("@u matches /^\\w+$/", .fires),
        ("@esc matches \"é$\"", .fires), ("@z matches /x/", .doesNotFire), ("@missing matches /x/", .doesNotFire),
        ("@n matches /5/", .error("`matches` searches a string, found a number")), ("@e matches /^$/", .fires),
        // boolean positions and connectives, short-circuit left to right
        ("@t", .fires), ("@b", .doesNotFire), ("@z", .doesNotFire), ("@missing", .doesNotFire),
        ("@s", .error("condition is a string, not a boolean")), ("@n", .error("condition is a number")),
        ("@t and @b", .doesNotFire), ("@t or @b", .fires), ("not @b", .fires), ("not @z", .fires),
        ("@z or @t", .fires), ("@b and @s", .doesNotFire), ("@t or @s", .fires),
        ("@s and @t", .error("condition is a string")), ("not @s", .error("condition is a string")),
        // functions
        ("lower(@u) == \"ünï\"", .fires), ("upper(@u) == \"ÜNÏ\"", .fires), ("lower(\"ABC\") == @s", .fires),
        ("length(@s) == 3", .fires), ("length(@u) == 3", .fires), ("length(@l) == 3", .fires),
        ("length(@o) == 1", .fires), ("length(@e) == 0", .fires), ("length(@z) == null", .fires),
        ("lower(@z) == null", .fires), ("length(@n) == 1", .error("`length` takes a string, a list or an object")),
        ("upper(@l) == \"A\"", .error("`upper` takes a string, not a list")), ("length(@nested[1]) == 1", .fires),
        // unary minus
        ("-@n == -5", .fires), ("-@z == null", .fires), ("-@s == 1", .error("cannot negate a string")),
        // list literals built from fields
        ("[@s, @n] == [\"abc\", 5]", .fires), ("@s in [@e, @s]", .fires),
    ])
    func operatorSemantics(condition: String, expected: Outcome) throws {
        let source = "rule \"r\" when \(condition.replacingDollars()) assign \"x\""
        let decision = try decide(source, Self.event)
        // A trace observes the same instructions that decide: the decisions must be identical.
        let traced = try Evaluator(program: try compile(source)).explain(Array(Self.event.utf8)).decision
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
            #expect(decision.errors.first?.rule == "r")
            let code = message.hasPrefix("condition is") ? "not-boolean" : "type-mismatch"
            #expect(decision.errors.first?.code == code, "\(decision.errors)")
            #expect(decision.errors.first?.at.hasPrefix("t.rules:1:") == true)
        }
    }
}

extension String {
    /// `@x` is short for `user.app_metadata.x` in the table above.
    func replacingDollars() -> String {
        var out = ""
        for character in self {
            if character == "@" { out += "user.app_metadata." } else { out.append(character) }
        }
        return out
    }
}
