import RolecallEngine
import RolecallJSON
import RolecallLanguage

/// What a set of test cases exercised in one rule set: how often each rule fired, and whether each atomic
/// condition was seen both true and false (condition coverage, as `opa test --coverage` reports for Rego).
public struct Coverage: Sendable {
    /// One rule's coverage.
    public struct RuleCoverage: Sendable {
        /// The rule's name.
        public var name: String
        /// `file:line`.
        public var location: String
        /// How many cases fired it.
        public var fired = 0
        /// Its atomic conditions.
        public var conditions: [ConditionCoverage]
    }

    /// One atomic condition's coverage.
    public struct ConditionCoverage: Sendable {
        /// Its source text.
        public var source: String
        /// `file:line:column`.
        public var location: String
        /// How many cases evaluated it to true, and to false.
        public var trueCount = 0
        /// How many cases evaluated it to false.
        public var falseCount = 0
        let instruction: Int

        /// Seen both true and false.
        public var flipped: Bool { trueCount > 0 && falseCount > 0 }
    }

    /// Every rule, in order.
    public var rules: [RuleCoverage]
    /// How many cases ran.
    public var cases = 0

    /// Empty coverage of `program`'s rules and conditions.
    public init(program: Program) {
        rules = program.ruleNames.indices.map { index in
            RuleCoverage(
                name: program.ruleNames[index], location: program.location(ofRule: index),
                conditions: program.conditionAtoms(ofRule: index).map {
                    ConditionCoverage(source: $0.source, location: $0.location, instruction: $0.instruction)
                })
        }
    }

    /// Adds one evaluated case.
    public mutating func record(_ explanation: Explanation) {
        cases += 1
        for (index, trace) in explanation.rules.enumerated() where index < rules.count {
            if trace.fired { rules[index].fired += 1 }
            for step in trace.steps {
                guard let atom = rules[index].conditions.firstIndex(where: { $0.instruction == step.instruction })
                else {
                    continue
                }
                if step.result {
                    rules[index].conditions[atom].trueCount += 1
                } else {
                    rules[index].conditions[atom].falseCount += 1
                }
            }
        }
    }

    /// Conditions, counted.
    public var conditionCount: Int { rules.reduce(0) { $0 + $1.conditions.count } }
    /// Conditions seen both ways.
    public var flippedCount: Int { rules.reduce(0) { $0 + $1.conditions.filter(\.flipped).count } }

    /// The report people read: gaps first (rules never fired, conditions never flipped), then every rule. Rule
    /// names with their hidden scalars written out (``Spelling/quoted(_:)``), as the rest of `rules test` shows
    /// them; locations are already shown as ``FileName/visible(_:)`` shows a path (``Program/location(ofRule:)``).
    public var text: String {
        let firedRules = rules.filter { $0.fired > 0 }.count
        var out = "coverage: \(firedRules)/\(rules.count) rules fired, \(flippedCount)/\(conditionCount) conditions"
        out += " seen both true and false, over \(cases) case\(cases == 1 ? "" : "s")\n"
        let neverFired = rules.filter { $0.fired == 0 }
        if !neverFired.isEmpty {
            out += "rules never fired:\n"
            for rule in neverFired { out += "  \(rule.location)  \(Spelling.quoted(rule.name))\n" }
        }
        let unflipped = rules.flatMap(\.conditions).filter { !$0.flipped }
        if !unflipped.isEmpty {
            out += "conditions not seen both true and false:\n"
            for condition in unflipped {
                let seen =
                    condition.trueCount > 0 ? "only true" : condition.falseCount > 0 ? "only false" : "never evaluated"
                out += "  \(condition.location)  \(condition.source)  (\(seen))\n"
            }
        }
        out += "rules:\n"
        for rule in rules {
            let flipped = rule.conditions.filter(\.flipped).count
            out +=
                "  \(rule.location)  \(Spelling.quoted(rule.name))  fired in \(rule.fired) of \(cases)"
            out += rule.conditions.isEmpty ? "\n" : ", conditions \(flipped)/\(rule.conditions.count)\n"
        }
        return out
    }

    /// The same as JSON for tools.
    public var json: String {
        let items = rules.map { rule -> String in
            let conditions = rule.conditions.map {
                "{\"source\":\(JSONText.quote($0.source)),\"at\":\(JSONText.quote($0.location)),"
                    + "\"true\":\($0.trueCount),\"false\":\($0.falseCount)}"
            }
            return "{\"name\":\(JSONText.quote(rule.name)),\"at\":\(JSONText.quote(rule.location)),"
                + "\"fired\":\(rule.fired),\"conditions\":[\(conditions.joined(separator: ","))]}"
        }
        return "{\"cases\":\(cases),\"rules\":[\(items.joined(separator: ","))]}"
    }
}
