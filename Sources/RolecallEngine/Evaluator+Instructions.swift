import RolecallLanguage
import RolecallRegex

extension Evaluator {
    /// Evaluates instruction `index` (see ``Instruction``) in a boolean position.
    func truth(instruction index: Int32) throws(EvalFailure) -> Bool {
        let instruction = program.instructions[Int(index)]
        let x = Int(instruction.x)
        switch instruction.opcode {
        case .and:
            guard try truth(instruction: instruction.x) else { return false }
            return try truth(instruction: instruction.y)
        case .or:
            if try truth(instruction: instruction.x) { return true }
            return try truth(instruction: instruction.y)
        case .not:
            return !(try truth(instruction: instruction.x))
        case .fieldTruth:
            switch slots[x] {
            case .bool(let value): return value
            case .null: return false
            case let other:
                throw EvalFailure(
                    message: "condition is \(other.typeName), not a boolean", span: program.instructionSpans[Int(index)]
                )
            }
        case .equalsString:
            return stringEquals(slots[x], poolBytes(instruction.y, instruction.z))
        case .notEqualsString:
            return !stringEquals(slots[x], poolBytes(instruction.y, instruction.z))
        case .inStrings, .notInStrings:
            var found = false
            for range in instruction.y..<(instruction.y + instruction.z) {
                let (offset, length) = program.poolRanges[Int(range)]
                if stringEquals(slots[x], poolBytes(offset, length)) {
                    found = true
                    break
                }
            }
            return found == (instruction.opcode == .inStrings)
        case .stringInField:
            return try contains(
                slots[x], string: poolBytes(instruction.y, instruction.z), span: program.instructionSpans[Int(index)],
                op: "in")
        case .containsString:
            return try contains(
                slots[x], string: poolBytes(instruction.y, instruction.z), span: program.instructionSpans[Int(index)],
                op: "contains")
        case .compareNumber:
            if case .number(let value) = slots[x] {
                switch instruction.y {
                case 0: return value == instruction.number
                case 1: return value != instruction.number
                case 2: return value < instruction.number
                case 3: return value <= instruction.number
                case 4: return value > instruction.number
                default: return value >= instruction.number
                }
            }
            let op = numberOperators[Int(instruction.y)]
            return try compare(op, slots[x], .number(instruction.number), span: program.instructionSpans[Int(index)])
        case .matches:
            let regex = program.regexCodes[Int(instruction.y)].takeUnretainedValue()
            return try matches(slots[x], regex, span: program.instructionSpans[Int(index)])
        case .general:
            return try truth(program.generalNodes[x])
        }
    }

    /// Bytes `offset..<offset+length` of the program's constant pool.
    @inline(__always)
    func poolBytes(_ offset: Int32, _ length: Int32) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: program.pool.baseAddress! + Int(offset), count: Int(length))
    }
}
