import RolecallLanguage
import RolecallRegex

/// A rule condition, compiled: one plain-data instruction per checked node, in one flat table.
///
/// This table is where a condition's meaning lives. Traces, hints and coverage evaluate these instructions; a
/// trace is an observer the evaluator calls as each one completes (see ``Evaluator/observe(_:_:_:_:)``).
/// Decisions run a *plan* built from this table (see ``Step``): each leaf instruction becomes a step that
/// decides the commonest operand types itself and hands every other value to the interpreter for the same
/// instruction, and the connectives become the steps' branch targets. So semantics and error messages are
/// written once, here; `PlanTests` holds every specialised step to the interpreter on values of every type.
/// Instructions hold only integers (slots, instruction indices, offsets into a byte pool), so evaluating them
/// touches no reference counts.
///
/// An instruction either *tests* (its result is a boolean: the connectives and the comparisons) or *computes*
/// a value (constants, fields, lists, calls, negation). The evaluator can ask either kind for either form: a
/// computed value in a boolean position must be a boolean or `null`; a test in a value position is a boolean.
struct Instruction {
    enum Opcode: UInt8 {
        /// `a and b and ...`: operands `operands[x..<x+y]`, left to right, stopping at the first false.
        case and
        /// `a or b or ...`: operands `operands[x..<x+y]`, left to right, stopping at the first true.
        case or
        /// `not x`.
        case not
        /// Specialisations of `compare` for the commonest shapes, on slot `x`. Each handles only the operand
        /// types it is fast for and hands any other to ``Evaluator/compare(_:_:_:at:)``, so the semantics and the
        /// error messages of an operator live in one place.
        /// `==`/`!=` the pool string at `y` (length `z`).
        case equalsString, notEqualsString
        /// `in`/`not in` a list of `z` pool strings whose ranges start at range `y`.
        case inStrings, notInStrings
        /// The pool string at `y` (length `z`) `in` slot `x`.
        case stringInField
        /// Slot `x` `contains` the pool string at `y` (length `z`).
        case containsString
        /// Slot `x` compared (operator index `y` of ``numberOperators``) with `number`.
        case compareNumber
        /// Slot `x` `matches` regex `y`. When the regex is a set of literals (``CompiledRegex/literal``), `w`
        /// describes it (``Instruction/literalCount``, ...) and its literals are the pool ranges from `z`; `w` is 0
        /// otherwise.
        case fieldMatches
        /// Any comparison: value instruction `x` (operator index `z` of ``BinaryOperator/allCases``) value
        /// instruction `y`.
        case compare
        /// Value instruction `x` `matches` regex `y`.
        case matches
        /// The constant `constants[x]`.
        case constant
        /// Slot `x`: a field of the event.
        case slot
        /// A list of the values of `operands[x..<x+y]`.
        case list
        /// Function `y` (index in ``Function/allCases``) of value instruction `x`.
        case call
        /// `-x`.
        case negate
        /// `any(list, name, body)`: value instruction `x` is the list, `y` the body, the element is bound to
        /// local `z`.
        case any
        /// `all(list, name, body)`, as `any`.
        case all
        /// Local `x` (an element bound by a quantifier), then the path of `z` segments starting at
        /// ``Program/localSegments`` index `y`.
        case local
        /// A `let` name: instruction `x` is its expansion (shared by every use), `y` the name in
        /// ``Program/bindingNames``, `z` the let's number, under which an evaluation remembers its value.
        case named
    }

    var opcode: Opcode
    var x: Int32 = 0
    var y: Int32 = 0
    var z: Int32 = 0
    /// A fourth operand, for the instructions that document one.
    var w: Int32 = 0
    var number: Double = 0

    /// `fieldMatches`: how many literals the regex is (0: none, match with PCRE2).
    var literalCount: Int { Int(w & 0xFFFF) }
    /// `fieldMatches`: the literals must start the subject (`^`).
    var literalsAtStart: Bool { w & (1 << 16) != 0 }
    /// `fieldMatches`: the literals must end the subject, or precede its final newline (`$`).
    var literalsAtEnd: Bool { w & (1 << 17) != 0 }
    /// `fieldMatches`: ASCII letters match either case; the literals are lower-case.
    var literalsCaseless: Bool { w & (1 << 18) != 0 }
}

/// The operators `compareNumber` encodes in its `y` field.
let numberOperators: [BinaryOperator] = [.equal, .notEqual, .less, .lessEqual, .greater, .greaterEqual]

extension Program {
    /// The instruction table while compiling.
    struct Lowered {
        var instructions: [Instruction] = []
        var spans: [Span] = []
        /// Per instruction: the file its span is in, when it is not its rule's (the expansion of a `let`).
        var files: [SourceFile?] = []
        /// The file of the `let` being lowered, if any.
        var bindingFile: SourceFile?
        /// The instruction of each `let` already lowered, and its dense number (for the evaluator's memo): every
        /// use of a name shares one expansion.
        var bindings: [String: (expansion: Int32, id: Int32)] = [:]
        var bindingNames: [String] = []
        /// Path segments below locals: a key is a pool range; an index is `(index, -1)`.
        var localSegments: [(offset: Int32, length: Int32)] = []
        /// How many locals the deepest nesting of quantifiers needs.
        var localCount = 0
        /// The name each quantifier binds, by instruction, for traces.
        var quantifierNames: [Int32: String] = [:]
        /// Per local: the field node its elements are read with, when its list is a field of the event.
        var localNodes: [Int?] = []
        var shown: [(left: Span?, right: Span?)] = []
        var operands: [Int32] = []
        var pool: [UInt8] = []
        var ranges: [(offset: Int32, length: Int32)] = []
        var constants: [Value] = []
        var regexes: [CompiledRegex] = []

        mutating func pooled(_ text: String) -> (Int32, Int32) {
            let offset = Int32(pool.count)
            pool += text.utf8
            return (offset, Int32(text.utf8.count))
        }

        mutating func emit(_ instruction: Instruction, _ span: Span, shown: (Span?, Span?) = (nil, nil)) -> Int32 {
            instructions.append(instruction)
            spans.append(span)
            files.append(bindingFile)
            self.shown.append(shown)
            return Int32(instructions.count - 1)
        }

        /// Emits the instructions of each expression, then their operand list; returns where the list starts.
        mutating func lowerAll(_ items: [CheckedExpr], _ builder: inout Builder) -> Int32 {
            let indices = items.map { lower($0, &builder) }
            operands += indices
            return Int32(operands.count - indices.count)
        }

        /// Lowers a checked expression and returns the index of its instruction.
        mutating func lower(_ expr: CheckedExpr, _ builder: inout Builder) -> Int32 {
            // The operands a trace shows: fields and computed values, not written-out constants.
            func shown(_ operand: CheckedExpr) -> Span? {
                if case .constant = operand.kind { return nil }
                return operand.span
            }
            switch expr.kind {
            case .and(let items), .or(let items):
                let first = lowerAll(items, &builder)
                let opcode: Instruction.Opcode = if case .and = expr.kind { .and } else { .or }
                return emit(Instruction(opcode: opcode, x: first, y: Int32(items.count)), expr.span)
            case .not(let operand):
                return emit(Instruction(opcode: .not, x: lower(operand, &builder)), expr.span)
            case .constant(let constant):
                constants.append(Value(constant))
                return emit(Instruction(opcode: .constant, x: Int32(constants.count - 1)), expr.span)
            case .path(let path):
                return emit(
                    Instruction(opcode: .slot, x: Int32(builder.slot(for: path))), expr.span, shown: (expr.span, nil))
            case .list(let items):
                let first = lowerAll(items, &builder)
                return emit(Instruction(opcode: .list, x: first, y: Int32(items.count)), expr.span)
            case .call(let function, let argument):
                let index = Int32(Function.allCases.firstIndex(of: function)!)
                return emit(
                    Instruction(opcode: .call, x: lower(argument, &builder), y: index), expr.span,
                    shown: (expr.span, nil))
            case .negate(let operand):
                return emit(
                    Instruction(opcode: .negate, x: lower(operand, &builder)), expr.span, shown: (expr.span, nil))
            case .matches(let subject, let regex):
                regexes.append(regex)
                let regexIndex = Int32(regexes.count - 1)
                if case .path(let path) = subject.kind {
                    var instruction = Instruction(
                        opcode: .fieldMatches, x: Int32(builder.slot(for: path)), y: regexIndex)
                    if let literal = regex.literal { describe(literal, in: &instruction) }
                    return emit(instruction, expr.span, shown: (subject.span, nil))
                }
                return emit(
                    Instruction(opcode: .matches, x: lower(subject, &builder), y: regexIndex), expr.span,
                    shown: (shown(subject), nil))
            case .quantifier(let quantifier, let list, let variable, let name, let body):
                localCount = max(localCount, variable + 1)
                // A list in the event is not read whole: the reader checks each element through the node of its
                // elements, for the fields the condition reads (DESIGN.md: one event has one meaning), so a
                // quantifier costs what reading those fields costs, not a validation of the whole list.
                let listIndex: Int32
                var elementNode: Int?
                switch list.kind {
                case .path(let path):
                    let node = builder.node(for: path)
                    elementNode = builder.every(of: node)
                    listIndex = emit(
                        Instruction(opcode: .slot, x: Int32(builder.slot(at: node, whole: false))), list.span,
                        shown: (list.span, nil))
                case .local(let outer, _, let segments) where localNodes.indices.contains(outer):
                    if let base = localNodes[outer] {
                        elementNode = builder.every(of: builder.node(for: segments, from: base))
                    }
                    listIndex = emitLocal(outer, segments, list.span)
                default:
                    listIndex = lower(list, &builder)
                }
                while localNodes.count <= variable { localNodes.append(nil) }
                let outerNode = localNodes[variable]
                localNodes[variable] = elementNode
                let bodyIndex = lower(body, &builder)
                localNodes[variable] = outerNode
                let index = emit(
                    Instruction(
                        opcode: quantifier == .any ? .any : .all, x: listIndex, y: bodyIndex, z: Int32(variable)),
                    expr.span, shown: (shown(list), nil))
                quantifierNames[index] = name
                return index
            case .local(let variable, _, let segments):
                // A bound element, or a field below it, used as a value is read whole.
                if localNodes.indices.contains(variable), let base = localNodes[variable] {
                    builder.markWhole(builder.node(for: segments, from: base))
                }
                return emitLocal(variable, segments, expr.span)
            case .named(let name, let inner, let file):
                let lowered: (expansion: Int32, id: Int32)
                if let known = bindings[name] {
                    lowered = known
                } else {
                    let outer = bindingFile
                    bindingFile = file
                    lowered = (lower(inner, &builder), Int32(bindings.count))
                    bindingFile = outer
                    bindings[name] = lowered
                }
                bindingNames.append(name)
                return emit(
                    Instruction(
                        opcode: .named, x: lowered.expansion, y: Int32(bindingNames.count - 1), z: lowered.id),
                    expr.span, shown: (expr.span, nil))
            case .compare(let op, let left, let right):
                if let special = specialised(op, left, right, &builder) {
                    return emit(special, expr.span, shown: (shown(left), shown(right)))
                }
                let opIndex = Int32(BinaryOperator.allCases.firstIndex(of: op)!)
                let (l, r) = (lower(left, &builder), lower(right, &builder))
                return emit(
                    Instruction(opcode: .compare, x: l, y: r, z: opIndex), expr.span, shown: (shown(left), shown(right))
                )
            }
        }

        /// Puts the literals of a regex that is a set of them in the pool, for `fieldMatches` to match without PCRE2.
        mutating func describe(_ literal: LiteralPattern, in instruction: inout Instruction) {
            instruction.z = Int32(ranges.count)
            for bytes in literal.literals {
                ranges.append((Int32(pool.count), Int32(bytes.count)))
                pool += bytes
            }
            instruction.w =
                Int32(literal.literals.count) | (literal.anchoredAtStart ? 1 << 16 : 0)
                | (literal.anchoredAtEnd ? 1 << 17 : 0) | (literal.caseless ? 1 << 18 : 0)
        }

        /// Emits a read of local `variable` and the path `segments` below it.
        mutating func emitLocal(_ variable: Int, _ segments: [PathSegment], _ span: Span) -> Int32 {
            let first = Int32(localSegments.count)
            for segment in segments {
                switch segment {
                case .key(let name, _): localSegments.append(pooled(name))
                case .index(let index, _): localSegments.append((Int32(clamping: index), -1))
                }
            }
            return emit(
                Instruction(opcode: .local, x: Int32(variable), y: first, z: Int32(segments.count)), span,
                shown: (span, nil))
        }

        /// The byte-comparing instruction for the commonest comparisons: a field against a string, a string list
        /// or a number, and a string constant looked up in a list field. Nil for any other shape.
        mutating func specialised(
            _ op: BinaryOperator, _ left: CheckedExpr, _ right: CheckedExpr, _ builder: inout Builder
        ) -> Instruction? {
            switch (op, left.kind, right.kind) {
            case (.equal, .path(let path), .constant(.string(let text))),
                (.notEqual, .path(let path), .constant(.string(let text))):
                let (offset, length) = pooled(text)
                return Instruction(
                    opcode: op == .equal ? .equalsString : .notEqualsString, x: Int32(builder.slot(for: path)),
                    y: offset, z: length)
            case (.in, .path(let path), .constant(.list(let items))),
                (.notIn, .path(let path), .constant(.list(let items))):
                let strings = items.compactMap { item -> String? in
                    if case .string(let text) = item { return text }
                    return nil
                }
                guard strings.count == items.count else { return nil }
                let first = Int32(ranges.count)
                for string in strings { ranges.append(pooled(string)) }
                return Instruction(
                    opcode: op == .in ? .inStrings : .notInStrings, x: Int32(builder.slot(for: path)), y: first,
                    z: Int32(strings.count))
            case (.in, .constant(.string(let text)), .path(let path)):
                let (offset, length) = pooled(text)
                return Instruction(opcode: .stringInField, x: Int32(builder.slot(for: path)), y: offset, z: length)
            case (.contains, .path(let path), .constant(.string(let text))):
                let (offset, length) = pooled(text)
                return Instruction(opcode: .containsString, x: Int32(builder.slot(for: path)), y: offset, z: length)
            case (_, .path(let path), .constant(.number(let number))):
                guard let code = numberOperators.firstIndex(of: op) else { return nil }
                return Instruction(
                    opcode: .compareNumber, x: Int32(builder.slot(for: path)), y: Int32(code), number: number)
            default:
                return nil
            }
        }
    }
}

/// A buffer owned by a ``Program``: allocated and filled once, freed in `deinit`. Its `count` is exactly
/// `items.count` (an empty rule set has empty tables); at least one element is allocated so the base address
/// always exists.
func ownedCopy<T>(_ items: [T]) -> UnsafeMutableBufferPointer<T> {
    let buffer = UnsafeMutableBufferPointer<T>.allocate(capacity: max(1, items.count))
    _ = buffer.initialize(from: items)
    return UnsafeMutableBufferPointer(start: buffer.baseAddress, count: items.count)
}
