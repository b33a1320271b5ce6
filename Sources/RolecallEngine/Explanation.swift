import RolecallLanguage

/// One comparison (or tested field) seen while explaining an evaluation.
public struct TraceStep: Sendable, Equatable {
    /// Index of the rule being evaluated.
    public var rule: Int
    /// The source text of the comparison, e.g. `user.email matches /@acme\.com$/`.
    public var source: String
    /// The left operand's value as JSON (the field's value for a field test).
    public var left: String
    /// The right operand's value as JSON, when it is worth showing (not for constants written in the source).
    public var right: String?
    /// What the comparison came to.
    public var result: Bool
}

/// A readable account of an evaluation: for every rule, whether it fired and the value of each comparison.
public struct Explanation: Sendable {
    /// What happened to one rule.
    public struct RuleTrace: Sendable {
        /// The rule's name.
        public var name: String
        /// Where the rule is, as `file:line`.
        public var location: String
        /// `fired`, `not fired`, `error: ...` or `not evaluated (an earlier rule stopped)`.
        public var outcome: String
        /// The comparisons evaluated, in order (short-circuited ones are absent).
        public var steps: [TraceStep]
    }

    /// The decision.
    public var decision: Decision
    /// One entry per rule, in order.
    public var rules: [RuleTrace]

    /// The trace as text, one block per rule.
    public var text: String {
        var out = ""
        for rule in rules {
            out += "rule \(JSONText.quote(rule.name)) at \(rule.location): \(rule.outcome)\n"
            for step in rule.steps {
                out += "  \(step.result ? "true " : "false") \(step.source)"
                var values = "    \(step.left)"
                if let right = step.right { values += " vs \(right)" }
                out += "\n" + values + "\n"
            }
        }
        out += "decision: \(decision.json)\n"
        return out
    }
}

extension Evaluator {
    /// Evaluates one event and records every comparison, for `rules eval --explain` and failing tests.
    public func explain(_ event: [UInt8]) throws(JSONError) -> Explanation {
        trace = []
        defer { trace = nil }
        let result = event.withUnsafeBytes { bytes in
            Result { () throws(JSONError) -> Explanation in
                try run(bytes)
                let decision = makeDecision()
                var traces: [Explanation.RuleTrace] = []
                let matched = Set(matchedRules)
                let failed = Dictionary(failures.map { ($0.rule, $0.failure.message) }, uniquingKeysWith: { a, _ in a })
                let lastEvaluated = stoppedAt ?? (program.rules.count - 1)
                for (index, rule) in program.rules.enumerated() {
                    let outcome =
                        if index > lastEvaluated { "not evaluated (an earlier rule stopped)" }
                        else if let message = failed[index] { "error: \(message)" }
                        else if matched.contains(index) { rule.stops ? "fired, stop" : "fired" }
                        else { "not fired" }
                    let line = rule.file.location(of: rule.span.start).line
                    traces.append(Explanation.RuleTrace(
                        name: rule.name, location: "\(rule.file.path):\(line)", outcome: outcome,
                        steps: (trace ?? []).filter { $0.rule == index }))
                }
                return Explanation(decision: decision, rules: traces)
            }
        }
        return try result.get()
    }

    /// Records a comparison in the trace.
    func record(_ node: Node, _ left: Value, _ right: Value?, _ result: Bool) {
        let file = program.rules[currentRule].file
        trace?.append(TraceStep(
            rule: currentRule, source: file.text(node.span), left: render(left), right: right.map(render),
            result: result))
    }

    /// A value as JSON text, long containers shortened.
    func render(_ value: Value) -> String {
        switch value {
        case .null: return "null"
        case .bool(let flag): return String(flag)
        case .number(let number):
            if number == number.rounded(), abs(number) < 1e15 { return String(Int64(number)) }
            return String(number)
        case .rawString(let start, let end):
            return "\"" + String(decoding: UnsafeBufferPointer(start: base + start, count: end - start), as: UTF8.self) + "\""
        case .string(let text): return JSONText.quote(text)
        case .rawArray(let start, let end), .rawObject(let start, let end):
            let text = String(decoding: UnsafeBufferPointer(start: base + start, count: min(end - start, 160)), as: UTF8.self)
            return end - start > 160 ? text + "…" : text
        case .list(let items): return "[" + items.map(render).joined(separator: ",") + "]"
        }
    }
}
