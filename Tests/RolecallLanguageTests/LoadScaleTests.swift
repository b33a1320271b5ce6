import Testing

@testable import RolecallLanguage

/// Loading must be linear in the size of the rule set (issue 7, item 9). These tests count the work the lints do
/// instead of timing them: the count per rule must not grow with the number of rules.
@Suite struct LoadScaleTests {
    /// `count` one-line rules, in one of the shapes of `bench/load.py`.
    static func rules(_ count: Int, shape: String) -> String {
        (1...count).map { i in
            let field = shape == "same-field" ? "plan" : "f\(i)"
            let action =
                shape == "same-role" || shape == "unconditional"
                ? (i % 2 == 0 ? "revoke \"member\"" : "assign \"member\"") : "assign \"role\(i)\""
            let stop = shape == "stops" ? " stop" : ""
            let condition = shape == "unconditional" ? "" : "when user.app_metadata.\(field) == \"x\(i)\" "
            return "rule \"r\(i)\" \(condition)\(action)\(stop)\n"
        }.joined()
    }

    /// The lints' work on a generated rule set, per rule.
    static func workPerRule(_ count: Int, shape: String) -> Double {
        let checked = check(rules(count, shape: shape))
        var work = 0
        _ = Checker.lint(checked.rules, work: &work)
        return Double(work) / Double(count)
    }

    @Test(arguments: ["distinct", "same-field", "same-role", "stops", "unconditional"])
    func lintWorkPerRuleDoesNotGrowWithTheRuleSet(shape: String) {
        let small = Self.workPerRule(500, shape: shape)
        let large = Self.workPerRule(4_000, shape: shape)
        // Binary searches grow by log2(8) = 3 steps; comparing pairs of rules would grow eightfold.
        #expect(large <= small + 8, "lint work per rule: \(small) for 500 rules, \(large) for 4000")
        #expect(large < 40)
    }

    @Test func everyRuleUndoneByAnUnconditionalLaterRuleIsStillFoundInLinearWork() {
        // Half the rules revoke `member`, each undone by the one unconditional rule at the end.
        let count = 4_000
        var source = (1...count).map { "rule \"r\($0)\" when user.app_metadata.f\($0) == 1 revoke \"member\"\n" }
            .joined()
        source += "rule \"everyone\" assign \"member\"\n"
        let checked = check(source)
        var work = 0
        let found = Checker.lint(checked.rules, work: &work)
        #expect(found.count == count)
        #expect(work < 40 * count)
    }
}

@Suite struct LongLineRenderingTests {
    @Test func aDiagnosticOnAVeryLongLineShowsAWindowAroundItsSpan() throws {
        // Thousands of rules on one line: each rendered diagnostic used to print the whole line and a caret line
        // as long (50 diagnostics of a 4 MB line printed 400 MB).
        let source =
            (1...3_000).map { "when user.app_metadata.f\($0) == \"é\($0)\" assign \"r\"" }.joined(separator: " ")
            + " when user.emial == \"x\" assign \"r\""
        let result = check(source)
        let d = try #require(result.diagnostics.first { $0.code == .unknownField })
        let rendered = DiagnosticRenderer.human(d)
        #expect(rendered.utf8.count < 600, "\(rendered.utf8.count) bytes")
        let lines = rendered.split(separator: "\n", omittingEmptySubsequences: false)
        let text = try #require(lines.dropFirst().first)
        let carets = try #require(lines.dropFirst(2).first)
        #expect(text.hasPrefix(" 1 | ..."))
        // The carets sit under the underlined text.
        let caretStart = try #require(carets.firstIndex(of: "^"))
        let offset = carets.distance(from: carets.startIndex, to: caretStart)
        let underlined = text.dropFirst(offset).prefix(carets.filter { $0 == "^" }.count)
        #expect(underlined == "user.emial")
    }

    @Test func shortLinesAreShownWhole() {
        let d = check("when user.emial == \"x\" assign \"r\"").diagnostics[0]
        #expect(
            DiagnosticRenderer.human(d).contains(
                " 1 | when user.emial == \"x\" assign \"r\"\n   |      ^^^^^^^^^^\n"))
    }
}

@Suite struct SourceFileLineTests {
    @Test func lineEndIsTheNextLineBreakOrTheEndOfTheFile() {
        let file = SourceFile(path: "t.rules", text: "ab\ncd\r\n\nxyz")
        #expect([0, 1, 2].map(file.lineEnd(after:)) == [2, 2, 2])
        #expect([3, 5, 6].map(file.lineEnd(after:)) == [6, 6, 6])
        #expect(file.lineEnd(after: 7) == 7)
        #expect([8, 10, 11, 99].map(file.lineEnd(after:)) == [11, 11, 11, 11])
        #expect(SourceFile(path: "e.rules", text: "").lineEnd(after: 0) == 0)
    }
}
