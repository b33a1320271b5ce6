import RolecallJSON
import RolecallLanguage

/// One comparison (or tested field) seen while explaining an evaluation.
public struct TraceStep: Sendable, Equatable {
    /// Index of the rule being evaluated.
    public var rule: Int
    /// The source text of the comparison, e.g. `user.email matches /@acme\.com$/`.
    public var source: String
    /// The operands worth showing (fields and calls, not literals): their source text and value as JSON.
    public var operands: [Operand]
    /// What the comparison came to.
    public var result: Bool
    /// Where the comparison is, in its rule's file.
    public var span: Span
    /// For a false comparison that was nearly true: how (letter case, whitespace, type, a regex flag); for `any`
    /// and `all`, that no element decided.
    public var hint: String?
    /// The compiled instruction (see ``Program/ConditionAtom/instruction``): what coverage matches on, since the
    /// steps inside a `let` have spans in another file.
    public var instruction: Int

    /// An operand's source text and value.
    public struct Operand: Sendable, Equatable {
        /// As written, e.g. `user.email`.
        public var source: String
        /// Its value in this event, as compact JSON.
        public var value: String

        /// Creates an operand.
        public init(source: String, value: String) {
            self.source = source
            self.value = value
        }
    }
}

/// A readable account of an evaluation: for every rule, whether it fired and the value of each comparison.
public struct Explanation: Sendable {
    /// What happened to one rule.
    public struct RuleTrace: Sendable {
        /// The rule's name.
        public var name: String
        /// Where the rule is, as `file:line`, the path as ``FileName/visible(_:)`` shows it.
        public var location: String
        /// `fired`, `not fired`, `error: ...` or `not evaluated (an earlier rule stopped)`.
        public var outcome: String
        /// The comparisons evaluated, in order (short-circuited ones are absent).
        public var steps: [TraceStep]
        /// Whether the rule fired.
        public var fired: Bool
    }

    /// The decision.
    public var decision: Decision
    /// One entry per rule, in order.
    public var rules: [RuleTrace]

    /// The trace as text, one block per rule.
    public var text: String {
        var out = ""
        for rule in rules {
            out += "rule \(Spelling.quoted(rule.name)) at \(rule.location): \(rule.outcome)\n"
            for step in rule.steps {
                out += "  \(step.result ? "true " : "false")  \(step.source)"
                if let operand = step.operands.first, operand.source == step.source { out += " = \(operand.value)" }
                out += "\n"
                for operand in step.operands where operand.source != step.source {
                    out += "         \(operand.source) = \(operand.value)\n"
                }
                if let hint = step.hint { out += "         hint: \(hint)\n" }
            }
        }
        // The decision's JSON with its hidden scalars written out too: the trace is for a terminal.
        out += "decision: \(Spelling.visible(decision.json))\n"
        return out
    }
}

extension Evaluator {
    /// Evaluates one event and records every comparison, for `rules eval --explain` and failing tests.
    public func explain(_ event: [UInt8]) throws(JSONError) -> Explanation {
        trace = []
        state.pointee.tracing = true
        defer {
            trace = nil
            state.pointee.tracing = false
        }
        let result = event.withUnsafeBytes { bytes in
            Result { () throws(JSONError) -> Explanation in
                try run(bytes)
                let decision = makeDecision()
                var traces: [Explanation.RuleTrace] = []
                let matched = Set(matchedRules.map(Int.init))
                let failed = Dictionary(failures.map { ($0.rule, $0.failure.message) }, uniquingKeysWith: { a, _ in a })
                let lastEvaluated = stoppedAt ?? (program.rules.count - 1)
                var steps = [[TraceStep]](repeating: [], count: program.rules.count)
                for step in trace ?? [] { steps[step.rule].append(step) }
                for (index, rule) in program.rules.enumerated() {
                    let outcome =
                        if index > lastEvaluated {
                            "not evaluated (an earlier rule stopped)"
                        } else if let message = failed[index] { "error: \(message)" } else if matched.contains(index) {
                            firedOutcome(index, decision)
                        } else { "not fired" }
                    let line = rule.file.line(of: rule.span.start)
                    traces.append(
                        Explanation.RuleTrace(
                            name: rule.name, location: "\(FileName.visible(rule.file.path)):\(line)", outcome: outcome,
                            steps: steps[index], fired: matched.contains(index)))
                }
                return Explanation(decision: decision, rules: traces)
            }
        }
        return try result.get()
    }

    /// How a fired rule reads in a trace: `fired`, with `revoke all` and the roles it removed, and `stop`.
    func firedOutcome(_ rule: Int, _ decision: Decision) -> String {
        var outcome = "fired"
        if program.ruleRevokeAll[rule].start >= 0 {
            let name = program.rules[rule].name
            let removed = decision.revoke.filter { decision.rule(deciding: $0) == name }
            // Names from the event: hidden scalars written out, and a removed role that prints like a kept one
            // written as a literal.
            let shown = Spellings(removed + decision.roles)
            outcome +=
                removed.isEmpty
                ? ", revoke all (nothing to revoke)"
                : ", revoke all: " + removed.map(shown.inline).joined(separator: ", ")
        }
        return program.rules[rule].stops ? outcome + ", stop" : outcome
    }

    /// The trace's observer: called by the interpreter as each comparison, tested value and `not` of a
    /// condition completes, with the operand values it used and its result.
    func observe(_ index: Int32, _ left: Value, _ right: Value?, _ result: Bool) {
        let file = program.instructionFiles[Int(index)] ?? program.rules[currentRule].file
        let shown = program.shownOperands[Int(index)]
        var operands: [TraceStep.Operand] = []
        if let span = shown.left { operands.append(.init(source: file.text(span), value: render(left))) }
        if let span = shown.right, let right {
            operands.append(.init(source: file.text(span), value: render(right)))
        }
        var hint: String?
        if let name = program.quantifierNames[index] {
            // Which element decided: the one that made `any` true or `all` false; otherwise, none did.
            if let right {
                operands.append(.init(source: name, value: render(right)))
            } else if let items = elements(left) {
                let count = items.count
                let opcode = program.instructions[Int(index)].opcode
                hint =
                    opcode == .any
                    ? "no element of \(count) made it true"
                    : "all \(count) element\(count == 1 ? "" : "s") made it true"
            } else {
                hint = "the list is null, which makes `any` and `all` false"
            }
        }
        let span = program.instructionSpans[Int(index)]
        trace?.append(
            TraceStep(
                rule: currentRule, source: file.text(span), operands: operands, result: result, span: span,
                hint: hint ?? (result ? nil : nearMiss(index, left, right)), instruction: Int(index)))
    }

    /// A value as text, long containers shortened: a string as a rule-language literal (``Spelling/quoted(_:)``:
    /// controls and hidden scalars such as U+202E written as `\u{...}`), a list or object from the event as its
    /// JSON text with the same scalars written out (``Spelling/visible(_:)``), so that no event text reaches a
    /// terminal as itself.
    func render(_ value: Value) -> String {
        switch value {
        case .null: return "null"
        case .bool(let flag): return String(flag)
        case .number(let number): return JSONText.number(number)
        case .rawString, .string: return Spelling.quoted(string(value) ?? "")
        case .rawArray(let start, let end), .rawObject(let start, let end):
            // Compact: drop the whitespace outside strings, then shorten.
            var bytes: [UInt8] = []
            var inString = false
            var escaped = false
            for index in start..<end {
                let byte = base[index]
                if inString {
                    if escaped {
                        escaped = false
                    } else if byte == UInt8(ascii: "\\") {
                        escaped = true
                    } else if byte == UInt8(ascii: "\"") {
                        inString = false
                    }
                } else if byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 {
                    continue
                } else if byte == UInt8(ascii: "\"") {
                    inString = true
                }
                bytes.append(byte)
                if bytes.count > 200 { return Spelling.visible(String(decoding: bytes, as: UTF8.self)) + "…" }
            }
            return Spelling.visible(String(decoding: bytes, as: UTF8.self))
        case .list(let items): return "[" + items.map(render).joined(separator: ",") + "]"
        }
    }
}
