import RolecallEngine
import RolecallJSON
import RolecallLanguage

/// Prints a ``DiffReport`` for people (`human`), for tools (`json`, the shape of DESIGN.md) and for a pull
/// request comment (`markdown`).
///
/// The JSON lists every rule of either set; the human and markdown reports list the rules whose count changed
/// (a rule set may have thousands of rules) and say how many did not.
public struct DiffRenderer {
    /// The report.
    public var report: DiffReport
    /// The old rule set's rule names, in order.
    public var beforeRules: [String]
    /// The new rule set's rule names, in order.
    public var afterRules: [String]

    /// A renderer of `report`, whose rule counts are indexed like `beforeRules` and `afterRules`.
    public init(report: DiffReport, beforeRules: [String], afterRules: [String]) {
        self.report = report
        self.beforeRules = beforeRules
        self.afterRules = afterRules
    }

    /// One rule of either set: how many events it fired on under the old and the new rules (nil: not in that
    /// set), and on how many its condition failed to evaluate.
    public struct RuleCount: Equatable, Sendable {
        public var rule: String
        public var before: Int?
        public var after: Int?
        public var failedBefore: Int?
        public var failedAfter: Int?
    }

    /// Every rule of either set: the new set's in order, then the rules only the old set has.
    public var rules: [RuleCount] {
        var before: [String: Int] = [:]
        for (index, name) in beforeRules.enumerated() { before[name] = index }
        var counts = afterRules.enumerated().map { index, name in
            let old = before[name]
            return RuleCount(
                rule: name, before: old.map { report.firedBefore[$0] }, after: report.firedAfter[index],
                failedBefore: old.map { report.failedBefore[$0] }, failedAfter: report.failedAfter[index])
        }
        let newNames = Set(afterRules)
        for (index, name) in beforeRules.enumerated() where !newNames.contains(name) {
            counts.append(
                RuleCount(
                    rule: name, before: report.firedBefore[index], after: nil,
                    failedBefore: report.failedBefore[index], failedAfter: nil))
        }
        return counts
    }

    /// The roles that changed, by name.
    var roles: [(role: String, change: DiffReport.RoleChange)] {
        report.roles.sorted { $0.key < $1.key }.map { ($0.key.string, $0.value) }
    }

    // MARK: json

    /// The report as one JSON object (DESIGN.md, `rules diff`), with `invalid` and each example's `change`
    /// added.
    public var json: String {
        func count(_ value: Int?) -> String { value.map(String.init) ?? "null" }
        let roles = self.roles.map {
            "{\"role\":\(JSONText.quote($0.role)),\"gained\":\($0.change.gained),\"lost\":\($0.change.lost)}"
        }
        let rules = self.rules.map {
            "{\"rule\":\(JSONText.quote($0.rule)),\"before\":\(count($0.before)),\"after\":\(count($0.after)),"
                + "\"errors_before\":\(count($0.failedBefore)),\"errors_after\":\(count($0.failedAfter))}"
        }
        let examples = report.examples.map { example in
            "{\"line\":\(example.line),\"user_id\":\(example.userID.map(JSONText.quote) ?? "null"),"
                + "\"change\":\(JSONText.quote(example.kind)),\"before\":\(example.before.json),"
                + "\"after\":\(example.after.json),\"why\":[\(example.why.map(JSONText.quote).joined(separator: ","))]}"
        }
        return "{\"events\":\(report.events),\"users\":\(report.users.count),\"changed\":\(report.changed),"
            + "\"invalid\":\(report.invalid),\"kinds_without_examples\":\(report.kindsWithoutExamples),"
            + "\"roles\":[\(roles.joined(separator: ","))],"
            + "\"rules\":[\(rules.joined(separator: ","))],\"examples\":[\(examples.joined(separator: ","))]}\n"
    }

    // MARK: human

    /// The report as text: the summary, the roles and rules that changed, then the examples with why.
    public var human: String {
        let shown = shownRoles
        var out = summary + "\n"
        if !report.roles.isEmpty {
            out += "\nroles (events whose token gains or loses the role):\n"
            let width = max(4, self.roles.map { label($0.role, shown).count }.max() ?? 0)
            out += "  " + pad("role", width) + "  gained    lost\n"
            for (role, change) in self.roles {
                out +=
                    "  " + pad(label(role, shown), width) + "  " + pad(String(change.gained), 6, right: true) + "  "
                    + pad(String(change.lost), 6, right: true) + "\n"
            }
        }
        let changedRules = rules.filter { $0.before != $0.after }
        out += ruleTable(
            "rules that fire on a different number of events", changedRules.map { ($0, $0.before, $0.after) })
        let unchanged = rules.count - changedRules.count
        if unchanged > 0 { out += "\n\(unchanged) rule\(unchanged == 1 ? "" : "s") fired as before\n" }
        let failing = rules.filter { ($0.failedBefore ?? 0) > 0 || ($0.failedAfter ?? 0) > 0 }
        out += ruleTable(
            "rules whose condition failed to evaluate (events)", failing.map { ($0, $0.failedBefore, $0.failedAfter) })
        if report.kindsWithoutExamples > 0 {
            out +=
                "\n\(report.kindsWithoutExamples) more kinds of change, after the first "
                + "\(DiffReport.maxExampleKinds), have no examples\n"
        }
        if !report.examples.isEmpty {
            out += "\nexamples (up to \(report.examplesPerKind) per change):\n"
            for example in report.examples {
                out += "\n  \(shownKind(example, shown))  line \(example.line)"
                out += example.userID.map { ", user \(HumanText.quoted($0))" } ?? ", no user id"
                out += "\n    before: \(brief(example.before, shown))\n    after:  \(brief(example.after, shown))\n"
                out += example.why.map { "    " + $0 + "\n" }.joined()
            }
        }
        return out
    }

    /// A table of rules with a count before and after (none when `rows` is empty), for the human report. Rule
    /// names quoted as the trace quotes them (``Spelling/quoted(_:)``: hidden scalars such as U+202E written out).
    func ruleTable(_ title: String, _ rows: [(rule: RuleCount, before: Int?, after: Int?)]) -> String {
        guard !rows.isEmpty else { return "" }
        let width = max(4, rows.map { Spelling.quoted($0.rule.rule).count }.max() ?? 0)
        var out = "\n\(title):\n  " + pad("rule", width) + "  before   after\n"
        for row in rows {
            out +=
                "  " + pad(Spelling.quoted(row.rule.rule), width) + "  " + pad(text(row.before), 6, right: true) + "  "
                + pad(text(row.after), 6, right: true) + note(row.rule) + "\n"
        }
        return out
    }

    /// `rules diff: N events from U users, C changed (P%)`, and the invalid lines.
    var summary: String {
        let share = report.events == 0 ? 0 : Double(report.changed) * 100 / Double(report.events)
        var line =
            "\(report.events) event\(report.events == 1 ? "" : "s") from \(report.users.count) "
            + "user\(report.users.count == 1 ? "" : "s"): \(report.changed) decision\(report.changed == 1 ? "" : "s") "
            + "changed (\(percent(share)))"
        if report.invalid > 0 { line += ", \(report.invalid) invalid line\(report.invalid == 1 ? "" : "s") skipped" }
        return line
    }

    // MARK: markdown

    /// The report as GitHub-flavoured markdown for a pull request comment: tables of roles and rules, examples
    /// in collapsible blocks.
    public var markdown: String {
        var out =
            "### Rolecall: what this rule change does to \(report.events) recorded "
            + "login\(report.events == 1 ? "" : "s")\n\n"
        let shown = shownRoles
        out += summary + ".\n"
        if !report.roles.isEmpty {
            out += "\n| role | gained | lost |\n|---|---:|---:|\n"
            for (role, change) in self.roles {
                out += "| \(cell(markdownLabel(role, shown))) | \(change.gained) | \(change.lost) |\n"
            }
        }
        let changedRules = rules.filter { $0.before != $0.after }
        if !changedRules.isEmpty {
            out += "\n| rule | fired before | fired after |\n|---|---:|---:|\n"
            for rule in changedRules {
                out += "| \(cell(rule.rule))\(note(rule)) | \(text(rule.before)) | \(text(rule.after)) |\n"
            }
        }
        let unchanged = rules.count - changedRules.count
        if unchanged > 0 { out += "\n\(unchanged) rule\(unchanged == 1 ? "" : "s") fired as before.\n" }
        let failing = rules.filter { ($0.failedBefore ?? 0) > 0 || ($0.failedAfter ?? 0) > 0 }
        if !failing.isEmpty {
            out += "\n| rule whose condition failed | events before | events after |\n|---|---:|---:|\n"
            for rule in failing {
                out += "| \(cell(rule.rule)) | \(text(rule.failedBefore)) | \(text(rule.failedAfter)) |\n"
            }
        }
        for example in report.examples {
            let changes = changes(example)
            let kind =
                changes.isEmpty
                ? example.kind : changes.map { $0.sign + markdownLabel($0.role, shown) }.joined(separator: " ")
            out += "\n<details><summary><code>\(html(kind))</code> line \(example.line)"
            out += example.userID.map { ", user <code>\(html($0))</code>" } ?? ""
            out += "</summary>\n\n```diff\n"
            out += "- \(brief(example.before, shown))\n+ \(brief(example.after, shown))\n"
            out += example.why.map { $0.replacing("```", with: "'''") + "\n" }.joined()
            out += "```\n\n</details>\n"
        }
        return out
    }

    // MARK: helpers

    /// Every role name the report shows: the table's and the examples' decisions. Two of them that print alike
    /// but are different bytes (`caf\u{e9}`, `cafe\u{301}`) are shown with their scalars written out.
    var shownRoles: Spellings {
        let examples = report.examples.flatMap { [$0.before, $0.after] }.flatMap { $0.roles + $0.assign + $0.revoke }
        return Spellings(report.roles.keys.map(\.string) + examples)
    }

    /// A role in the human report: as ``HumanText/word(_:)`` prints it, so that no name can start a line of its
    /// own or look like part of the table, or as a literal when it prints like another role of the report.
    func label(_ role: String, _ shown: Spellings) -> String { shown.word(role) }

    /// A role in markdown (escaped by ``html(_:)`` after): as itself, or as a literal when it prints like another.
    func markdownLabel(_ role: String, _ shown: Spellings) -> String {
        shown.alike.contains(ExactString(role)) ? Spelling.literal(role) : role
    }

    /// The roles an example gains (`+`) and loses (`-`), in the order of its kind (``DecisionDiffer``), from its
    /// decisions rather than by splitting the kind's text, which a role with a space in it would cut in two.
    func changes(_ example: DiffReport.Example) -> [(sign: String, role: String)] {
        let before = Set(example.before.roles.map(ExactString.init))
        let after = Set(example.after.roles.map(ExactString.init))
        return after.subtracting(before).sorted().map { ("+", $0.string) }
            + before.subtracting(after).sorted().map { ("-", $0.string) }
    }

    /// A kind of change as the human report shows it: each `+role`/`-role` as ``label(_:_:)`` shows the role.
    func shownKind(_ example: DiffReport.Example, _ shown: Spellings) -> String {
        let changes = changes(example)
        guard !changes.isEmpty else { return example.kind }
        return changes.map { $0.sign + label($0.role, shown) }.joined(separator: " ")
    }

    func brief(_ decision: Decision, _ shown: Spellings) -> String {
        func list(_ items: [String]) -> String { "[" + items.map(shown.quoted).joined(separator: ", ") + "]" }
        return "roles \(list(decision.roles)), assign \(list(decision.assign)), revoke \(list(decision.revoke))"
    }

    func text(_ count: Int?) -> String { count.map(String.init) ?? "-" }

    func note(_ rule: RuleCount) -> String {
        if rule.before == nil { return "  (new)" }
        if rule.after == nil { return "  (removed)" }
        return ""
    }

    func percent(_ value: Double) -> String {
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)%"
    }

    func pad(_ text: String, _ width: Int, right: Bool = false) -> String {
        let padding = String(repeating: " ", count: max(0, width - text.count))
        return right ? padding + text : text + padding
    }

    /// Text in a markdown table cell, escaped (``html(_:)``) and wrapped in code.
    func cell(_ text: String) -> String {
        "<code>" + html(text) + "</code>"
    }

    /// Text from an event or a rule set made inert in markdown and HTML: letters, digits, spaces and
    /// `- . @ : /` stay; every other ASCII character (markdown's brackets, parentheses, `!`, `*`, `_`, backticks,
    /// `~`, `|` and HTML's `< > & "` among them) becomes a numeric character reference, which GitHub shows as
    /// the character and never parses; control characters become spaces. A role name cannot add a link, an
    /// image, a table cell or a tag to a pull request comment.
    func html(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar.value {
            case 0x61...0x7A, 0x41...0x5A, 0x30...0x39, 0x20, 0x2D, 0x2E, 0x40, 0x3A, 0x2F:
                out.unicodeScalars.append(scalar)
            case 0x21..<0x7F: out += "&#\(scalar.value);"
            // What prints as nothing or as something else is written as its escape, entities and all: two user
            // ids or roles that differ only there do not read alike.
            case _ where scalar.isHiddenInText: out += html(HumanText.escape(scalar))
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
