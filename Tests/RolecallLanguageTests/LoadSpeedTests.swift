import RolecallJSON
import Testing

@testable import RolecallLanguage

/// The faster paths that loading large rule sets takes (issue 10, item 4) must decide and report exactly what the
/// straightforward code did. Each test compares a fast path with the code it replaced, kept here as the
/// reference, or pins the edges where they could differ.
@Suite struct LoadSpeedTests {
    // MARK: keywords

    @Test(
        arguments: Keyword.allCases.map(\.rawValue) + [
            "", "a", "an", "ands", "An", "AND", "rules", "starts_wit",
            "ends_withx", "nul", "nulls", "x", "_", "in_", "true1",
        ])
    func aKeywordIsFoundFromItsBytesAsFromItsName(word: String) {
        #expect(Keyword(spelling: Array(word.utf8)[...]) == Keyword(rawValue: word))
        #expect(Keyword(spelling: word.utf8) == Keyword(rawValue: word))
    }

    // MARK: string literals

    @Test(arguments: [
        (#""plain""#, "plain", 0),
        ("\"tab\there\"", "tab\there", 0),
        // A carriage return written as itself is an error (it can make the rest of the line look like the next
        // line); the token is still the string.
        ("\"carriage\rreturn\"", "carriage\rreturn", 1),
        (#""a\"b""#, "a\"b", 0),
        (#""back\\slash""#, "back\\slash", 0),
        (#""\u{e9}""#, "é", 0),
        ("\"é\"", "é", 0),
        ("\"\"", "", 0),
        ("\"unterminated\nwhen", "unterminated", 1),
        ("\"to the end", "to the end", 1),
    ])
    func aStringLiteralReadsTheSameOnEitherPath(source: String, text: String, errors: Int) throws {
        let (tokens, diagnostics) = Lexer.tokenize(SourceFile(path: "t.rules", text: source))
        let token = try #require(tokens.first)
        #expect(token.kind == .string)
        #expect(token.text == text)
        #expect(token.contentStart == 1)
        #expect(diagnostics.count == errors)
        if errors == 0 || source.hasSuffix("\"") { #expect(token.span == Span(0, source.utf8.count)) }
    }

    // MARK: the canonical printer

    /// `ASTPrinter.print` as it was written before it appended to one string.
    static func referencePrint(_ expr: Expr) -> String {
        switch expr.kind {
        case .string(let text): return JSONText.quote(text)
        case .number(let value): return JSONText.number(value)
        case .bool(let value): return String(value)
        case .null: return "null"
        case .regex(let pattern, let flags, _):
            let letters = [
                ("i", flags.contains(.caseInsensitive)), ("m", flags.contains(.multiline)),
                ("s", flags.contains(.dotAll)), ("x", flags.contains(.extended)),
            ]
            .filter(\.1).map(\.0).joined()
            return "/\(pattern)/\(letters)"
        case .list(let items): return "[" + items.map(referencePrint).joined(separator: " ") + "]"
        case .path(let segments): return segments.dotted
        case .call(let name, _, let arguments):
            return "(\(name) " + arguments.map(referencePrint).joined(separator: " ") + ")"
        case .quantifier(let quantifier, let list, let name, _, let body):
            return "(\(quantifier.rawValue) \(referencePrint(list)) \(name) \(referencePrint(body)))"
        case .unary(let op, let operand): return "(\(op.rawValue) \(referencePrint(operand)))"
        case .and(let operands): return "(and " + operands.map(referencePrint).joined(separator: " ") + ")"
        case .or(let operands): return "(or " + operands.map(referencePrint).joined(separator: " ") + ")"
        case .binary(let op, let left, let right):
            return "(\(op.rawValue) \(referencePrint(left)) \(referencePrint(right)))"
        case .invalid: return "<invalid>"
        }
    }

    @Test(arguments: [
        #"user.email == "a@b.c""#,
        #"user.app_metadata["x-team"] == "q\"uote" and user.app_metadata["in"] != "back\\slash""#,
        "user.name == \"tab\\there\\u{1}\\u{7f}\" or user.name == \"é\" or user.name == \"e\\u{301}\"",
        "logins_count >= 1.5 and logins_count < -0.0 and logins_count != 1e20 and logins_count == 100",
        #"user.email matches /@acme\.(com|de)$/imsx and user.email matches "x""#,
        #"user.app_metadata.plan in ["a", 1, true, null, []] and "g" in user.app_metadata.groups"#,
        #"not (lower(user.email) ends_with "@x.com") and length(user.identities) > 0 and days_since(x) < 3"#,
        #"any(user.identities, i, i.provider == "g" and all(i.profileData.tags, t, t starts_with "x"))"#,
        "upper() == \"\" or f(a, b, c) or -user.app_metadata.n < 2 or user.identities[0].provider contains \"o\"",
        "(a or b) and not c and (d and e)",
    ])
    func theCanonicalPrinterPrintsAsBefore(condition: String) throws {
        let (rules, diagnostics) = parse("when \(condition) assign \"r\"")
        #expect(diagnostics.isEmpty, "\(diagnostics.map(\.message))")
        let expr = try #require(rules.first?.condition)
        #expect(ASTPrinter.print(expr) == Self.referencePrint(expr))
    }

    // MARK: overridden-effect through numbered conjuncts

    /// A random rule set of few conjuncts (so every subset is looked at) over few fields and roles, so that
    /// rules often share conjuncts, keys and roles.
    static func randomRules(_ random: inout SplitMix64) -> String {
        let conjuncts = [
            "user.app_metadata.a == 1", "user.app_metadata.a == 1.0", "1 == user.app_metadata.a",
            "user.app_metadata.b == \"x\"", "user.app_metadata.b == \"é\"", "user.app_metadata.b == \"e\u{301}\"",
            "user.email_verified", "logins_count > 3", "any(user.identities, i, i.provider == \"g\")",
        ]
        let roles = ["r1", "r2", "r3"]
        return (0..<(1 + random.next(12))).map { _ in
            let condition = (0..<random.next(4)).map { _ in conjuncts[random.next(conjuncts.count)] }
            var actions: [String] = []
            for _ in 0..<(1 + random.next(3)) {
                switch random.next(10) {
                case 0...3: actions.append("assign \"\(roles[random.next(roles.count)])\"")
                case 4...7: actions.append("revoke \"\(roles[random.next(roles.count)])\"")
                case 8: actions.append(random.next(2) == 0 ? "revoke all" : "revoke all except \"r1\"")
                default: actions.append("stop")
                }
            }
            if !actions.contains(where: { $0.hasPrefix("assign") || $0.hasPrefix("revoke") }) {
                actions.insert("assign \"r1\"", at: 0)
            }
            let when = condition.isEmpty ? "" : "when " + condition.joined(separator: " and ") + " "
            return when + actions.joined(separator: " ") + "\n"
        }.joined()
    }

    /// overridden-effect by comparing every rule with every later one: what the indexed lint must find.
    static func referenceOverridden(_ rules: [CheckedRule]) -> [Diagnostic] {
        let keys = rules.map { Set(Checker.conjuncts($0.rule.condition).map(referencePrint)) }
        var found: [Diagnostic] = []
        for (index, rule) in rules.enumerated() where !rule.stops {
            let later = rules.indices.filter { $0 > index && keys[$0].isSubset(of: keys[index]) }
            let firstStop = later.first { rules[$0].stops }
            for effect in rule.effects {
                let undoing = later.first { other in
                    let o = rules[other]
                    if o.effects.contains(where: { $0.role == effect.role && $0.assign != effect.assign }) {
                        return true
                    }
                    guard effect.assign, let except = o.revokeAll else { return false }
                    return !except.contains(effect.role)
                        && !o.effects.contains(where: { $0.role == effect.role && $0.assign })
                }
                guard let undoing, firstStop.map({ undoing <= $0 }) ?? true else { continue }
                var span = rule.rule.span
                search: for action in rule.rule.actions {
                    switch action.kind {
                    case .assign(let roles), .revoke(let roles), .revokeAll(except: let roles):
                        if let role = roles.first(where: { $0.name == effect.role }) {
                            span = role.span
                            break search
                        }
                    case .stop: break
                    }
                }
                found.append(
                    .overriddenEffect(
                        effect.role, assign: effect.assign, rule.rule.file, span, by: rules[undoing].rule))
            }
        }
        return found
    }

    @Test(arguments: 0..<300)
    func theIndexedLintFindsWhatComparingEveryPairFinds(seed: Int) {
        var random = SplitMix64(state: UInt64(seed))
        let source = Self.randomRules(&random)
        let rules = check(source).rules
        let found = Checker.lint(rules).filter { $0.code == .overriddenEffect }
        #expect(found == Self.referenceOverridden(rules), "seed \(seed):\n\(source)")
    }

    @Test func theFirstAndTheLastRuleAndRulesWithTheSameConjunctsAreCompared() {
        let source = """
            when user.app_metadata.a == 1 and user.email_verified assign "r1"
            when user.email_verified and user.app_metadata.a == 1 and user.email_verified revoke "r2"
            when user.email_verified and user.app_metadata.a == 1 assign "r2"
            when user.app_metadata.b == "é" revoke "r3"
            when user.app_metadata.b == "e\u{301}" assign "r3"
            when user.app_metadata.a == 1.0 revoke "r1"
            """
        let messages = check(source).diagnostics.filter { $0.code == .overriddenEffect }.map {
            "\($0.file.line(of: $0.span.start)): \($0.message)"
        }
        // Conjuncts are told apart by their printed forms compared as Swift strings, as before numbering them:
        // `é` and `e` + combining accent are one conjunct to the lint (though two values to the evaluator).
        #expect(
            messages == [
                "1: this rule assigns `r1`, but \"test.rules#6\" always revokes it afterwards",
                "2: this rule revokes `r2`, but \"test.rules#3\" always assigns it afterwards",
                "4: this rule revokes `r3`, but \"test.rules#5\" always assigns it afterwards",
            ])
    }

    @Test func aRuleOfManyConjunctsIsComparedWithItsWholeSetAndEachConjunct() {
        let many = (1...8).map { "user.app_metadata.f\($0) == 1" }
        let source = """
            when \(many.joined(separator: " and ")) assign "r"
            when \(many.reversed().joined(separator: " and ")) revoke "r"
            when \(many[3]) assign "s"
            """
        let messages = check(source).diagnostics.filter { $0.code == .overriddenEffect }.map(\.message)
        #expect(messages == ["this rule assigns `r`, but \"test.rules#2\" always revokes it afterwards"])
    }

    // MARK: roles named twice in one rule

    @Test func aRoleAssignedAndRevokedInOneRuleIsReportedPastTheFirstEightRoles() {
        let roles = (1...10).map { "\"r\($0)\"" }.joined(separator: ", ")
        let result = check("when user.email_verified assign \(roles) revoke \"r9\", \"r1\", \"r10\" assign \"r2\"")
        let clashes = result.diagnostics.filter { $0.code == .assignAndRevoke }
        #expect(clashes.map(\.underlinedText) == ["\"r9\"", "\"r1\"", "\"r10\""])
        #expect(
            clashes.compactMap { $0.notes.first?.span.map(result.files[0].text) } == ["\"r9\"", "\"r1\"", "\"r10\""])
        #expect(result.rules[0].effects.map(\.role) == (1...10).map { "r\($0)" })
    }

    // MARK: regexes written more than once

    @Test func aPatternWrittenTwiceIsLintedAndReportedAtEachUse() {
        let result = check(
            """
            rule "a" when user.email matches /@acme.com/ assign "a"
            rule "b" when user.email matches /@acme.com/ assign "b"
            rule "c" when user.email matches /(unclosed/ assign "c"
            rule "d" when user.email matches /(unclosed/ assign "d"
            rule "e" when user.email matches /@acme.com/i assign "e"
            """)
        let lines = result.diagnostics.map { "\($0.file.line(of: $0.span.start)) \($0.code.rawValue)" }
        #expect(
            lines == [
                "1 unanchored-domain", "1 unescaped-dot", "2 unanchored-domain", "2 unescaped-dot", "3 invalid-regex",
                "4 invalid-regex", "5 unanchored-domain", "5 unescaped-dot",
            ])
        let invalid = result.diagnostics.filter { $0.code == .invalidRegex }
        #expect(invalid.count == 2)
        #expect(invalid[0].message == invalid[1].message)
        #expect(invalid[0].span.start != invalid[1].span.start)
    }

    // MARK: diagnostic order

    /// `sortDiagnostics` as it was written before it looked each file's rank up once.
    static func referenceSort(_ diagnostics: [Diagnostic], fileOrder: [String]) -> [Diagnostic] {
        var rank: [String: Int] = [:]
        for (index, path) in fileOrder.enumerated() where rank[path] == nil { rank[path] = index }
        return diagnostics.enumerated().sorted { a, b in
            let (x, y) = (a.element, b.element)
            let (rx, ry) = (rank[x.file.path] ?? Int.max, rank[y.file.path] ?? Int.max)
            if rx != ry { return rx < ry }
            if x.file.path != y.file.path { return x.file.path < y.file.path }
            if x.span.start != y.span.start { return x.span.start < y.span.start }
            if x.severity != y.severity { return x.severity < y.severity }
            return a.offset < b.offset
        }.map(\.element)
    }

    @Test(arguments: 0..<50)
    func diagnosticsAreSortedAsBefore(seed: Int) {
        var random = SplitMix64(state: UInt64(seed) &+ 1000)
        // Two files of the rule set (one named twice), and two outside it (a `let` can report in another file).
        let files = ["b.rules", "a.rules", "z.rules", "y.rules"].map { SourceFile(path: $0, text: "xxxxxxxx") }
        let order = ["b.rules", "a.rules", "b.rules"]
        let diagnostics = (0..<random.next(40)).map { number in
            Diagnostic(
                random.next(2) == 0 ? .error : .warning, .unknownField, "d\(number)",
                file: files[random.next(files.count)], span: Span(random.next(4), 8))
        }
        let sorted = sortDiagnostics(diagnostics, fileOrder: order)
        #expect(sorted.map(\.message) == Self.referenceSort(diagnostics, fileOrder: order).map(\.message))
    }
}
