import Foundation
import RolecallLanguage
import Testing

@Suite struct FormatterTests {
    static func format(_ source: String) throws -> String {
        try Formatter.format(SourceFile(path: "f.rules", text: source)).get()
    }

    /// The texts of the comments of `source`, sorted.
    static func comments(_ source: String) -> [String] {
        let file = SourceFile(path: "f.rules", text: source)
        var lexer = Lexer(file: file)
        while lexer.next().kind != .endOfFile {}
        return lexer.comments.map { file.text($0) }.sorted()
    }

    /// Formatting keeps the declarations (rules and `let`s) and every comment, and is idempotent.
    static func expectStable(_ source: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let once = try format(source)
        let before = Parser.parseDeclarations(SourceFile(path: "f.rules", text: source)).declarations
        let after = Parser.parseDeclarations(SourceFile(path: "f.rules", text: once))
        #expect(
            after.diagnostics.isEmpty, "\(after.diagnostics.map(\.message))\n\(once)", sourceLocation: sourceLocation)
        #expect(after.declarations == before, "\(source)\n---\n\(once)", sourceLocation: sourceLocation)
        #expect(comments(once) == comments(source), "\(source)\n---\n\(once)", sourceLocation: sourceLocation)
        #expect(try format(once) == once, "not idempotent:\n\(once)", sourceLocation: sourceLocation)
    }

    @Test(arguments: [
        ("rule  \"a\"when x==1 assign \"r\",\"s\" stop", "rule \"a\"\nwhen x == 1\nassign \"r\", \"s\"\nstop\n"),
        ("when (a) and ((b)) assign \"r\"", "when a and b\nassign \"r\"\n"),
        ("when (a or b) and not (c and d) assign \"r\"", "when (a or b) and not (c and d)\nassign \"r\"\n"),
        ("when a or (b or c) assign \"r\"", "when a or (b or c)\nassign \"r\"\n"),
        ("when (not a) == b assign \"r\"", "when (not a) == b\nassign \"r\"\n"),
        ("when not x in [1] assign \"r\"", "when not (x in [1])\nassign \"r\"\n"),
        ("when x in[1,2.50,-3] assign \"r\"", "when x in [1, 2.5, -3]\nassign \"r\"\n"),
        (
            "when u.app_metadata[\"in\"] == 1 and u[\"x-y\"][0] assign \"r\"",
            "when u.app_metadata.in == 1 and u[\"x-y\"][0]\nassign \"r\"\n"
        ),
        (
            "rule \"a\" assign \"x\"\n\n\n\nrule \"b\" assign \"y\"",
            "rule \"a\"\nassign \"x\"\n\nrule \"b\"\nassign \"y\"\n"
        ),
        (
            "# one\n\n\n# two\nrule \"a\" # name\n assign \"x\" # act\n# end",
            "# one\n\n# two\nrule \"a\"  # name\nassign \"x\"  # act\n\n# end\n"
        ),
        ("", ""),
        ("# only a comment", "# only a comment\n"),
    ])
    func canonicalLayout(source: String, expected: String) throws {
        #expect(try Self.format(source) == expected)
        try Self.expectStable(source)
    }

    @Test func longConditionsBreakAtTopLevelConnectives() throws {
        let source =
            "when " + (1...8).map { "user.app_metadata.field\($0) == \"value\($0)\"" }.joined(separator: " or ")
            + " assign \"r\""
        let formatted = try Self.format(source)
        #expect(formatted.split(separator: "\n").count == 9)
        #expect(formatted.contains("\n  or user.app_metadata.field2 == \"value2\"\n"))
        try Self.expectStable(source)
    }

    @Test func syntaxErrorsAreNotFormatted() {
        guard case .failure(let failure) = Formatter.format(SourceFile(path: "f", text: "when assign \"r\"")) else {
            Issue.record("a file with a syntax error was formatted")
            return
        }
        #expect(failure.diagnostics.map(\.code) == [.syntax])
    }

    @Test func theExamplesAreFormattedAndStable() throws {
        let examples = try exampleRuleFiles()
        #expect(examples.count >= 2)
        for (name, text) in examples {
            #expect(try Self.format(text) == text, "rules/\(name) is not formatted")
            try Self.expectStable(text)
        }
        for example in GrammarTests.examples { try Self.expectStable(example) }
    }

    @Test func fuzzedRuleSetsKeepTheirMeaning() throws {
        var generator = RuleGenerator(seed: 0x5EED)
        for _ in 0..<1000 { try Self.expectStable(generator.ruleSet()) }
    }
}

/// Random but valid rule files, written with random spacing, redundant parentheses and comments.
struct RuleGenerator {
    var random: SplitMix64

    init(seed: UInt64) { random = SplitMix64(state: seed) }

    /// Deterministic, so a failure reproduces.
    mutating func next(_ bound: Int) -> Int { random.next(bound) }

    mutating func pick<T>(_ items: [T]) -> T { items[next(items.count)] }

    mutating func space() -> String {
        pick([" ", "  ", "\n", " \n  ", "\t", " # note\n ", " ", " ", "\n# own line\n", " ", "\n  # a\n  # b\n"])
    }

    mutating func ruleSet() -> String {
        var out = next(3) == 0 ? "# generated\n" : ""
        for index in 0..<(1 + next(4)) {
            if next(4) == 0 {
                out += "let" + space() + "n\(index)" + space() + "=" + space() + expression(depth: 0) + space()
            }
            if next(2) == 0 { out += "rule \"r\(index)\"" + space() }
            out += "when" + space() + expression(depth: 0) + space()
            for action in 0..<(1 + next(3)) {
                switch next(5) {
                case 0: out += "assign \"a\(action)\"," + space() + "\"b\"" + space()
                case 1: out += "revoke \"c\(action)\"" + space()
                case 2: out += "revoke" + space() + "all" + space()
                case 3: out += "revoke all except" + space() + "\"d\"," + space() + "\"e\"" + space()
                default: out += "stop" + space()
                }
            }
            if next(4) == 0 { out += "# between\n" }
        }
        return out
    }

    mutating func expression(depth: Int) -> String {
        if depth > 3 { return operand(depth: depth) }
        switch next(8) {
        case 7:
            return pick(["any", "all"]) + "(" + space() + operand(depth: depth + 1) + "," + space() + "i," + space()
                + expression(depth: depth + 1) + space() + ")"
        case 0: return expression(depth: depth + 1) + space() + "or" + space() + expression(depth: depth + 1)
        case 1: return expression(depth: depth + 1) + space() + "and" + space() + expression(depth: depth + 1)
        case 2: return "not" + space() + expression(depth: depth + 1)
        case 3: return "(" + expression(depth: depth + 1) + ")"
        default:
            let op = pick(["==", "!=", "<", "<=", ">", ">=", "in", "not in", "contains", "starts_with", "ends_with"])
            return operand(depth: depth) + space() + op + space() + operand(depth: depth)
        }
    }

    mutating func operand(depth: Int) -> String {
        switch next(10) {
        case 0: return "\"s\\\"\(next(100))\\u{e9}\""
        case 1: return String(next(1000))
        case 2: return "-" + String(next(50)) + "." + String(next(9) + 1)
        case 3: return pick(["true", "false", "null"])
        case 4 where depth < 5:
            var items = (0..<(1 + next(12))).map { _ in operand(depth: depth + 1) }
            if next(3) == 0 { items.append("") }
            return "[" + space() + items.joined(separator: "," + space()) + "]"
        case 5: return "lower(" + operand(depth: depth + 1) + ")"
        case 6: return "-" + pick(["x", "(y)", "user.app_metadata.n"])
        case 7: return "user.identities[\(next(3))].provider"
        case 8: return "user.app_metadata[\"k-\(next(9))\"].in"
        default: return pick(["logins_count", "user.email", "request.geoip.countryCode", "x"])
        }
    }
}
