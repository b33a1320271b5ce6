import Foundation
import RolecallEngine
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

    /// A runner, optionally filtered.
    public init(filter: String? = nil) { self.filter = filter }

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
            for testCase in cases {
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
        func compareSets(_ key: String, _ expected: Set<String>?, _ actual: [String]) {
            guard let expected, expected != Set(actual) else { return }
            let missing = expected.subtracting(actual).sorted()
            let extra = Set(actual).subtracting(expected).sorted()
            var line = "\(key): expected \(list(expected.sorted())), got \(list(actual.sorted()))"
            var parts: [String] = []
            if !missing.isEmpty { parts.append("missing \(list(missing))") }
            if !extra.isEmpty { parts.append("unexpected \(list(extra))") }
            line += " (" + parts.joined(separator: "; ") + ")"
            mismatches.append(line)
        }
        compareSets("assign", expect.assign, decision.assign)
        compareSets("revoke", expect.revoke, decision.revoke)
        compareSets("roles", expect.roles, decision.roles)
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

    func list(_ items: [String]) -> String { "[" + items.map(JSONText.quote).joined(separator: ", ") + "]" }
}
