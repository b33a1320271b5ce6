import RolecallLanguage

extension Program {
    /// An atomic condition: a comparison or a tested field, the unit of condition coverage.
    public struct ConditionAtom: Sendable, Hashable {
        /// The rule it belongs to.
        public var rule: Int
        /// Where it is written (matches ``TraceStep/span``).
        public var span: Span
        /// Its source text.
        public var source: String
        /// `file:line:column`.
        public var location: String
        /// Its instruction (matches ``TraceStep/instruction``).
        public var instruction: Int
    }

    /// The rules' names, in order.
    public var ruleNames: [String] { rules.map(\.name) }

    /// Where rule `index` starts, as `file:line`.
    public func location(ofRule index: Int) -> String {
        let rule = rules[index]
        return "\(FileName.visible(rule.file.path)):\(rule.file.line(of: rule.span.start))"
    }

    /// The atomic conditions of rule `index`, in source order: the parts of its condition joined by `and`,
    /// `or` and `not`.
    public func conditionAtoms(ofRule index: Int) -> [ConditionAtom] {
        let rule = rules[index]
        var atoms: [ConditionAtom] = []
        var seen = Set<Int32>()
        func walk(_ at: Int32) {
            // A `let` used twice in one rule is one set of conditions.
            guard seen.insert(at).inserted else { return }
            let instruction = instructions[Int(at)]
            switch instruction.opcode {
            case .and, .or:
                let first = Int(instruction.x)
                for position in first..<(first + Int(instruction.y)) { walk(operands[position]) }
            case .not:
                walk(instruction.x)
            case .named:
                // A `let` counts as the conditions it stands for, where it is defined.
                walk(instruction.x)
            default:
                let span = instructionSpans[Int(at)]
                let file = instructionFiles[Int(at)] ?? rule.file
                let location = file.location(of: span.start)
                atoms.append(
                    ConditionAtom(
                        rule: index, span: span, source: file.text(span),
                        location: "\(FileName.visible(file.path)):\(location.line):\(location.column)",
                        instruction: Int(at)))
                // A quantifier counts, and so does each condition inside it.
                if instruction.opcode == .any || instruction.opcode == .all { walk(instruction.y) }
            }
        }
        if ruleRoots[index] >= 0 { walk(ruleRoots[index]) }
        return atoms
    }
}
