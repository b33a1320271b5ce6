import RolecallDiff
import RolecallEngine
import RolecallLanguage
import Testing

/// Reports of consecutive runs of lines merge into the report of the whole run: what `--jobs` relies on.
@Suite struct DiffReportTests {
    static func program(_ source: String) throws -> Program {
        let (program, diagnostics) = RuleEngine.compile([SourceFile(path: "r.rules", text: source)])
        return try #require(program, "\(diagnostics.map(\.message))")
    }

    @Test func mergingTheReportsOfSplitInputGivesTheReportOfTheWhole() throws {
        let base = try Self.program(#"rule "a" when user.app_metadata.n > 1 assign "x""#)
        let head = try Self.program(#"rule "a" when user.app_metadata.n > 2 assign "x" rule "b" assign "y""#)
        let events = (0..<40).map { #"{"user":{"user_id":"u\#($0 % 7)","app_metadata":{"n":\#($0 % 5)}}}"# }
        func run(_ lines: ArraySlice<String>, from first: Int, part: Bool = true) throws -> DiffReport {
            let differ = DecisionDiffer(base: base, head: head, examplesPerKind: 2, now: nil, clockFromEvent: false)
            differ.report = DiffReport(
                beforeRules: base.ruleCount, afterRules: head.ruleCount, examplesPerKind: 2, part: part)
            for (offset, line) in lines.enumerated() {
                try Array(line.utf8).withUnsafeBytes { try differ.add(line: first + offset, $0) }
            }
            return differ.report
        }
        let whole = try run(events[...], from: 1, part: false)
        for cut in [1, 13, 39] {
            var merged = DiffReport(beforeRules: base.ruleCount, afterRules: head.ruleCount, examplesPerKind: 2)
            merged.merge(try run(events[..<cut], from: 1))
            merged.merge(try run(events[cut...], from: cut + 1))
            let a = DiffRenderer(report: merged, beforeRules: base.ruleNames, afterRules: head.ruleNames)
            let b = DiffRenderer(report: whole, beforeRules: base.ruleNames, afterRules: head.ruleNames)
            #expect(a.json == b.json, "cut at \(cut)")
        }
        #expect(whole.events == 40)
        #expect(whole.users.count == 7)
        #expect(whole.changed == 40)  // "y" is new everywhere
        #expect(whole.examples.count <= 4)
    }

    @Test func aChangeOfOrderOnlyIsNoChange() throws {
        let base = try Self.program(#"rule "a" assign "x" rule "b" assign "y""#)
        let head = try Self.program(#"rule "b" assign "y" rule "a" assign "x""#)
        let differ = DecisionDiffer(base: base, head: head, examplesPerKind: 3, now: nil, clockFromEvent: false)
        try Array("{}".utf8).withUnsafeBytes { try differ.add(line: 1, $0) }
        #expect(differ.report.changed == 0)
        #expect(differ.report.events == 1)
    }

    /// When every event changes its own way, only the first kinds keep examples, in input order, whether the
    /// input is read in one run or in parts.
    @Test func theKindsWithExamplesAreBoundedTheSameWayInParts() throws {
        let base = try Self.program(#"rule "all" when user.app_metadata.wipe == true revoke all"#)
        let head = try Self.program(#"rule "none" when false assign "x""#)
        let events = (0..<300).map { #"{"user":{"app_metadata":{"wipe":true}},"authorization":{"roles":["r\#($0)"]}}"# }
        func run(_ lines: ArraySlice<String>, from first: Int, part: Bool) throws -> DiffReport {
            let differ = DecisionDiffer(base: base, head: head, examplesPerKind: 1, now: nil, clockFromEvent: false)
            differ.report = DiffReport(
                beforeRules: base.ruleCount, afterRules: head.ruleCount, examplesPerKind: 1, part: part)
            for (offset, line) in lines.enumerated() {
                try Array(line.utf8).withUnsafeBytes { try differ.add(line: first + offset, $0) }
            }
            return differ.report
        }
        let whole = try run(events[...], from: 1, part: false)
        #expect(whole.examples.count == DiffReport.maxExampleKinds)
        #expect(whole.kindsWithoutExamples == 300 - DiffReport.maxExampleKinds)
        var merged = DiffReport(beforeRules: base.ruleCount, afterRules: head.ruleCount, examplesPerKind: 1)
        for start in stride(from: 0, to: 300, by: 37) {
            merged.merge(try run(events[start..<min(300, start + 37)], from: start + 1, part: true))
        }
        #expect(merged.examples.map(\.line) == whole.examples.map(\.line))
        #expect(merged.kindsWithoutExamples == whole.kindsWithoutExamples)
    }
}

/// Role names are their bytes: `"caf\u{E9}"` and `"cafe\u{301}"` are two roles, though Swift's `String` finds
/// them equal. `rules diff` counts each apart and sees a move from one to the other.
@Suite struct DiffRoleSpellingTests {
    static let nfc = "caf\u{E9}"
    static let nfd = "cafe\u{301}"

    static func bytes(_ text: String?) -> [UInt8] { Array((text ?? "").utf8) }

    @Test func aMoveFromOneSpellingToTheOtherIsAChange() throws {
        let base = try DiffReportTests.program("rule \"a\" assign \"\(Self.nfc)\"")
        let head = try DiffReportTests.program("rule \"a\" assign \"\(Self.nfd)\"")
        let differ = DecisionDiffer(base: base, head: head, examplesPerKind: 3, now: nil, clockFromEvent: false)
        try Array("{}".utf8).withUnsafeBytes { try differ.add(line: 1, $0) }
        #expect(differ.report.changed == 1)
        #expect(differ.report.roles.count == 2)
        #expect(differ.report.roles.values.map(\.gained).sorted() == [0, 1])
        #expect(differ.report.roles.values.map(\.lost).sorted() == [0, 1])
        let example = try #require(differ.report.examples.first)
        #expect(Self.bytes(example.kind) == Self.bytes("+\(Self.nfd) -\(Self.nfc)"))
        // Rule "a" decided both spellings, so the why shows it though it fired in both.
        #expect(example.why == [#"  rule "a": fired"#])
    }

    /// Found by an attacker: the why lines named a rule as JSON quotes it, which leaves U+202E as itself; they name
    /// it as the trace does, with hidden scalars written out.
    @Test func whyWritesTheHiddenScalarsOfARuleNameOut() throws {
        let base = try DiffReportTests.program(#"rule "a\u{202e}b" assign "x""#)
        let head = try DiffReportTests.program(#"rule "a\u{202e}b" assign "y""#)
        let differ = DecisionDiffer(base: base, head: head, examplesPerKind: 3, now: nil, clockFromEvent: false)
        try Array("{}".utf8).withUnsafeBytes { try differ.add(line: 1, $0) }
        let example = try #require(differ.report.examples.first)
        #expect(example.why == [#"  rule "a\u{202e}b": fired"#])
    }

    /// The human report's table of rules that fire on a different number of events quoted names as JSON does, so
    /// U+202E reached the terminal there too; no report for people holds it as itself.
    @Test func theRuleTableWritesTheHiddenScalarsOfARuleNameOut() throws {
        let base = try DiffReportTests.program(#"rule "a\u{202e}b" when user.app_metadata.n == 1 assign "x""#)
        let head = try DiffReportTests.program(#"rule "a\u{202e}b" when user.app_metadata.n == 2 assign "x""#)
        let differ = DecisionDiffer(base: base, head: head, examplesPerKind: 3, now: nil, clockFromEvent: false)
        try Array(#"{"user":{"app_metadata":{"n":2}}}"#.utf8).withUnsafeBytes { try differ.add(line: 1, $0) }
        let rendered = DiffRenderer(report: differ.report, beforeRules: base.ruleNames, afterRules: head.ruleNames)
        #expect(rendered.human.contains(#"  "a\u{202e}b"       0       1"#), "\(rendered.human)")
        #expect(!rendered.human.unicodeScalars.contains("\u{202E}"), "\(rendered.human)")
        #expect(!rendered.markdown.unicodeScalars.contains("\u{202E}"), "\(rendered.markdown)")
    }

    @Test func eachSpellingIsItsOwnRoleAndItsOwnKindOfChange() throws {
        let base = try DiffReportTests.program(#"rule "none" when false assign "x""#)
        let head = try DiffReportTests.program(
            "rule \"nfc\" when user.app_metadata.s == 1 assign \"\(Self.nfc)\"\n"
                + "rule \"nfd\" when user.app_metadata.s == 2 assign \"\(Self.nfd)\"")
        let differ = DecisionDiffer(base: base, head: head, examplesPerKind: 1, now: nil, clockFromEvent: false)
        for (line, s) in [1, 2, 1, 2].enumerated() {
            try Array(#"{"user":{"app_metadata":{"s":\#(s)}}}"#.utf8).withUnsafeBytes {
                try differ.add(line: line + 1, $0)
            }
        }
        #expect(differ.report.changed == 4)
        #expect(differ.report.roles.values.map(\.gained) == [2, 2])
        #expect(
            differ.report.examples.map { Self.bytes($0.kind) } == [
                Self.bytes("+\(Self.nfc)"), Self.bytes("+\(Self.nfd)"),
            ])
        let rendered = DiffRenderer(report: differ.report, beforeRules: base.ruleNames, afterRules: head.ruleNames)
        // The roles by their bytes: U+00E9 (C3 A9) sorts after `e` (65).
        let roles =
            "\"roles\":[{\"role\":\"\(Self.nfd)\",\"gained\":2,\"lost\":0},"
            + "{\"role\":\"\(Self.nfc)\",\"gained\":2,\"lost\":0}]"
        #expect(Self.bytes(rendered.json).firstRange(of: Self.bytes(roles)) != nil)
    }

    /// The human and markdown reports write the two spellings' scalars out, so their rows and kinds read apart;
    /// the JSON keeps the exact strings.
    @Test func theHumanReportsShowTheTwoSpellingsApart() throws {
        let base = try DiffReportTests.program("rule \"a\" assign \"\(Self.nfc)\" rule \"b\" assign \"x\"")
        let head = try DiffReportTests.program("rule \"a\" assign \"\(Self.nfd)\" rule \"b\" assign \"x\"")
        let differ = DecisionDiffer(base: base, head: head, examplesPerKind: 3, now: nil, clockFromEvent: false)
        try Array("{}".utf8).withUnsafeBytes { try differ.add(line: 1, $0) }
        let rendered = DiffRenderer(report: differ.report, beforeRules: base.ruleNames, afterRules: head.ruleNames)
        let human = rendered.human
        #expect(human.contains(#"  "cafe\u{301}"       1       0"#))
        #expect(human.contains(#"  "caf\u{e9}"         0       1"#))
        #expect(human.contains(#"  +"cafe\u{301}" -"caf\u{e9}"  line 1"#))
        #expect(human.contains(#"before: roles ["caf\u{e9}", "x"], assign ["caf\u{e9}", "x"], revoke []"#))
        let markdown = rendered.markdown
        #expect(markdown.contains("| <code>&#34;caf&#92;u&#123;e9&#125;&#34;</code> | 0 | 1 |"))
        #expect(
            markdown.contains(
                "<code>&#43;&#34;cafe&#92;u&#123;301&#125;&#34; -&#34;caf&#92;u&#123;e9&#125;&#34;</code>"))
        // Only the labels change: the JSON holds the exact strings.
        #expect(Self.bytes(rendered.json).firstRange(of: Self.bytes("\"change\":\"+\(Self.nfd) -\(Self.nfc)\"")) != nil)
    }

    /// A user id from an event that holds characters printing as nothing or as something else (a bidi override,
    /// an escape sequence) is shown escaped in the human and markdown reports, and exact in the JSON.
    @Test func hiddenCharactersInUserIDsAreShownEscaped() throws {
        let base = try DiffReportTests.program(#"rule "none" when false assign "x""#)
        let head = try DiffReportTests.program(#"rule "all" assign "x""#)
        let differ = DecisionDiffer(base: base, head: head, examplesPerKind: 3, now: nil, clockFromEvent: false)
        try Array(#"{"user":{"user_id":"u\u202eq\u001b[2Jz"}}"#.utf8).withUnsafeBytes { try differ.add(line: 1, $0) }
        let rendered = DiffRenderer(report: differ.report, beforeRules: base.ruleNames, afterRules: head.ruleNames)
        #expect(rendered.human.contains(#"user "u\u{202e}q\u{1b}[2Jz""#), "\(rendered.human)")
        #expect(!rendered.human.unicodeScalars.contains { $0 == "\u{202E}" || $0 == "\u{1B}" })
        #expect(!rendered.markdown.unicodeScalars.contains { $0 == "\u{202E}" || $0 == "\u{1B}" })
        #expect(
            rendered.markdown.contains("u&#92;u&#123;202e&#125;q&#92;u&#123;1b&#125;&#91;2Jz"), "\(rendered.markdown)")
        // JSON holds the id exactly (U+202E as itself, ESC as the escape JSON requires).
        #expect(rendered.json.contains("\"user_id\":\"u\u{202E}q\\u001b[2Jz\""), "\(rendered.json)")
    }
}
