import RolecallLanguage
import RolecallRegex

/// Near-miss hints for traces: a comparison that came out false but would have been true with a small change
/// to the data or the rule is the most common authoring mistake, so the trace says which change.
extension Evaluator {
    /// A hint for the false comparison at instruction `index` with operand values `left` and `right`, or nil.
    func nearMiss(_ index: Int32, _ left: Value, _ right: Value?) -> String? {
        let instruction = program.instructions[Int(index)]
        let op: BinaryOperator? =
            switch instruction.opcode {
            case .compare: BinaryOperator.allCases[Int(instruction.z)]
            case .compareNumber: numberOperators[Int(instruction.y)]
            case .equalsString: .equal
            case .inStrings, .stringInField: .in
            case .containsString: .contains
            default: nil
            }
        switch (instruction.opcode, op) {
        case (.fieldMatches, _), (.matches, _):
            let regex = program.regexCodes[Int(instruction.y)].takeUnretainedValue()
            guard !regex.flags.contains(.caseInsensitive), let subject = string(left),
                let folded = try? CompiledRegex(regex.pattern, flags: regex.flags.union(.caseInsensitive)),
                (try? folded.matches(subject, scratch: scratch)) == true
            else { return nil }
            return "would match with the `i` flag (ignoring letter case)"
        case (.inStrings, _):
            let strings = (instruction.y..<(instruction.y + instruction.z)).map { range in
                let (offset, length) = program.poolRanges[Int(range)]
                return poolString(offset, length)
            }
            return nearlyIn(left, strings)
        case (_, .equal?):
            return right.flatMap { nearlyEqual(left, $0) }
        case (_, .in?):
            return right.flatMap(elements).flatMap { nearlyIn(left, $0) }
        case (_, .contains?):
            guard let right else { return nil }
            if let items = elements(left) { return nearlyIn(right, items) }
            return foldedCase(left, right) { $0.contains($1) } ? "would be true ignoring letter case" : nil
        case (_, .startsWith?):
            guard let right else { return nil }
            return foldedCase(left, right) { $0.hasPrefix($1) } ? "would be true ignoring letter case" : nil
        case (_, .endsWith?):
            guard let right else { return nil }
            return foldedCase(left, right) { $0.hasSuffix($1) } ? "would be true ignoring letter case" : nil
        default:
            return nil
        }
    }

    /// How two unequal values nearly are equal: by letter case, surrounding whitespace, or type.
    func nearlyEqual(_ a: Value, _ b: Value) -> String? {
        if let x = string(a), let y = string(b) {
            if x.lowercased() == y.lowercased() { return "\(render(a)) and \(render(b)) differ only by letter case" }
            if Evaluator.trimmed(x) == Evaluator.trimmed(y) {
                return "\(render(a)) and \(render(b)) differ only by surrounding whitespace"
            }
            return nil
        }
        for (text, other) in [(a, b), (b, a)] {
            if let x = string(text), case .number(let number) = other, Double(Evaluator.trimmed(x)) == number {
                return "\(render(text)) is a string and \(render(other)) a number: they differ only by type"
            }
        }
        return nil
    }

    /// A hint when `value` is nearly one of `items`.
    func nearlyIn(_ value: Value, _ items: [Value]) -> String? {
        for item in items { if let hint = nearlyEqual(value, item) { return hint } }
        return nil
    }

    func foldedCase(_ a: Value, _ b: Value, _ test: (String, String) -> Bool) -> Bool {
        guard let x = string(a), let y = string(b) else { return false }
        return test(x.lowercased(), y.lowercased())
    }

    static func trimmed(_ text: String) -> Substring {
        let isSpace: (Character) -> Bool = { $0.isWhitespace }
        guard let first = text.firstIndex(where: { !isSpace($0) }), let last = text.lastIndex(where: { !isSpace($0) })
        else { return "" }
        return text[first...last]
    }
}
