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

/// An evaluation error: the rule did not fire because evaluating its condition failed.
///
/// A value with a stable ``code`` (like the checker's diagnostics) and the types of the operands involved, so a
/// server can count errors by kind and an outbox can key on them without parsing messages.
public struct EvaluationError: Error, Sendable, Equatable {
    /// What kind of error, stable across releases.
    public enum Code: String, Sendable, CaseIterable {
        /// A condition (or an operand of `and`, `or`, `not`) was neither a boolean nor `null`.
        case notBoolean = "not-boolean"
        /// An operator or function was given a value of a type it does not take.
        case typeMismatch = "type-mismatch"
        /// `days_since` was given a string that is not an RFC 3339 timestamp.
        case notTimestamp = "not-timestamp"
        /// The event took more work than ``Evaluator/timeBudget`` allows (a huge list, hostile strings).
        case budgetExceeded = "budget-exceeded"
        /// A regex exceeded its match, depth or heap limit on this input.
        case regexLimit = "regex-limit"
        /// PCRE2 reported another matching error.
        case regexFailed = "regex-failed"
    }

    /// The kind of error.
    public var code: Code
    /// What went wrong, e.g. "`<` cannot compare a string with a number".
    public var message: String
    /// The types of the operands involved, as messages name them (`a string`, `null`, ...).
    public var operandTypes: [String]
    /// The expression that failed, in its rule's file.
    public var span: Span
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
    /// The elements bound by the quantifiers being evaluated, by nesting depth.
    let locals: UnsafeMutableBufferPointer<Value>
    /// Per `let`: 0 not computed in this evaluation, 1 false, 2 true (as a condition), 3 its value is in
    /// ``bindingValues``. A `let` has no free names, so its value is the same wherever it is used in one event.
    let bindingMemo: UnsafeMutableBufferPointer<UInt8>
    let bindingValues: UnsafeMutableBufferPointer<Value>
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
        /// Whether a trace is being taken (see ``observe(_:_:_:_:)``).
        var tracing = false
        /// The evaluation clock of this run, in seconds since the epoch, once something has read it.
        var clock: Double?
        /// The clock the event carries, when ``clockFromEvent`` is on and it has one.
        var eventClock: Double?
        /// Work done on this event (elements visited, regexes run), for ``timeBudget``.
        var steps = 0
        /// When this event's work was first measured (monotonic seconds), once it was.
        var budgetStart: Double?
        /// Whether this event has used up its budget: the rules not yet run fail at once.
        var overBudget = false
        /// The special-byte bitmap of the event being read (see ``JSONScanner/specials``), one word per 64
        /// bytes, and how many words it can hold; it grows with the largest event seen.
        var specials = UnsafeMutablePointer<UInt64>.allocate(capacity: 64)
        var specialsCapacity = 64
    }

    let state: UnsafeMutablePointer<State>
    /// The string elements of the event list `"x" in list` tests read last, for one run of the rules.
    let listMemo: UnsafeMutablePointer<ListMemo>
    /// Per probe group of the program: what the walk of its list found in this run (see ``ProbeGroup``).
    let probeMemo: UnsafeMutableBufferPointer<ProbeMemo>
    /// ``RegexScratch/allowsLiteralMatching`` of ``scratch``, read once.
    let literalMatching: Bool
    /// Per role: 0 untouched, 1 assigned, 2 revoked (last wins).
    let roleState: UnsafeMutableBufferPointer<UInt8>
    /// Roles touched by fired rules, in the order first touched (the first `touchedCount`).
    let touched: UnsafeMutableBufferPointer<Int32>
    /// Per role: the rule that last assigned or revoked it (valid for touched roles).
    let decidingRule: UnsafeMutableBufferPointer<Int32>
    /// Rules that fired, in order (the first `matchedCount`).
    let matched: UnsafeMutableBufferPointer<Int32>
    /// Per field-tree node: whether the event being read has had it already (a repeated key is an error).
    let seenFields: UnsafeMutableBufferPointer<Bool>
    /// Where the fast path writes a decision line before appending it to the caller's output.
    let line: UnsafeMutableRawBufferPointer
    /// Rules whose condition failed to evaluate.
    /// (Unchecked exclusivity, here and on the other stored `var`s below: an evaluator is used by one thread and
    /// never reenters; every evaluation reads these, and the run-time check, a call that looks the access up in a
    /// thread-local set, cost more than the read.)
    @exclusivity(unchecked) var failures: [(rule: Int, failure: EvaluationError)] = []
    /// Current roles the rules never name, revoked by a `revoke all`, with the rule that revoked each.
    @exclusivity(unchecked) var revokedOthers: [(role: String, rule: Int)] = []
    /// The roles in ``revokedOthers``, to keep each once without a scan (a user may hold thousands).
    @exclusivity(unchecked) var revokedOtherNames: Set<ExactString> = []
    /// When set, every comparison is recorded here (see ``explain(_:)``).
    @exclusivity(unchecked) var trace: [TraceStep]?
    /// The evaluation clock for `days_since`, in seconds since the Unix epoch; nil (the default) reads the wall
    /// clock once per evaluation, when a rule first needs it. `--now`, a suite's `now:` and the server (which
    /// records the value in its decision log) set it.
    @exclusivity(unchecked) public var now: Double?
    /// Whether an event's own top-level `rolecall_now` (an RFC 3339 string, as `rules log export` writes) is the
    /// clock for that event, before ``now``. Off by default, and never on in the server: a replay decides as the
    /// login did, a live login by the server's clock. When on, a `rolecall_now` that is not a timestamp makes the
    /// event an error.
    @exclusivity(unchecked) public var clockFromEvent = false
    /// How long the rules may work on one event, in seconds (0.25 by default). Quantifiers and regexes are where
    /// a hostile event makes work (a long list, a backtracking-prone string in each element); past the budget the
    /// rule being evaluated and every later rule fail with `budget-exceeded`, and the decision is made of the
    /// rules that finished. Only evaluations that do real work read the clock.
    @exclusivity(unchecked) public var timeBudget = 0.25
    /// Whether the reader finds string ends with the SIMD special-byte bitmap (on) or eight bytes at a time. Both
    /// read every event alike; the switch is for the fuzzer and the benchmark, which compare them.
    @_spi(Benchmark) @exclusivity(unchecked) public var indexesStrings = true

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
    var tracing: Bool { state.pointee.tracing }
    /// The special-byte bitmap of the event being evaluated.
    var specials: UnsafePointer<UInt64>? { indexesStrings ? UnsafePointer(state.pointee.specials) : nil }

    /// A scanner over the event being evaluated, from `start` up to `end`.
    @inline(__always)
    func eventScanner(from start: Int, to end: Int) -> JSONScanner {
        JSONScanner(base: base, count: end, position: start, maxDepth: program.maxDepth, specials: specials)
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
        self.locals = .allocate(capacity: max(1, program.localCount))
        self.locals.initialize(repeating: .null)
        self.bindingMemo = .allocate(capacity: max(1, program.bindingCount))
        self.bindingMemo.initialize(repeating: 0)
        self.bindingValues = .allocate(capacity: max(1, program.bindingCount))
        self.bindingValues.initialize(repeating: .null)
        self.scratch = RegexScratch(limits: limits)
        self.state = .allocate(capacity: 1)
        self.state.initialize(to: State())
        self.listMemo = .allocate(capacity: 1)
        self.listMemo.initialize(to: ListMemo())
        self.probeMemo = .allocate(capacity: max(1, program.probeGroups.count))
        self.probeMemo.initialize(repeating: ProbeMemo())
        self.literalMatching = scratch.allowsLiteralMatching
        self.roleState = .allocate(capacity: max(1, program.roleNames.count))
        self.roleState.initialize(repeating: 0)
        self.touched = .allocate(capacity: max(1, program.roleNames.count))
        self.touched.initialize(repeating: 0)
        self.decidingRule = .allocate(capacity: max(1, program.roleNames.count))
        self.decidingRule.initialize(repeating: 0)
        self.matched = .allocate(capacity: max(1, program.ruleCount))
        self.matched.initialize(repeating: 0)
        self.line = .allocate(byteCount: program.maxDecisionBytes, alignment: 1)
        self.seenFields = .allocate(capacity: max(1, program.fields.count))
        self.seenFields.initialize(repeating: false)
    }

    deinit {
        _ = slots.deinitialize()
        slots.deallocate()
        _ = locals.deinitialize()
        locals.deallocate()
        bindingMemo.deallocate()
        _ = bindingValues.deinitialize()
        bindingValues.deallocate()
        state.pointee.specials.deallocate()
        state.deinitialize(count: 1)
        state.deallocate()
        listMemo.pointee.items.deallocate()
        listMemo.deinitialize(count: 1)
        listMemo.deallocate()
        probeMemo.deallocate()
        roleState.deallocate()
        touched.deallocate()
        decidingRule.deallocate()
        matched.deallocate()
        line.deallocate()
        seenFields.deallocate()
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
        state.pointee.eventClock = nil
        if clockFromEvent { try readEventClock() }
        try checkCurrentRoles()
        runRules()
    }

    /// `authorization.roles` is what the decision's `roles` and `revoke all` start from, and what the planner
    /// compares with: a list of role names, or absent. Anything else would be read as no roles at all, and a
    /// role the user holds would vanish from `roles` without appearing in `revoke`; the event is refused.
    func checkCurrentRoles() throws(JSONError) {
        switch slots[program.currentRolesSlot] {
        case .null, .list: return
        case .rawArray(let start, let end):
            var scanner = eventScanner(from: start + 1, to: end)
            if try scanner.peekToken("]") == UInt8(ascii: "]") { return }
            while true {
                guard try scanner.peekToken("a role") == JSONScanner.quote else {
                    throw JSONError("`authorization.roles` must hold role names (strings) only", at: scanner.position)
                }
                try scanner.skipValue(depth: 1)
                if try scanner.endOfMember(close: UInt8(ascii: "]")) { return }
            }
        case let other:
            var at = 0
            if case .rawString(let start, _) = other { at = start - 1 }
            if case .rawObject(let start, _) = other { at = start }
            throw JSONError("`authorization.roles` must be a list of role names, found \(other.typeName)", at: at)
        }
    }

    /// Reads the event's `rolecall_now` into ``State/eventClock``.
    func readEventClock() throws(JSONError) {
        let value = slots[program.clockSlot]
        if case .null = value { return }
        guard let seconds = withBytes(value, { Timestamp.seconds($0) }) ?? nil else {
            var at = 0
            switch value {
            case .rawString(let start, _): at = start - 1
            case .rawArray(let start, _), .rawObject(let start, _): at = start
            default: break  // a number or a boolean keeps no position
            }
            throw JSONError("`\(Program.clockField)` must be an RFC 3339 timestamp, found \(render(value))", at: at)
        }
        state.pointee.eventClock = seconds
    }

    /// Benchmark hook: reads an event into the slots without running the rules. `event` must stay valid and
    /// unchanged until the next call to ``benchmarkRunRules()``.
    @_spi(Benchmark) public func benchmarkRead(_ event: UnsafeRawBufferPointer) throws(JSONError) {
        try read(event)
        base = event.baseAddress!.assumingMemoryBound(to: UInt8.self)
    }

    /// Benchmark hook: reads the event and runs the rules, leaving the decision in the evaluator's state (its
    /// role table) without building a value or writing a line: what a caller that acts on the roles needs.
    /// Returns how many rules fired.
    @_spi(Benchmark) public func benchmarkDecide(_ event: UnsafeRawBufferPointer) throws(JSONError) -> Int {
        try run(event)
        return state.pointee.matchedCount
    }

    /// Benchmark hook: runs the rules on the event read last (the "pre-parsed" figure); returns how many fired.
    @_spi(Benchmark) public func benchmarkRunRules() -> Int {
        runRules()
        return state.pointee.matchedCount
    }

    /// The rules that fired in the last evaluation, by their index in the program, in order. Valid until the
    /// next evaluation.
    public var firedRules: UnsafeBufferPointer<Int32> { UnsafeBufferPointer(matchedRules) }

    /// The rules whose condition failed to evaluate in the last evaluation, by index, in order.
    public var failedRules: [Int] { failures.map(\.rule) }

    /// Calls `body` with the UTF-8 bytes of the last evaluated event's `user.user_id` (nil when it is not a
    /// string), without making a string of them.
    public func withLastUserID<R>(_ body: (UnsafeRawBufferPointer?) -> R) -> R {
        withBytes(slots[program.userIDSlot], { body($0) }) ?? body(nil)
    }

    /// The decision of the last evaluation as a value (after ``evaluate(_:writingTo:)``, which writes it as text).
    public func lastDecision() -> Decision { makeDecision() }

    /// Runs every rule on the slots, leaving the outcome in the evaluator's state.
    func runRules() {
        for role in touchedRoles { roleState[Int(role)] = 0 }
        state.pointee.touchedCount = 0
        state.pointee.matchedCount = 0
        if !failures.isEmpty { failures.removeAll(keepingCapacity: true) }
        if !revokedOthers.isEmpty {
            revokedOthers.removeAll(keepingCapacity: true)
            revokedOtherNames.removeAll(keepingCapacity: true)
        }
        stoppedAt = nil
        listMemo.pointee.generation &+= 1
        state.pointee.clock = nil
        state.pointee.steps = 0
        state.pointee.budgetStart = nil
        state.pointee.overBudget = false
        if program.bindingCount > 0 { bindingMemo.update(repeating: 0) }
        if tracing {
            runRulesTraced()
            return
        }
        runPlans()
    }

    /// ``runRules()`` for a trace: the instructions, observed, rule by rule.
    func runRulesTraced() {
        for index in 0..<program.ruleRoots.count {
            currentRule = index
            // A trace observes each rule's own conditions, those of the `let`s it uses included, so coverage
            // credits every rule that reads a name: when tracing, names are remembered within a rule only.
            if program.bindingCount > 0 { bindingMemo.update(repeating: 0) }
            let root = program.ruleRoots[index]
            if root >= 0 {
                if state.pointee.overBudget {
                    failures.append((index, budgetError(at: root)))
                    continue
                }
                do throws(EvaluationError) {
                    guard try truth(root, Observed.self) else { continue }
                } catch {
                    failures.append((index, error))
                    continue
                }
            }
            if fire(index) { break }
        }
    }

    /// Rule `index` fired: records it and its effects. Returns whether it stops evaluation.
    @inline(__always)
    func fire(_ index: Int) -> Bool {
        matched[state.pointee.matchedCount] = Int32(index)
        state.pointee.matchedCount += 1
        return applyEffects(index)
    }

    /// The effects of rule `index`, which fired after every rule whose effects are applied already. Returns
    /// whether it stops evaluation.
    @inline(__always)
    func applyEffects(_ index: Int) -> Bool {
        if program.ruleRevokeAll[index].start >= 0 { revokeAll(byRule: index) }
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
        guard program.ruleStops[index] else { return false }
        stoppedAt = index
        return true
    }

    /// `revoke all [except ...]` of rule `rule`: every role assigned so far and every current role
    /// (`authorization.roles`) becomes revoked, except the listed ones; the rule's own effects and later rules
    /// may assign again.
    func revokeAll(byRule rule: Int) {
        let range = program.ruleRevokeAll[rule]
        let excepted = UnsafeMutableBufferPointer(
            rebasing: program.revokeExcept[Int(range.start)..<Int(range.start + range.count)])
        func revoke(_ role: Int32) {
            guard !excepted.contains(role) else { return }
            if roleState[Int(role)] == 0 {
                touched[state.pointee.touchedCount] = role
                state.pointee.touchedCount += 1
            }
            roleState[Int(role)] = 2
            decidingRule[Int(role)] = Int32(rule)
        }
        for role in touchedRoles where roleState[Int(role)] == 1 { revoke(role) }
        for item in elements(slots[program.currentRolesSlot]) ?? [] {
            guard let name = string(item) else { continue }
            if let role = program.roleIndex[ExactString(name)] {
                if roleState[Int(role)] == 0 { revoke(role) }
            } else if revokedOtherNames.insert(ExactString(name)).inserted {
                revokedOthers.append((name, rule))
            }
        }
    }

    /// Counts `weight` units of work on the current event; every 64 units the clock is read, and past
    /// ``timeBudget`` the evaluation fails with `budget-exceeded`.
    @inline(__always)
    func spend(_ weight: Int, at index: Int32) throws(EvaluationError) {
        let before = state.pointee.steps
        state.pointee.steps = before &+ weight
        if before >> 6 != state.pointee.steps >> 6 { try checkBudget(at: index) }
    }

    /// Before a walk of `weight` units (a whole list compared or searched): a long one reads the clock first, so
    /// that ``spend(_:at:)`` after it measures the walk itself.
    @inline(__always)
    func startWalk(_ weight: Int, at index: Int32) throws(EvaluationError) {
        if weight >= 64 { try checkBudget(at: index) }
    }

    /// Out of line: the hot paths that count work must not read ``timeBudget`` themselves, or Swift checks
    /// exclusive access to it (a runtime call) around every plan run.
    @inline(never)
    func checkBudget(at index: Int32) throws(EvaluationError) {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        let now = Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
        guard let start = state.pointee.budgetStart else {
            state.pointee.budgetStart = now
            return
        }
        if now - start > timeBudget {
            state.pointee.overBudget = true
            throw budgetError(at: index)
        }
    }

    func budgetError(at index: Int32) -> EvaluationError {
        failure(
            .budgetExceeded,
            "evaluating this event took longer than its budget of \(Int(timeBudget * 1000)) ms", [], at: index)
    }

    /// The evaluation clock of the current run: ``now``, or the wall clock read once per run.
    func clock() -> Double {
        if let clock = state.pointee.clock { return clock }
        let clock = state.pointee.eventClock ?? now ?? Evaluator.wallClock()
        state.pointee.clock = clock
        return clock
    }

    /// The wall clock, in seconds since the Unix epoch.
    public static func wallClock() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
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
}
