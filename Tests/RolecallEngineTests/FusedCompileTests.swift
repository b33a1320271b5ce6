import RolecallLanguage
import Testing

@testable import RolecallEngine

/// `RuleEngine.compile` lowers each rule to the program as soon as the checker has checked it
/// (`Checker.check(_:each:)`): it must build the program and report the diagnostics that checking the whole rule
/// set first and compiling it afterwards (`Program(Checker.check(files))`) does, on both of the checker's ways
/// (rule by rule as parsed, and after parsing every file when a file has the word `let`).
@Suite struct FusedCompileTests {
    /// Rules of most shapes the compiler lowers: fields, lists, regexes, quantifiers, calls, `revoke all`,
    /// `stop`, anonymous rules; with `lets`, every fourth rule uses a `let` defined after it.
    static func source(_ count: Int, lets: Bool) -> String {
        var text = ""
        for i in 1...count {
            let name = i % 5 == 0 ? "" : "rule \"r\(i)\" "
            switch i % 8 {
            case 0: text += "\(name)when user.app_metadata.f\(i % 13) == \"x\(i % 3)\" assign \"a\(i % 7)\"\n"
            case 1: text += "\(name)when connection.strategy in [\"samlp\", \"s\(i)\"] revoke \"a\(i % 7)\"\n"
            case 2: text += "\(name)when user.email matches /@d\(i % 4)\\.com$/i assign \"m\(i)\"\n"
            case 3: text += "\(name)when any(user.identities, x, x.provider == \"p\(i % 3)\") assign \"g\(i % 5)\"\n"
            case 4:
                let condition = lets ? "l\(i % 3)" : "logins_count >= \(i) and user.email_verified"
                text += "\(name)when \(condition) revoke all except \"a\(i % 7)\" assign \"z\"\n"
            case 5: text += "\(name)when days_since(user.created_at) > \(i) assign \"v\(i % 9)\"\n"
            case 6: text += "\(name)when lower(user.name) starts_with \"n\(i)\" assign \"n\" stop\n"
            default: text += "\(name)assign \"all\(i % 2)\"\n"
            }
        }
        if lets {
            for i in 0..<3 { text += "let l\(i) = logins_count >= \(i) and user.email_verified\n" }
        }
        return text
    }

    static let events = [
        #"{"user": {"user_id": "a", "email": "x@d1.com", "email_verified": true, "name": "N8"}, "logins_count": 9}"#,
        #"{"user": {"identities": [{"provider": "p1"}], "app_metadata": {"f3": "x1"}}, "authorization": {"roles": ["a1", "q"]}}"#,
        #"{"connection": {"strategy": "samlp"}, "user": {"created_at": "2020-01-01T00:00:00Z", "name": "n6"}}"#,
    ]

    /// What a program does and says about itself: its rules' names and atoms, and the decision and trace of
    /// each event.
    static func behaviour(_ program: Program) throws -> [String] {
        var seen = program.ruleNames
        for rule in 0..<program.ruleCount {
            seen += program.conditionAtoms(ofRule: rule).map { "\($0.location) \($0.source) \($0.instruction)" }
        }
        let evaluator = Evaluator(program: program)
        evaluator.now = 1_800_000_000
        for event in events {
            let decision = try evaluator.evaluate(Array(event.utf8))
            seen.append("\(decision.assign) \(decision.revoke) \(decision.roles) \(decision.matched)")
            seen.append(try evaluator.explain(Array(event.utf8)).text)
        }
        return seen
    }

    @Test(arguments: [false, true])
    func theProgramIsTheOneCompiledAfterChecking(lets: Bool) throws {
        let files = [
            SourceFile(path: "a.rules", text: Self.source(400, lets: lets)),
            SourceFile(path: "b/a.rules", text: Self.source(60, lets: false).replacing("rule \"", with: "rule \"b")),
        ]
        let checked = Checker.check(files)
        #expect(!checked.hasErrors, "\(DiagnosticRenderer.json(checked.diagnostics))")
        let (fused, diagnostics) = RuleEngine.compile(files)
        let program = try #require(fused)
        #expect(DiagnosticRenderer.json(diagnostics) == DiagnosticRenderer.json(checked.diagnostics))
        #expect(program.ruleCount == checked.rules.count && program.ruleCount > 400)
        #expect(try Self.behaviour(program) == Self.behaviour(Program(checked)))
    }

    @Test(arguments: ["", "# let\n"])
    func aRuleSetWithErrorsIsReportedAlikeAndNotCompiled(suffix: String) {
        let files = [SourceFile(path: "a.rules", text: LoadPathTestsSource.text + suffix)]
        let (program, diagnostics) = RuleEngine.compile(files)
        #expect(program == nil)
        #expect(DiagnosticRenderer.json(diagnostics) == DiagnosticRenderer.json(Checker.check(files).diagnostics))
        #expect(
            diagnostics.contains { $0.code == .duplicateRule } && diagnostics.contains { $0.code == .overriddenEffect })
    }

    @Test func eachRuleIsHandedOnOnceInOrder() {
        let text = Self.source(50, lets: true)
        var names: [String] = []
        _ = Checker.check([SourceFile(path: "a.rules", text: text)]) { names.append($0.name) }
        #expect(names == Checker.check([SourceFile(path: "a.rules", text: text)]).rules.map(\.name))
        #expect(names.count > 40)
    }
}

/// Rules with something to report in most of them (as `LoadPathTests` has): duplicate names, unreachable rules,
/// overridden effects, type errors, syntax errors, lints.
enum LoadPathTestsSource {
    static let text = (1...300).map { i -> String in
        switch i % 10 {
        case 0: return "rule \"dup\(i % 4)\" when user.app_metadata.plan == \"p\(i % 7)\" assign \"a\(i % 5)\"\n"
        case 1: return "rule \"s\(i)\" when user.app_metadata.plan == \"p\(i % 7)\" revoke \"a\(i % 5)\"\n"
        case 2: return "rule \"t\(i)\" when logins_count == 1 assign \"first\"\n"
        case 3: return "rule \"u\(i)\" when user.user_metadata.role == \"admin\" assign \"admin\"\n"
        case 4: return "rule \"v\(i)\" when user.email_verified == \"yes\" assign \"v\"\n"
        case 6: return "when user.app_metadata.f\(i) == \"x\" assign \"anon\(i % 3)\" revoke \"anon\(i % 3)\"\n"
        case 7: return "rule \"x\(i)\" when user.app_metadata.plan = \"p\" assign \"x\"\n"
        case 8: return "rule \"y\(i)\" when user.emial == \"x\" assign \"y\"\n"
        default: return i == 299 ? "rule \"stopper\" stop\n" : "rule \"z\(i)\" revoke all except \"rol_1\"\n"
        }
    }.joined()
}
