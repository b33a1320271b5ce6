import RolecallLanguage
import RolecallRegex

/// The hot path's form of a rule condition: a flat table of plain-data instructions.
///
/// Conditions are compiled twice. The ``Node`` tree serves traces and the rarely used operators; this table
/// serves ordinary evaluation. Its instructions hold only integers (slots, child indices, offsets into a byte
/// pool), so evaluating them touches no reference counts. Each opcode has exactly the semantics of the
/// `Node` it was lowered from; the evaluator tests run every case both ways.
struct Instruction {
    enum Opcode: UInt8 {
        /// `x and y` (children `x`, `y`)
        case and
        /// `x or y`
        case or
        /// `not x`
        case not
        /// Slot `x` in a boolean position.
        case fieldTruth
        /// Slot `x` equals the pool bytes at `y` (length `z`); `.notEqualsString` negates.
        case equalsString, notEqualsString
        /// Slot `x` is one of `z` strings whose pool ranges start at range `y`; `.notInStrings` negates.
        case inStrings, notInStrings
        /// The pool string at `y` (length `z`) is in list slot `x`.
        case stringInField
        /// Slot `x` contains the pool string at `y` (length `z`).
        case containsString
        /// Slot `x` compared (operator index `y`) with `number`.
        case compareNumber
        /// Slot `x` matches regex `y`.
        case matches
        /// Anything else: evaluate general node `x` of ``Program/generalNodes``.
        case general
    }

    var opcode: Opcode
    var x: Int32 = 0
    var y: Int32 = 0
    var z: Int32 = 0
    var number: Double = 0
}

/// The operators `compareNumber` encodes in its `y` field.
let numberOperators: [BinaryOperator] = [.equal, .notEqual, .less, .lessEqual, .greater, .greaterEqual]

extension Program {
    /// The flat tables built from the compiled node trees.
    struct Lowered {
        var instructions: [Instruction] = []
        var spans: [Span] = []
        var pool: [UInt8] = []
        var ranges: [(offset: Int32, length: Int32)] = []
        var regexes: [CompiledRegex] = []
        var generalNodes: [Node] = []

        mutating func pooled(_ bytes: [UInt8]) -> (Int32, Int32) {
            let offset = Int32(pool.count)
            pool += bytes
            return (offset, Int32(bytes.count))
        }

        mutating func emit(_ instruction: Instruction, _ span: Span) -> Int32 {
            instructions.append(instruction)
            spans.append(span)
            return Int32(instructions.count - 1)
        }

        /// Lowers a node that stands in a boolean position and returns its instruction index.
        mutating func lower(_ node: Node) -> Int32 {
            switch node.kind {
            case .and(let left, let right), .or(let left, let right):
                let index = emit(Instruction(opcode: .general), node.span)
                let (l, r) = (lower(left), lower(right))
                let opcode: Instruction.Opcode = if case .and = node.kind { .and } else { .or }
                instructions[Int(index)] = Instruction(opcode: opcode, x: l, y: r)
                return index
            case .not(let operand):
                let index = emit(Instruction(opcode: .general), node.span)
                instructions[Int(index)] = Instruction(opcode: .not, x: lower(operand))
                return index
            case .slot(let slot):
                return emit(Instruction(opcode: .fieldTruth, x: Int32(slot)), node.span)
            case .fieldEqualsString(let slot, let bytes, let negated):
                let (offset, length) = pooled(bytes)
                return emit(
                    Instruction(
                        opcode: negated ? .notEqualsString : .equalsString, x: Int32(slot), y: offset, z: length),
                    node.span)
            case .fieldInStrings(let slot, let strings, let negated):
                let first = Int32(ranges.count)
                for string in strings {
                    let (offset, length) = pooled(string)
                    ranges.append((offset, length))
                }
                return emit(
                    Instruction(
                        opcode: negated ? .notInStrings : .inStrings, x: Int32(slot), y: first, z: Int32(strings.count)),
                    node.span)
            case .stringInField(let bytes, let slot):
                let (offset, length) = pooled(bytes)
                return emit(Instruction(opcode: .stringInField, x: Int32(slot), y: offset, z: length), node.span)
            case .fieldContainsString(let slot, let bytes):
                let (offset, length) = pooled(bytes)
                return emit(Instruction(opcode: .containsString, x: Int32(slot), y: offset, z: length), node.span)
            case .fieldCompareNumber(let op, let slot, let number):
                let code = Int32(numberOperators.firstIndex(of: op)!)
                return emit(Instruction(opcode: .compareNumber, x: Int32(slot), y: code, number: number), node.span)
            case .matches(let subject, let regex):
                guard case .slot(let slot) = subject.kind else { fallthrough }
                regexes.append(regex)
                return emit(Instruction(opcode: .matches, x: Int32(slot), y: Int32(regexes.count - 1)), node.span)
            default:
                generalNodes.append(node)
                return emit(Instruction(opcode: .general, x: Int32(generalNodes.count - 1)), node.span)
            }
        }
    }
}

/// A buffer owned by a ``Program``: allocated and filled once, freed in `deinit`.
func ownedCopy<T>(_ items: [T]) -> UnsafeMutableBufferPointer<T> {
    let buffer = UnsafeMutableBufferPointer<T>.allocate(capacity: max(1, items.count))
    _ = buffer.initialize(from: items)
    return buffer
}
