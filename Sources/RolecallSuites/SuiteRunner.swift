import Foundation
import RolecallEngine
import RolecallFiles
import RolecallJSON
import RolecallLanguage

/// The outcome of one test case.
public struct CaseResult: Sendable {
    /// The suite file.
    public var suite: String
    /// The case's name.
    public var name: String
    /// The case's line in the suite.
    public var line: Int
    /// Whether every expectation held.
    public var passed: Bool
    /// Each expectation that did not hold, as "key: expected X, got Y".
    public var mismatches: [String]
    /// The trace of the evaluation, when the case could be evaluated.
    public var explanation: Explanation?
}

/// Everything `rules test` reports.
public struct TestReport: Sendable {
    /// Every case, in suite and case order.
    public var results: [CaseResult] = []
    /// Suites or cases that could not be read (each counts as one failure).
    public var problems: [SuiteProblem] = []
    /// Diagnostics of rule sets that did not compile (their suites' cases fail).
    public var diagnostics: [Diagnostic] = []
    /// The warnings of the rule sets the suites ran against (each rule set's once); they fail nothing.
    public var ruleWarnings: [Diagnostic] = []
    /// What looks wrong in the suites (a `patch` key the event does not have, an expected role no rule can
    /// produce); they fail nothing.
    public var warnings: [SuiteWarning] = []
    /// Coverage per rule set, in the order first used.
    public var coverage: [Coverage] = []

    /// Cases that passed.
    public var passed: Int { results.filter(\.passed).count }
    /// Cases that failed, plus unreadable suites and cases.
    public var failed: Int { results.filter { !$0.passed }.count + problems.count }
}

/// Runs test suites against the rule sets beside them.
///
/// A suite tests the rule set of its directory: every `.rules` file below the directory the suite is in, as
/// `rules eval DIRECTORY` would load it, so a suite sees the rules exactly as production does.
public struct SuiteRunner {
    /// Only cases whose name (or `suite: name`) contains this text run.
    public var filter: String?
    /// The evaluation clock of cases whose suite and case set no `now:` (`rules test --now`), in seconds since
    /// the Unix epoch; nil reads the wall clock at each evaluation. A `now:` in the suite wins: it is part of
    /// what the case means.
    public var now: Double?

    /// A runner, optionally filtered, with a default clock.
    public init(filter: String? = nil, now: Double? = nil) {
        self.filter = filter
        self.now = now
    }

    /// A compiled rule set and its coverage.
    struct RuleSet {
        var program: Program?
        var coverage: Int?
    }

    /// Runs every suite in `suitePaths`.
    public func run(_ suitePaths: [String]) -> TestReport {
        var report = TestReport()
        var ruleSets: [String: RuleSet] = [:]
        for path in suitePaths {
            let suite = SuiteLoader.load(path: path)
            report.problems += suite.problems.filter { problem in
                problem.caseName.map { selected(suite: path, name: $0) } ?? true
            }
            report.warnings += suite.warnings.filter { warning in
                warning.caseName.map { selected(suite: path, name: $0) } ?? true
            }
            let cases = suite.cases.filter { selected(suite: path, name: $0.name) }
            guard !cases.isEmpty else { continue }
            let directory = SuiteLoader.directory(of: path)
            if ruleSets[directory] == nil {
                ruleSets[directory] = compile(directory, into: &report)
            }
            guard let program = ruleSets[directory]?.program, let coverageIndex = ruleSets[directory]?.coverage else {
                for testCase in cases {
                    report.results.append(
                        CaseResult(
                            suite: path, name: testCase.name, line: testCase.line, passed: false,
                            mismatches: ["the rule set in \(directory) could not be loaded or has errors"],
                            explanation: nil))
                }
                continue
            }
            let evaluator = Evaluator(program: program)
            let assigned = program.assignedRoles
            for testCase in cases {
                report.warnings += unproducible(testCase, suite: path, assigned: assigned)
                evaluator.now = testCase.now ?? now
                report.results.append(
                    run(testCase, suite: path, evaluator: evaluator, coverage: &report.coverage[coverageIndex]))
            }
        }
        return report
    }

    func selected(suite: String, name: String) -> Bool {
        guard let filter, !filter.isEmpty else { return true }
        return name.contains(filter) || "\(suite): \(name)".contains(filter)
    }

    func compile(_ directory: String, into report: inout TestReport) -> RuleSet {
        let files: [SourceFile]
        do {
            files = try RuleSetLoader.load([directory])
        } catch {
            report.problems.append(SuiteProblem(file: directory, line: 1, column: 1, message: error.description))
            return RuleSet(program: nil, coverage: nil)
        }
        let (program, diagnostics) = RuleEngine.compile(files)
        report.diagnostics += diagnostics.filter { $0.severity == .error }
        report.ruleWarnings += diagnostics.filter { $0.severity == .warning }
        guard let program else { return RuleSet(program: nil, coverage: nil) }
        report.coverage.append(Coverage(program: program))
        return RuleSet(program: program, coverage: report.coverage.count - 1)
    }

    func run(_ testCase: TestCase, suite: String, evaluator: Evaluator, coverage: inout Coverage) -> CaseResult {
        let explanation: Explanation
        do {
            explanation = try evaluator.explain(Array(testCase.event.serialized.utf8))
        } catch {
            return CaseResult(
                suite: suite, name: testCase.name, line: testCase.line, passed: false,
                mismatches: ["the event is not valid: \(error)"], explanation: nil)
        }
        coverage.record(explanation)
        let decision = explanation.decision
        let expect = testCase.expect
        var mismatches: [String] = []
        // Role names compare by their bytes (``ExactString``): a decision's `"cafe\u{301}"` is not the
        // `"caf\u{E9}"` a case expects.
        func compareSets(_ key: String, _ expected: Set<ExactString>?, _ actual: [String]) {
            let actual = actual.map(ExactString.init)
            guard let expected, expected != Set(actual) else { return }
            let missing = expected.subtracting(actual).sorted()
            let extra = Set(actual).subtracting(expected).sorted()
            let shown = Spellings(expected.union(actual).map(\.string))
            var line =
                "\(key): expected \(list(expected.sorted(), shown)), got \(list(actual.sorted(), shown))"
            var parts: [String] = []
            if !missing.isEmpty { parts.append("missing \(list(missing, shown))") }
            if !extra.isEmpty { parts.append("unexpected \(list(extra, shown))") }
            line += " (" + parts.joined(separator: "; ") + ")"
            if let pair = encodingPair(missing, extra) { line += "; " + pair }
            mismatches.append(line)
        }
        compareSets("assign", expect.assign, decision.assign)
        compareSets("revoke", expect.revoke, decision.revoke)
        compareSets("roles", expect.roles, decision.roles)
        func compareIncludes(_ key: String, _ expected: Set<ExactString>?, _ actual: [String]) {
            guard let expected else { return }
            let actual = actual.map(ExactString.init)
            let missing = expected.subtracting(actual).sorted()
            guard !missing.isEmpty else { return }
            let shown = Spellings(expected.union(actual).map(\.string))
            let pair = encodingPair(missing, actual.sorted())
            mismatches.append(
                "\(key): expected to include \(list(expected.sorted(), shown)), got \(list(actual.sorted(), shown))"
                    + " (missing \(list(missing, shown)))" + (pair.map { "; " + $0 } ?? ""))
        }
        func compareExcludes(_ key: String, _ refused: Set<ExactString>?, _ actual: [String]) {
            guard let refused else { return }
            let actual = actual.map(ExactString.init)
            let unexpected = refused.intersection(actual).sorted()
            guard !unexpected.isEmpty else { return }
            let shown = Spellings(refused.union(actual).map(\.string))
            mismatches.append(
                "\(key): expected none of \(list(refused.sorted(), shown)), got \(list(actual.sorted(), shown))"
                    + " (unexpected \(list(unexpected, shown)))")
        }
        compareIncludes("assign_includes", expect.assignIncludes, decision.assign)
        compareExcludes("assign_excludes", expect.assignExcludes, decision.assign)
        compareIncludes("roles_includes", expect.rolesIncludes, decision.roles)
        compareExcludes("roles_excludes", expect.rolesExcludes, decision.roles)
        if let matched = expect.matched, matched != decision.matched {
            mismatches.append("matched: expected \(list(matched)), got \(list(decision.matched))")
        }
        if let errors = expect.errors, errors != decision.errors.count {
            let details = decision.errors.map { "\($0.at): \($0.rule): \($0.message)" }
            mismatches.append(
                "errors: expected \(errors), got \(decision.errors.count)"
                    + (details.isEmpty ? "" : " (" + details.joined(separator: "; ") + ")"))
        }
        return CaseResult(
            suite: suite, name: testCase.name, line: testCase.line, passed: mismatches.isEmpty, mismatches: mismatches,
            explanation: explanation)
    }

    /// Warnings for the roles `testCase` expects that no rule assigns (and, for `roles`, that the event does not
    /// already hold): such an expectation can only fail, and is most often a misspelt role.
    func unproducible(_ testCase: TestCase, suite: String, assigned: Set<ExactString>) -> [SuiteWarning] {
        var held: Set<ExactString> = []
        func member(_ value: JSONValue?, _ key: String) -> JSONValue? {
            guard case .object(let members)? = value else { return nil }
            return members.last { ExactString($0.key) == ExactString(key) }?.value
        }
        if case .array(let roles)? = member(member(testCase.event, "authorization"), "roles") {
            for case .string(let role) in roles { held.insert(ExactString(role)) }
        }
        var warnings: [SuiteWarning] = []
        for expected in testCase.expectedRoles where !assigned.contains(ExactString(expected.role)) {
            let fromEvent = expected.key.hasPrefix("roles")
            if fromEvent, held.contains(ExactString(expected.role)) { continue }
            let candidates = (assigned.union(fromEvent ? held : [])).sorted().map(\.string)
            // A candidate that prints like the expected role is the one meant, whatever the edit distance says.
            let twin = candidates.first { Spelling.differOnlyInEncoding($0, expected.role) }
            let shown = Spellings([expected.role] + (twin.map { [$0] } ?? []))
            var message =
                "no rule assigns `\(shown.inline(expected.role))`"
                + (fromEvent ? " and the event's `authorization.roles` does not hold it" : "")
                + ", so `\(expected.key)` expecting it cannot pass"
            if let twin {
                message +=
                    "; did you mean `\(shown.inline(twin))`, which differs only in how its characters are encoded?"
            } else if let guess = suggest(expected.role, among: candidates) {
                message += "; did you mean `\(Spelling.visible(guess))`?"
            }
            warnings.append(
                SuiteWarning(
                    file: suite, line: expected.line, column: expected.column, message: message,
                    caseName: testCase.name))
        }
        return warnings
    }

    func list(_ items: [String]) -> String { "[" + items.map(Spelling.quoted).joined(separator: ", ") + "]" }

    /// Role names shown together: two that print alike are written with their non-ASCII scalars escaped.
    func list(_ items: [ExactString], _ shown: Spellings) -> String {
        "[" + items.map { shown.quoted($0.string) }.joined(separator: ", ") + "]"
    }

    /// A note for a missing role that an unexpected one prints like: the case most likely meant it.
    func encodingPair(_ missing: [ExactString], _ extra: [ExactString]) -> String? {
        for wanted in missing {
            if let got = extra.first(where: { Spelling.differOnlyInEncoding($0.string, wanted.string) }) {
                return "\(Spelling.literal(wanted.string)) and \(Spelling.literal(got.string)) differ only in how "
                    + "their characters are encoded"
            }
        }
        return nil
    }
}
