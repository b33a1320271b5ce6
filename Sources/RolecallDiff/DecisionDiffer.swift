import RolecallEngine
import RolecallJSON
import RolecallLanguage

/// Runs each event through an old and a new rule set and adds what differs to a ``DiffReport``.
///
/// A differ owns two evaluators, so it belongs to one thread; `--jobs` gives each worker its own and merges
/// their reports in input order.
public final class DecisionDiffer {
    /// The old (base) rule set's evaluator.
    public let before: Evaluator
    /// The new rule set's evaluator.
    public let after: Evaluator
    /// What the events seen so far did.
    public var report: DiffReport
    var lineBefore: [UInt8] = []
    var lineAfter: [UInt8] = []

    /// The most lines of trace an example's "why" keeps.
    public static let maxWhyLines = 24

    /// A differ of `base` against `head`. `now` fixes the clock of `days_since` (nil: the wall clock);
    /// `clockFromEvent`: an event's own `rolecall_now` is its clock (a replayed decision log).
    public init(base: Program, head: Program, examplesPerKind: Int, now: Double?, clockFromEvent: Bool) {
        before = Evaluator(program: base)
        after = Evaluator(program: head)
        for evaluator in [before, after] {
            evaluator.now = now
            evaluator.clockFromEvent = clockFromEvent
        }
        report = DiffReport(
            beforeRules: base.ruleCount, afterRules: head.ruleCount, examplesPerKind: examplesPerKind)
    }

    /// Which rule set refused an event.
    public struct InvalidEvent: Error, Sendable, CustomStringConvertible {
        /// The reader's error.
        public var error: JSONError
        /// Whether the old rules, the new rules, or both refused it.
        public var side: String

        public var description: String { side.isEmpty ? "\(error)" : "\(error) (\(side))" }
    }

    /// Compares the decisions on one event, the input's line `line`. An event one rule set refuses is counted as
    /// invalid and thrown: the two sets read different fields, so only one may see, say, a repeated key.
    public func add(line: Int, _ event: UnsafeRawBufferPointer) throws(InvalidEvent) {
        lineBefore.removeAll(keepingCapacity: true)
        lineAfter.removeAll(keepingCapacity: true)
        var failure: (JSONError, String)?
        do throws(JSONError) {
            try before.evaluate(event, writingTo: &lineBefore)
        } catch {
            failure = (error, "old rules")
        }
        do throws(JSONError) {
            try after.evaluate(event, writingTo: &lineAfter)
        } catch {
            failure = (failure?.0 ?? error, failure == nil ? "new rules" : "")
        }
        if let (error, side) = failure {
            report.invalid += 1
            throw InvalidEvent(error: error, side: side)
        }
        report.events += 1
        for rule in before.firedRules { report.firedBefore[Int(rule)] += 1 }
        for rule in after.firedRules { report.firedAfter[Int(rule)] += 1 }
        for rule in before.failedRules { report.failedBefore[rule] += 1 }
        for rule in after.failedRules { report.failedAfter[rule] += 1 }
        if let user = after.withLastUserID({ $0.map(DecisionDiffer.fingerprint) }) { report.users.insert(user) }
        // The same text is the same decision (the names of the rules that fired included).
        if lineBefore == lineAfter { return }
        let old = before.lastDecision()
        let new = after.lastDecision()
        // Role names are their bytes (``ExactString``): a move from `"caf\u{E9}"` to `"cafe\u{301}"` is a change.
        func roles(_ names: [String]) -> Set<ExactString> { Set(names.map(ExactString.init)) }
        let (oldRoles, newRoles) = (roles(old.roles), roles(new.roles))
        guard oldRoles != newRoles || roles(old.assign) != roles(new.assign) || roles(old.revoke) != roles(new.revoke)
        else { return }
        report.changed += 1
        let gained = newRoles.subtracting(oldRoles).sorted()
        let lost = oldRoles.subtracting(newRoles).sorted()
        for role in gained { report.roles[role, default: DiffReport.RoleChange()].gained += 1 }
        for role in lost { report.roles[role, default: DiffReport.RoleChange()].lost += 1 }
        let kind = DecisionDiffer.kind(gained: gained, lost: lost)
        report.meet(kind)
        guard report.wantsExample(of: kind) else { return }
        let bytes = Array(event)
        let why: [String]
        do {
            // The rules that decided a role that moved are shown even when they fired in both sets (an action
            // changed, `assign "sso"` to `assign "admin"`).
            let deciders = Set((gained + lost).flatMap { [old.decidedBy[$0], new.decidedBy[$0]] }.compactMap { $0 })
            why = DecisionDiffer.why(try before.explain(bytes), try after.explain(bytes), deciders: deciders)
        } catch {
            why = []  // unreachable: both evaluators have just read this event
        }
        report.keep(
            DiffReport.Example(
                line: line, userID: new.userID, kind: kind, before: old, after: new,
                why: Array(why.prefix(DecisionDiffer.maxWhyLines))))
    }

    /// The 64-bit FNV-1a hash of `bytes`.
    static func fingerprint(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        return hash
    }

    /// The kind of a change, for grouping examples: `+gained -lost` roles, or `assign/revoke` when `roles` is the
    /// same and only what is assigned or revoked differs.
    static func kind(gained: [ExactString], lost: [ExactString]) -> String {
        let parts = gained.map { "+" + $0.string } + lost.map { "-" + $0.string }
        return parts.isEmpty ? "assign/revoke" : parts.joined(separator: " ")
    }

    /// The lines of two traces that differ, for the rules whose outcome differs (fired in one set and not in the
    /// other, or an error in one; a rule only one set has counts when it fired): the header (name and outcome)
    /// of each side, then each step line only one trace has, with `- ` (old) or `+ ` (new). Rules that decided
    /// the same, however differently they are written now, are left out: they are not why the decision moved.
    static func why(_ old: Explanation, _ new: Explanation, deciders: Set<String> = []) -> [String] {
        let oldRules = Dictionary(old.rules.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let newNames = Set(new.rules.map(\.name))
        var out: [String] = []
        let order = new.rules.map(\.name) + old.rules.map(\.name).filter { !newNames.contains($0) }
        let newRules = Dictionary(new.rules.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        for name in order {
            let (oldTrace, newTrace) = (oldRules[name], newRules[name])
            let outcomeMoved =
                oldTrace?.outcome != newTrace?.outcome
                && (oldTrace?.fired == true || newTrace?.fired == true
                    || oldTrace.map({ $0.outcome.hasPrefix("error") }) == true
                    || newTrace.map({ $0.outcome.hasPrefix("error") }) == true)
            guard outcomeMoved || deciders.contains(name) else { continue }
            let before = oldTrace.map(lines) ?? []
            let after = newTrace.map(lines) ?? []
            if let oldHeader = before.first, let newHeader = after.first, oldHeader == newHeader {
                out.append("  " + oldHeader)
            } else {
                if let header = before.first { out.append("- " + header) }
                if let header = after.first { out.append("+ " + header) }
            }
            out += only(before.dropFirst(), notIn: after.dropFirst()).map { "-   " + $0 }
            out += only(after.dropFirst(), notIn: before.dropFirst()).map { "+   " + $0 }
        }
        return out
    }

    /// A rule's trace as lines: `rule "NAME": OUTCOME`, then each step and the operands it shows.
    static func lines(_ trace: Explanation.RuleTrace) -> [String] {
        // The name as the trace shows it: hidden scalars (U+202E) written out, like the values in the steps.
        var lines = ["rule \(Spelling.quoted(trace.name)): \(trace.outcome)"]
        for step in trace.steps {
            var line = "\(step.result ? "true " : "false")  \(step.source)"
            for operand in step.operands {
                line += operand.source == step.source ? " = \(operand.value)" : ", \(operand.source) = \(operand.value)"
            }
            lines.append(line)
        }
        return lines
    }

    /// The lines of `lines` not matched by a line of `other` (each line of `other` matches once), in order.
    static func only(_ lines: ArraySlice<String>, notIn other: ArraySlice<String>) -> [String] {
        var available: [String: Int] = [:]
        for line in other { available[line, default: 0] += 1 }
        return lines.filter { line in
            guard let count = available[line], count > 0 else { return true }
            available[line] = count - 1
            return false
        }
    }
}
