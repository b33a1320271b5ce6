import RolecallJSON
import RolecallLanguage
import RolecallRegex

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Whether the interpreter reports to the trace's observer (see ``Evaluator/truth(_:_:)``).
protocol ObservationMode {
    static var observes: Bool { get }
}

/// Decisions: no observer.
enum Unobserved: ObservationMode {
    static var observes: Bool { false }
}

/// Traces: every comparison is observed.
enum Observed: ObservationMode {
    static var observes: Bool { true }
}

/// The string elements of one event list (byte offsets and lengths), read once per run of the rules by
/// ``Evaluator/rememberedListContainsString(start:end:_:)``. Valid while ``validGeneration`` equals
/// ``generation``, which each run of the rules advances: the slots, and so the list, do not change within a run.
struct ListMemo {
    var generation: UInt64 = 1
    var validGeneration: UInt64 = 0
    /// The list's first byte in the event.
    var start = -1
    /// How many elements ``items`` holds; -1 when the list is not plain strings.
    var count = -1
    var items = UnsafeMutablePointer<(start: Int32, length: Int32)>.allocate(capacity: 16)
    var capacity = 16
}

/// The interpreter: the one place where a condition's instructions (see ``Instruction``) are evaluated. Traces
/// run it observed; decisions run plans (see ``Step``), which call it for every value a step does not decide
/// itself, so it is the definition the plans' fast paths are tested against.
extension Evaluator {
    /// Evaluates instruction `index` in a boolean position: `null` is false, any other non-boolean is an error.
    ///
    /// Under ``Observed``, every comparison, tested value and `not` reports its operands and result to
    /// ``observe(_:_:_:_:)`` as it completes. The interpreter is generic over the mode, so decisions run a copy
    /// compiled with every observer call removed and traces a copy with them in, from this one source.
    func truth<Mode: ObservationMode>(_ index: Int32, _ mode: Mode.Type) throws(EvaluationError) -> Bool {
        let instruction = program.instructions[Int(index)]
        let x = Int(instruction.x)
        switch instruction.opcode {
        case .and:
            for position in x..<(x + Int(instruction.y)) where !(try operandTruth(program.operands[position], mode)) {
                return false
            }
            return true
        case .or:
            for position in x..<(x + Int(instruction.y)) where try operandTruth(program.operands[position], mode) {
                return true
            }
            return false
        default:
            return try leafTruth(index, instruction, mode)
        }
    }

    /// An operand of `and`/`or`: a nested `and`/`or` recurses, any other instruction is evaluated here, inlined,
    /// without a call per operand.
    @inline(__always)
    func operandTruth<Mode: ObservationMode>(_ index: Int32, _ mode: Mode.Type) throws(EvaluationError) -> Bool {
        let instruction = program.instructions[Int(index)]
        if instruction.opcode == .and || instruction.opcode == .or { return try truth(index, mode) }
        return try leafTruth(index, instruction, mode)
    }

    /// ``truth(_:_:)`` of an instruction other than `and`/`or`.
    @inline(__always)
    func leafTruth<Mode: ObservationMode>(_ index: Int32, _ instruction: Instruction, _ mode: Mode.Type)
        throws(EvaluationError) -> Bool
    {
        let x = Int(instruction.x)
        let result: Bool
        switch instruction.opcode {
        case .and, .or:
            return try truth(index, mode)
        case .not:
            result = !(try truth(instruction.x, mode))
            if Mode.observes { observe(index, .bool(!result), nil, result) }
            return result
        case .equalsString, .notEqualsString:
            let subject = slots[x]
            // `stringEquals` is false for a non-string: deep equality of anything else with a string.
            result =
                stringEquals(subject, poolBytes(instruction.y, instruction.z)) == (instruction.opcode == .equalsString)
            if Mode.observes { observe(index, subject, poolString(instruction.y, instruction.z), result) }
            return result
        case .inStrings, .notInStrings:
            let subject = slots[x]
            var found = false
            if case .rawString(let start, let end) = subject {
                // Lengths first: most candidates differ in length, and equal lengths compare in a few loads.
                let count = end - start
                for range in instruction.y..<(instruction.y + instruction.z) {
                    let (offset, length) = program.poolRanges[Int(range)]
                    if Int(length) == count,
                        count == 0
                            || LiteralPattern.bytesEqual(base + start, program.pool.baseAddress! + Int(offset), count)
                    {
                        found = true
                        break
                    }
                }
            } else if subject.isString {
                for range in instruction.y..<(instruction.y + instruction.z) {
                    let (offset, length) = program.poolRanges[Int(range)]
                    if stringEquals(subject, poolBytes(offset, length)) {
                        found = true
                        break
                    }
                }
            }
            result = found == (instruction.opcode == .inStrings)
            if Mode.observes { observe(index, subject, nil, result) }
            return result
        case .stringInField:
            let list = slots[x]
            try startWalk(Evaluator.weight(of: list), at: index)
            switch list {
            case .rawArray(let start, let end):
                result =
                    rememberedListContainsString(start: start, end: end, poolBytes(instruction.y, instruction.z))
                    ?? listContainsString(list, poolBytes(instruction.y, instruction.z))
            case .list, .null:
                result = listContainsString(list, poolBytes(instruction.y, instruction.z))
            default:
                result = try stringIn(list, instruction, at: index)
            }
            try spend(Evaluator.weight(of: list), at: index)
            if Mode.observes { observe(index, poolString(instruction.y, instruction.z), list, result) }
            return result
        case .slot:
            // A field tested for truth (`user.email_verified`) is common: read its slot without a call.
            switch slots[x] {
            case .bool(let flag): result = flag
            case .null: result = false
            default: return try rareTruth(index, instruction, mode)
            }
            if Mode.observes { observe(index, slots[x], nil, result) }
            return result
        case .compareNumber:
            let subject = slots[x]
            if case .number(let value) = subject {
                switch instruction.y {
                case 0: result = value == instruction.number
                case 1: result = value != instruction.number
                case 2: result = value < instruction.number
                case 3: result = value <= instruction.number
                case 4: result = value > instruction.number
                default: result = value >= instruction.number
                }
            } else {
                let op = numberOperators[Int(instruction.y)]
                result = try compare(op, subject, .number(instruction.number), at: index)
            }
            if Mode.observes { observe(index, subject, .number(instruction.number), result) }
            return result
        case .fieldMatches:
            let subject = slots[x]
            if instruction.literalCount > 0, subject.isString, scratch.allowsLiteralMatching {
                // A regex that is a set of literals, decided as PCRE2 would (``LiteralPattern``), at the same cost
                // to the budget.
                try spend(8, at: index)
                result = withBytes(subject) { literalsMatch($0, instruction) } ?? false
            } else {
                result = try matches(subject, regex: instruction.y, at: index)
            }
            if Mode.observes { observe(index, subject, nil, result) }
            return result
        default:
            return try rareTruth(index, instruction, mode)
        }
    }

    /// ``truth(_:_:)`` for the instructions rules use less often, out of line, so the hot cases' frame stays small.
    @inline(never)
    func rareTruth<Mode: ObservationMode>(_ index: Int32, _ instruction: Instruction, _ mode: Mode.Type)
        throws(EvaluationError) -> Bool
    {
        let x = Int(instruction.x)
        let result: Bool
        switch instruction.opcode {
        case .and, .or, .not, .equalsString, .notEqualsString, .inStrings, .notInStrings, .stringInField,
            .compareNumber, .fieldMatches:
            preconditionFailure("evaluated by truth(_:_:)")
        case .containsString:
            let subject = slots[x]
            try startWalk(Evaluator.weight(of: subject), at: index)
            switch subject {
            case .null: result = false
            case .rawString, .string:
                result = withBytes(subject) { Evaluator.find(poolBytes(instruction.y, instruction.z), in: $0) } ?? false
            case .rawArray, .list: result = listContainsString(subject, poolBytes(instruction.y, instruction.z))
            default: result = try compare(.contains, subject, poolString(instruction.y, instruction.z), at: index)
            }
            try spend(Evaluator.weight(of: subject), at: index)
            if Mode.observes { observe(index, subject, poolString(instruction.y, instruction.z), result) }
            return result
        case .matches:
            let subject = try value(instruction.x, mode)
            result = try matches(subject, regex: instruction.y, at: index)
            if Mode.observes { observe(index, subject, nil, result) }
            return result
        case .compare:
            let (left, right) = (try value(instruction.x, mode), try value(instruction.y, mode))
            // Deep equality and `in` walk whole lists and objects: they weigh what they may walk.
            let weight = Evaluator.weight(of: left) + Evaluator.weight(of: right)
            try startWalk(weight, at: index)
            result = try compare(BinaryOperator.allCases[Int(instruction.z)], left, right, at: index)
            try spend(weight, at: index)
            if Mode.observes { observe(index, left, right, result) }
            return result
        case .any, .all:
            let list = try value(instruction.x, mode)
            let isAny = instruction.opcode == .any
            var decidingElement: Value?
            switch list {
            case .null:
                result = false
            case .rawArray, .list:
                // The first element that decides: one that holds for `any`, one that does not for `all`.
                // A `let` that quantifies may run inside another quantifier at the same depth: the outer
                // element is put back afterwards.
                let local = Int(instruction.z)
                let outer = locals[local]
                defer { locals[local] = outer }
                // Whether `item` decides: makes `any` true or `all` false.
                func decides(_ item: Value) throws(EvaluationError) -> Bool {
                    try spend(1, at: index)
                    locals[local] = item
                    guard try truth(instruction.y, mode) == isAny else { return false }
                    decidingElement = item
                    return true
                }
                if case .rawArray(let start, let end) = list {
                    // The event's own list, element by element, without building an array.
                    var scanner = eventScanner(from: start + 1, to: end)
                    var more = (try? scanner.peekToken("]")) != UInt8(ascii: "]")
                    while more {
                        guard (try? scanner.peekToken("a value")) != nil,
                            let item = try? scalarOrRaw(&scanner, depth: 1)
                        else {
                            // Unreachable: the reader checked every element. Never a silent partial iteration.
                            throw failure(
                                .typeMismatch, "an element of the list is not a valid value", [list], at: index)
                        }
                        if try decides(item) { break }
                        more = (try? scanner.endOfMember(close: UInt8(ascii: "]"))) == false
                    }
                } else {
                    for item in elements(list) ?? [] where try decides(item) { break }
                }
                result = isAny == (decidingElement != nil)
            default:
                throw failure(
                    .typeMismatch, "`\(isAny ? "any" : "all")` takes a list, not \(list.typeName)", [list], at: index)
            }
            if Mode.observes { observe(index, list, decidingElement, result) }
            return result
        case .named:
            let id = Int(instruction.z)
            switch bindingMemo[id] {
            case 1, 2: result = bindingMemo[id] == 2
            case 3:
                switch bindingValues[id] {
                case .bool(let flag): result = flag
                case .null: result = false
                default: result = try truth(instruction.x, mode)  // the error of a non-boolean, as first time
                }
            default:
                do throws(EvaluationError) {
                    result = try truth(instruction.x, mode)
                } catch {
                    throw inBinding(error, at: index)
                }
                bindingMemo[id] = result ? 2 : 1
            }
            if Mode.observes { observe(index, .bool(result), nil, result) }
            return result
        case .slot, .constant, .list, .call, .negate, .local:
            let computed = try value(index, mode)
            switch computed {
            case .bool(let flag): result = flag
            case .null: result = false
            default:
                throw failure(.notBoolean, "condition is \(computed.typeName), not a boolean", [computed], at: index)
            }
            if Mode.observes { observe(index, computed, nil, result) }
            return result
        }
    }

    /// Whether `subject` matches one of the literals of `fieldMatches` instruction `instruction`.
    @inline(__always)
    func literalsMatch(_ subject: UnsafeRawBufferPointer, _ instruction: Instruction) -> Bool {
        let (atStart, atEnd, caseless) =
            (instruction.literalsAtStart, instruction.literalsAtEnd, instruction.literalsCaseless)
        for range in Int(instruction.z)..<(Int(instruction.z) + instruction.literalCount) {
            let (offset, length) = program.poolRanges[range]
            if LiteralPattern.matches(
                subject, poolBytes(offset, length), anchoredAtStart: atStart, anchoredAtEnd: atEnd, caseless: caseless)
            {
                return true
            }
        }
        return false
    }

    /// `subject matches` regex number `regex`, borrowing the program's reference to it (no retain per match).
    func matches(_ subject: Value, regex: Int32, at index: Int32) throws(EvaluationError) -> Bool {
        let outcome = program.regexCodes[Int(regex)]._withUnsafeGuaranteedRef { regex in
            Result { () throws(EvaluationError) in try matches(subject, regex, at: index) }
        }
        return try outcome.get()
    }

    /// `"text" in list` for a list field that is neither a list nor null: the error, from the one definition.
    @inline(never)
    func stringIn(_ list: Value, _ instruction: Instruction, at index: Int32) throws(EvaluationError) -> Bool {
        try compare(.in, poolString(instruction.y, instruction.z), list, at: index)
    }

    /// Evaluates instruction `index` in a value position.
    func value<Mode: ObservationMode>(_ index: Int32, _ mode: Mode.Type) throws(EvaluationError) -> Value {
        let instruction = program.instructions[Int(index)]
        let x = Int(instruction.x)
        switch instruction.opcode {
        case .constant: return program.constants[x]
        case .slot: return slots[x]
        case .list:
            var values: [Value] = []
            values.reserveCapacity(Int(instruction.y))
            for position in x..<(x + Int(instruction.y)) { values.append(try value(program.operands[position], mode)) }
            return .list(values)
        case .call:
            return try call(Function.allCases[Int(instruction.y)], try value(instruction.x, mode), at: index)
        case .local:
            return member(of: locals[x], segments: Int(instruction.y), count: Int(instruction.z))
        case .named:
            let id = Int(instruction.z)
            if bindingMemo[id] == 3 { return bindingValues[id] }
            do throws(EvaluationError) {
                let computed = try value(instruction.x, mode)
                bindingMemo[id] = 3
                bindingValues[id] = computed
                return computed
            } catch {
                throw inBinding(error, at: index)
            }
        case .negate:
            switch try value(instruction.x, mode) {
            case .number(let number): return .number(-number)
            case .null: return .null
            case let other: throw failure(.typeMismatch, "cannot negate \(other.typeName)", [other], at: index)
            }
        default:
            return .bool(try truth(index, mode))
        }
    }

    /// The work of walking `value`, for the budget: a unit per 64 bytes of an event list or object, a unit per
    /// element of a built list, none for a scalar.
    @inline(__always)
    static func weight(of value: Value) -> Int {
        switch value {
        case .rawArray(let start, let end), .rawObject(let start, let end): (end - start) >> 6
        case .list(let items): items.count
        default: 0
        }
    }

    /// `lower`, `upper`, `length` and `days_since`; `null` gives `null`.
    func call(_ function: Function, _ argument: Value, at index: Int32) throws(EvaluationError) -> Value {
        if case .null = argument { return .null }
        switch function {
        case .lower, .upper:
            guard let text = string(argument) else {
                throw failure(
                    .typeMismatch, "`\(function.rawValue)` takes a string, not \(argument.typeName)", [argument],
                    at: index)
            }
            return .string(function == .lower ? text.lowercased() : text.uppercased())
        case .daysSince:
            guard let seconds = withBytes(argument, { Timestamp.seconds($0) }) else {
                throw failure(
                    .typeMismatch, "`days_since` takes an RFC 3339 timestamp string, not \(argument.typeName)",
                    [argument], at: index)
            }
            guard let seconds else {
                throw failure(
                    .notTimestamp, "`days_since` takes an RFC 3339 timestamp, not \(render(argument))", [argument],
                    at: index)
            }
            return .number((clock() - seconds) / 86_400)
        case .length:
            switch argument {
            case .rawString(let start, let end):
                var scalars = 0
                for offset in start..<end where base[offset] & 0xC0 != 0x80 { scalars += 1 }
                return .number(Double(scalars))
            case .string(let text): return .number(Double(text.unicodeScalars.count))
            case .rawArray, .list: return .number(Double(elements(argument)?.count ?? 0))
            case .rawObject: return .number(Double(members(argument)?.count ?? 0))
            default:
                throw failure(
                    .typeMismatch, "`length` takes a string, a list or an object, not \(argument.typeName)", [argument],
                    at: index)
            }
        }
    }

    /// The value at `count` path segments (from ``Program/localSegments`` index `first`) below `value`: `null`
    /// where a step is missing or `value` has no fields, as for event paths. The reader has checked every list it
    /// read as a whole for repeated keys, so the first match is the only one.
    func member(of value: Value, segments first: Int, count: Int) -> Value {
        var current = value
        for position in first..<(first + count) {
            let segment = program.localSegments[position]
            if segment.length < 0 {
                guard let items = elements(current), Int(segment.offset) < items.count else { return .null }
                current = items[Int(segment.offset)]
                continue
            }
            guard case .rawObject(let start, let end) = current else { return .null }
            current = field(poolBytes(segment.offset, segment.length), inObjectAt: start, end: end) ?? .null
        }
        return current
    }

    /// The value of the member named `key` of the event object at bytes `start..<end`, or nil.
    func field(_ key: UnsafeRawBufferPointer, inObjectAt start: Int, end: Int) -> Value? {
        var scanner = eventScanner(from: start + 1, to: end)
        do throws(JSONError) {
            if try scanner.peekToken("}") == UInt8(ascii: "}") { return nil }
            while true {
                let name = try scanner.skipKeyAndColon()
                let matches: Bool
                if name.escaped {
                    matches = Array(scanner.decodeString(start: name.start, end: name.end).utf8).elementsEqual(key)
                } else {
                    matches =
                        name.end - name.start == key.count
                        && (key.count == 0 || memcmp(base + name.start, key.baseAddress!, key.count) == 0)
                }
                _ = try scanner.peekToken("a value")
                if matches { return try scalarOrRaw(&scanner, depth: 1) }
                try scanner.skipValue(depth: 1)
                if try scanner.endOfMember(close: UInt8(ascii: "}")) { return nil }
            }
        } catch {
            return nil  // unreachable: the reader validated these bytes
        }
    }

    /// An error inside the expansion of a `let`, reported at its use: the expansion's spans are in the file
    /// that defines it.
    func inBinding(_ error: EvaluationError, at index: Int32) -> EvaluationError {
        var error = error
        let instruction = program.instructions[Int(index)]
        let name = program.bindingNames[Int(instruction.y)]
        if !error.message.hasPrefix("in `") { error.message = "in `\(name)`: " + error.message }
        error.span = program.instructionSpans[Int(index)]
        return error
    }

    /// An evaluation error of instruction `index`.
    func failure(_ code: EvaluationError.Code, _ message: String, _ operands: [Value], at index: Int32)
        -> EvaluationError
    {
        EvaluationError(
            code: code, message: message, operandTypes: operands.map(\.typeName),
            span: program.instructionSpans[Int(index)])
    }

    /// Bytes `offset..<offset+length` of the program's constant pool.
    @inline(__always)
    func poolBytes(_ offset: Int32, _ length: Int32) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: program.pool.baseAddress! + Int(offset), count: Int(length))
    }

    /// The pool string at `offset` as a value (off the fast path: traces and errors).
    func poolString(_ offset: Int32, _ length: Int32) -> Value {
        .string(String(decoding: poolBytes(offset, length), as: UTF8.self))
    }
}
