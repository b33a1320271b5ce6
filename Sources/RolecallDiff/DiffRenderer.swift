import RolecallEngine
import RolecallJSON

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

    /// One rule of either set: how many events it fired on under the old and the new rules (nil: not in that set).
    public struct RuleCount: Equatable, Sendable {
        public var rule: String
        public var before: Int?
        public var after: Int?
    }

    /// Every rule of either set: the new set's in order, then the rules only the old set has.
    public var rules: [RuleCount] {
        var before: [String: Int] = [:]
        for (index, name) in beforeRules.enumerated() { before[name] = report.firedBefore[index] }
        var counts = afterRules.enumerated().map { index, name in
            RuleCount(rule: name, before: before[name], after: report.firedAfter[index])
        }
        let newNames = Set(afterRules)
        for (index, name) in beforeRules.enumerated() where !newNames.contains(name) {
            counts.append(RuleCount(rule: name, before: report.firedBefore[index], after: nil))
        }
        return counts
    }

    /// The roles that changed, by name.
    var roles: [(role: String, change: DiffReport.RoleChange)] {
        report.roles.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
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
            "{\"rule\":\(JSONText.quote($0.rule)),\"before\":\(count($0.before)),\"after\":\(count($0.after))}"
        }
        let examples = report.examples.map { example in
            "{\"line\":\(example.line),\"user_id\":\(example.userID.map(JSONText.quote) ?? "null"),"
                + "\"change\":\(JSONText.quote(example.kind)),\"before\":\(example.before.json),"
                + "\"after\":\(example.after.json),\"why\":[\(example.why.map(JSONText.quote).joined(separator: ","))]}"
        }
        return "{\"events\":\(report.events),\"users\":\(report.users.count),\"changed\":\(report.changed),"
            + "\"invalid\":\(report.invalid),\"roles\":[\(roles.joined(separator: ","))],"
            + "\"rules\":[\(rules.joined(separator: ","))],\"examples\":[\(examples.joined(separator: ","))]}\n"
    }

    // MARK: human

    /// The report as text: the summary, the roles and rules that changed, then the examples with why.
    public var human: String {
        var out = summary + "\n"
        if !report.roles.isEmpty {
            out += "\nroles (events whose token gains or loses the role):\n"
            let width = max(4, self.roles.map { $0.role.count }.max() ?? 0)
            out += "  " + pad("role", width) + "  gained    lost\n"
            for (role, change) in self.roles {
                out +=
                    "  " + pad(role, width) + "  " + pad(String(change.gained), 6, right: true) + "  "
                    + pad(String(change.lost), 6, right: true) + "\n"
            }
        }
        let changedRules = rules.filter { $0.before != $0.after }
        if !changedRules.isEmpty {
            out += "\nrules that fire on a different number of events:\n"
            let width = max(4, changedRules.map { JSONText.quote($0.rule).count }.max() ?? 0)
            out += "  " + pad("rule", width) + "  before   after\n"
            for rule in changedRules {
                out +=
                    "  " + pad(JSONText.quote(rule.rule), width) + "  " + pad(text(rule.before), 6, right: true)
                    + "  " + pad(text(rule.after), 6, right: true) + note(rule) + "\n"
            }
        }
        let unchanged = rules.count - changedRules.count
        if unchanged > 0 { out += "\n\(unchanged) rule\(unchanged == 1 ? "" : "s") fired as before\n" }
        if !report.examples.isEmpty {
            out += "\nexamples (up to \(report.examplesPerKind) per change):\n"
            for example in report.examples {
                out += "\n  \(example.kind)  line \(example.line)"
                out += example.userID.map { ", user \(JSONText.quote($0))" } ?? ", no user id"
                out += "\n    before: \(brief(example.before))\n    after:  \(brief(example.after))\n"
                out += example.why.map { "    " + $0 + "\n" }.joined()
            }
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
        var out = "### Rolecall: what this rule change does to \(report.events) recorded logins\n\n"
        out += summary + ".\n"
        if !report.roles.isEmpty {
            out += "\n| role | gained | lost |\n|---|---:|---:|\n"
            for (role, change) in self.roles { out += "| \(cell(role)) | \(change.gained) | \(change.lost) |\n" }
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
        for example in report.examples {
            out += "\n<details><summary><code>\(html(example.kind))</code> line \(example.line)"
            out += example.userID.map { ", user <code>\(html($0))</code>" } ?? ""
            out += "</summary>\n\n```diff\n"
            out += "- \(brief(example.before))\n+ \(brief(example.after))\n"
            out += example.why.map { $0.replacing("```", with: "'''") + "\n" }.joined()
            out += "```\n\n</details>\n"
        }
        return out
    }

    // MARK: helpers

    func brief(_ decision: Decision) -> String {
        func list(_ items: [String]) -> String { "[" + items.map(JSONText.quote).joined(separator: ", ") + "]" }
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

    /// Text safe inside HTML and a markdown table cell: `& < > " |` escaped, line ends made spaces.
    func html(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "|": out += "&#124;"
            case "\n", "\r": out += " "
            default: out.append(character)
            }
        }
        return out
    }
}
