import RolecallLanguage
import RolecallRegex

/// An evaluation error: the rule did not fire because evaluating its condition failed.
struct EvalFailure: Error {
    var message: String
    var span: Span
}

/// Evaluates a ``Program`` on events, one at a time.
///
/// An evaluator owns the mutable state evaluation needs (field slots, PCRE2 match data, the decision being
/// built), so it is not `Sendable`: give each thread or task its own. The program itself is shared.
public final class Evaluator {
    /// The program being run.
    public let program: Program
    /// The values of the fields the rules read, one per slot; owned by this evaluator.
    let slots: UnsafeMutableBufferPointer<Value>
    let scratch: RegexScratch
    /// Per-evaluation scalars. They live behind a pointer the evaluator owns, like the buffers below, because
    /// Swift checks exclusive access to a class's stored `var`s at run time, and the hot path reads them often.
    struct State {
        /// The event's bytes, valid only while an evaluation is running.
        var base = UnsafePointer<UInt8>(bitPattern: 1)!
        /// The rule being evaluated, for the trace.
        var currentRule = 0
        /// The rule that stopped evaluation in the last run, if any.
        var stoppedAt: Int?
        var touchedCount = 0
        var matchedCount = 0
    }

    let state: UnsafeMutablePointer<State>
    /// Per role: 0 untouched, 1 assigned, 2 revoked (last wins).
    let roleState: UnsafeMutableBufferPointer<UInt8>
    /// Roles touched by fired rules, in the order first touched (the first `touchedCount`).
    let touched: UnsafeMutableBufferPointer<Int32>
    /// Per role: the rule that last assigned or revoked it (valid for touched roles).
    let decidingRule: UnsafeMutableBufferPointer<Int32>
    /// Rules that fired, in order (the first `matchedCount`).
    let matched: UnsafeMutableBufferPointer<Int32>
    /// Where the fast path writes a decision line before appending it to the caller's output.
    let line: UnsafeMutableRawBufferPointer
    /// Rules whose condition failed to evaluate.
    var failures: [(rule: Int, failure: EvalFailure)] = []
    /// When set, every comparison is recorded here (see ``explain(_:)``).
    var trace: [TraceStep]?

    var base: UnsafePointer<UInt8> {
        get { state.pointee.base }
        set { state.pointee.base = newValue }
    }
    var currentRule: Int {
        get { state.pointee.currentRule }
        set { state.pointee.currentRule = newValue }
    }
    var stoppedAt: Int? {
        get { state.pointee.stoppedAt }
        set { state.pointee.stoppedAt = newValue }
    }
    /// The roles touched by the last run, in order.
    var touchedRoles: UnsafeMutableBufferPointer<Int32> {
        UnsafeMutableBufferPointer(rebasing: touched[0..<state.pointee.touchedCount])
    }
    /// The rules that fired in the last run, in order.
    var matchedRules: UnsafeMutableBufferPointer<Int32> {
        UnsafeMutableBufferPointer(rebasing: matched[0..<state.pointee.matchedCount])
    }

    /// An evaluator for `program`. `limits` bound the work of each regex match.
    public init(program: Program, limits: RegexScratch.Limits = RegexScratch.Limits()) {
        self.program = program
        self.slots = .allocate(capacity: max(1, program.slotCount))
        self.slots.initialize(repeating: .null)
        self.scratch = RegexScratch(limits: limits)
        self.state = .allocate(capacity: 1)
        self.state.initialize(to: State())
        self.roleState = .allocate(capacity: max(1, program.roleNames.count))
        self.roleState.initialize(repeating: 0)
        self.touched = .allocate(capacity: max(1, program.roleNames.count))
        self.touched.initialize(repeating: 0)
        self.decidingRule = .allocate(capacity: max(1, program.roleNames.count))
        self.decidingRule.initialize(repeating: 0)
        self.matched = .allocate(capacity: max(1, program.ruleCount))
        self.matched.initialize(repeating: 0)
        self.line = .allocate(byteCount: program.maxDecisionBytes, alignment: 1)
    }

    deinit {
        _ = slots.deinitialize()
        slots.deallocate()
        state.deinitialize(count: 1)
        state.deallocate()
        roleState.deallocate()
        touched.deallocate()
        decidingRule.deallocate()
        matched.deallocate()
        line.deallocate()
    }

    /// Evaluates the rules on one event (UTF-8 JSON bytes) and returns the decision.
    public func evaluate(_ event: UnsafeRawBufferPointer) throws(JSONError) -> Decision {
        try run(event)
        return makeDecision()
    }

    /// Evaluates the rules on one event and returns the decision.
    public func evaluate(_ event: [UInt8]) throws(JSONError) -> Decision {
        let result = event.withUnsafeBytes { bytes in Result { () throws(JSONError) in try evaluate(bytes) } }
        return try result.get()
    }

    /// Evaluates the rules on one event and appends the decision as one line of compact JSON to `output`.
    ///
    /// This is the batch path: it builds no intermediate strings.
    public func evaluate(_ event: UnsafeRawBufferPointer, writingTo output: inout [UInt8]) throws(JSONError) {
        try run(event)
        writeDecision(to: &output)
    }

    /// Reads the event and runs every rule, leaving the outcome in the evaluator's state.
    func run(_ event: UnsafeRawBufferPointer) throws(JSONError) {
        try read(event)
        base = event.baseAddress!.assumingMemoryBound(to: UInt8.self)
        runRules()
    }

    /// Benchmark hook: reads an event into the slots without running the rules. `event` must stay valid and
    /// unchanged until the next call to ``benchmarkRunRules()``.
    @_spi(Benchmark) public func benchmarkRead(_ event: UnsafeRawBufferPointer) throws(JSONError) {
        try read(event)
        base = event.baseAddress!.assumingMemoryBound(to: UInt8.self)
    }

    /// Benchmark hook: runs the rules on the event read last (the "pre-parsed" figure); returns how many fired.
    @_spi(Benchmark) public func benchmarkRunRules() -> Int {
        runRules()
        return state.pointee.matchedCount
    }

    /// Runs every rule on the slots, leaving the outcome in the evaluator's state. Traces walk the node trees;
    /// ordinary evaluation runs the flat instruction table.
    func runRules() {
        for role in touchedRoles { roleState[Int(role)] = 0 }
        state.pointee.touchedCount = 0
        state.pointee.matchedCount = 0
        if !failures.isEmpty { failures.removeAll(keepingCapacity: true) }
        stoppedAt = nil
        let tracing = trace != nil
        for index in 0..<program.ruleRoots.count {
            currentRule = index
            let root = program.ruleRoots[index]
            if root >= 0 {
                do throws(EvalFailure) {
                    let fired = tracing ? try truth(program.rules[index].condition!) : try truth(instruction: root)
                    guard fired else { continue }
                } catch {
                    failures.append((index, error))
                    continue
                }
            }
            matched[state.pointee.matchedCount] = Int32(index)
            state.pointee.matchedCount += 1
            let range = program.ruleEffects[index]
            for position in range.start..<(range.start + range.count) {
                let effect = program.effects[Int(position)]
                let role = Int(effect.role)
                if roleState[role] == 0 {
                    touched[state.pointee.touchedCount] = effect.role
                    state.pointee.touchedCount += 1
                }
                roleState[role] = effect.assign ? 1 : 2
                decidingRule[role] = Int32(index)
            }
            if program.ruleStops[index] {
                stoppedAt = index
                break
            }
        }
    }

    // MARK: booleans

    /// Evaluates a node in a boolean position: `null` is false, any other non-boolean is an error.
    func truth(_ node: Node) throws(EvalFailure) -> Bool {
        switch node.kind {
        case .and(let left, let right):
            guard try truth(left) else { return false }
            return try truth(right)
        case .or(let left, let right):
            if try truth(left) { return true }
            return try truth(right)
        case .not(let operand): return !(try truth(operand))
        default:
            let result = try test(node)
            if trace != nil, node.isOperand { record(node, result, nil, result.isTrue) }
            switch result {
            case .bool(let value): return value
            case .null: return false
            default:
                throw EvalFailure(message: "condition is \(result.typeName), not a boolean", span: node.span)
            }
        }
    }

    /// Evaluates comparison nodes straight to a boolean; other nodes through ``value(_:)``.
    @inline(__always)
    func test(_ node: Node) throws(EvalFailure) -> Value {
        let result: Bool
        switch node.kind {
        case .fieldEqualsString(let slot, let text, let negated):
            result = stringEquals(slots[slot], text) != negated
            if trace != nil { record(node, slots[slot], .string(String(decoding: text, as: UTF8.self)), result) }
        case .fieldInStrings(let slot, let texts, let negated):
            let subject = slots[slot]
            result = texts.contains { stringEquals(subject, $0) } != negated
            if trace != nil { record(node, subject, nil, result) }
        case .stringInField(let text, let slot):
            let list = slots[slot]
            result = try contains(list, string: text, span: node.span, op: "in")
            if trace != nil { record(node, .string(String(decoding: text, as: UTF8.self)), list, result) }
        case .fieldContainsString(let slot, let text):
            let subject = slots[slot]
            result = try contains(subject, string: text, span: node.span, op: "contains")
            if trace != nil { record(node, subject, .string(String(decoding: text, as: UTF8.self)), result) }
        case .fieldCompareNumber(let op, let slot, let number):
            let subject = slots[slot]
            if case .number(let value) = subject {
                result = Evaluator.compareNumbers(op, value, number)
            } else {
                result = try compare(op, subject, .number(number), span: node.span)
            }
            if trace != nil { record(node, subject, .number(number), result) }
        case .compare(let op, let left, let right):
            let (l, r) = (try value(left), try value(right))
            result = try compare(op, l, r, span: node.span)
            if trace != nil { record(node, l, r, result) }
        case .matches(let subjectNode, let regex):
            let subject = try value(subjectNode)
            result = try matches(subject, regex, span: node.span)
            if trace != nil { record(node, subject, nil, result) }
        case .and, .or, .not:
            return .bool(try truth(node))
        default:
            return try value(node)
        }
        return .bool(result)
    }

    static func compareNumbers(_ op: BinaryOperator, _ a: Double, _ b: Double) -> Bool {
        switch op {
        case .equal: a == b
        case .notEqual: a != b
        case .less: a < b
        case .lessEqual: a <= b
        case .greater: a > b
        case .greaterEqual: a >= b
        default: false
        }
    }

    // MARK: values

    func value(_ node: Node) throws(EvalFailure) -> Value {
        switch node.kind {
        case .constant(let value): return value
        case .slot(let slot): return slots[slot]
        case .list(let items):
            var values: [Value] = []
            for item in items { values.append(try value(item)) }
            return .list(values)
        case .call(let function, let argument):
            return try call(function, try value(argument), span: node.span)
        case .negate(let operand):
            switch try value(operand) {
            case .number(let number): return .number(-number)
            case .null: return .null
            case let other: throw EvalFailure(message: "cannot negate \(other.typeName)", span: node.span)
            }
        default:
            return try test(node)
        }
    }

    func call(_ function: Function, _ argument: Value, span: Span) throws(EvalFailure) -> Value {
        if case .null = argument { return .null }
        switch function {
        case .lower, .upper:
            guard let text = string(argument) else {
                throw EvalFailure(
                    message: "`\(function.rawValue)` takes a string, not \(argument.typeName)", span: span)
            }
            return .string(function == .lower ? text.lowercased() : text.uppercased())
        case .length:
            switch argument {
            case .rawString(let start, let end):
                var scalars = 0
                for index in start..<end where base[index] & 0xC0 != 0x80 { scalars += 1 }
                return .number(Double(scalars))
            case .string(let text): return .number(Double(text.unicodeScalars.count))
            case .rawArray, .list: return .number(Double(elements(argument)?.count ?? 0))
            case .rawObject: return .number(Double(members(argument)?.count ?? 0))
            default:
                throw EvalFailure(
                    message: "`length` takes a string, a list or an object, not \(argument.typeName)", span: span)
            }
        }
    }
}
