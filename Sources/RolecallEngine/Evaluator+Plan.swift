import RolecallRegex

/// What one walk of a list found for its probe group (see ``ProbeGroup``), for one run of the rules.
struct ProbeMemo {
    /// The run it is valid for (``ListMemo/generation``).
    var generation: UInt64 = 0
    /// Bit `n`: the group's string `n` is an element of the list.
    var found: UInt64 = 0
    /// Whether the list is plain strings (no escapes), so that ``found`` is the answer; otherwise the interpreter
    /// decides each test.
    var plain = false
}

/// Running plans (see ``Step``): how decisions evaluate conditions.
extension Evaluator {
    /// Runs every rule's plan (``runRules()`` after its resets, when not tracing).
    ///
    /// The plans of all rules are one step table in which every rule goes on to the next rule's first step
    /// whether it fires or not; a rule that fires is only written down (``matched``) on the way. So the step loop
    /// runs through the rules without a branch on whether each fired (which no predictor can guess: it is what
    /// the event decides), and effects are applied afterwards, in rule order, as the interpreter applies them
    /// one by one: a rule's condition reads only the event, never the roles decided so far. Measured on the
    /// benchmark's rules, leaving the loop for each rule that fired cost more than the rules' own tests.
    ///
    /// One function for every rule and step: a call per rule (a large frame saved and restored) also cost more
    /// than most rules' tests, and Swift would not inline a function with the step loop.
    func runPlans() {
        let starts = program.ruleStarts
        // What every step reads, loaded once: none of it changes during a run.
        let steps = UnsafePointer(program.steps.baseAddress!)
        let slots = UnsafePointer(self.slots.baseAddress!)
        let base = self.base
        let pool = UnsafeRawPointer(program.pool.baseAddress!)
        let matched = self.matched.baseAddress!
        var fired = 0
        var target = starts[0]
        // The step being run, for the rule of an error it throws.
        var current = steps
        while target != Step.end {
            do throws(EvaluationError) {
                try runSteps(from: &target, &current, &fired, matched, steps, slots, base, pool)
            } catch {
                let rule = Int(current.pointee.rule)
                failures.append((rule, error))
                // Only a thrown error exhausts the budget: the rules left fail without running.
                if state.pointee.overBudget {
                    budgetExhausted(after: rule, &fired)
                    break
                }
                target = starts[rule + 1]
            }
        }
        state.pointee.matchedCount = fired
        for position in 0..<fired where applyEffects(Int(matched[position])) {
            stoppedAt = Int(matched[position])
            break
        }
    }

    /// After rule `rule` used up the budget: every later rule with a condition fails, as the interpreter's loop
    /// does; one without a condition still fires (and may stop evaluation).
    func budgetExhausted(after rule: Int, _ fired: inout Int) {
        for index in (rule + 1)..<program.ruleCount {
            let root = program.ruleRoots[index]
            if root >= 0 {
                failures.append((index, budgetError(at: root)))
                continue
            }
            matched[fired] = Int32(index)
            fired += 1
            if program.ruleStops[index] { return }
        }
    }

    /// Runs steps from `target` until none is left (``Step/end``), writing each rule that fires at
    /// `matched[fired]`. `current` is the step being run. Throws what the interpreter throws for the same
    /// condition, leaving `target` and `fired` as they were before the step that threw.
    @inline(__always)
    func runSteps(
        from target: inout Int32, _ current: inout UnsafePointer<Step>, _ fired: inout Int,
        _ matched: UnsafeMutablePointer<Int32>, _ steps: UnsafePointer<Step>, _ slots: UnsafePointer<Value>,
        _ base: UnsafePointer<UInt8>, _ pool: UnsafeRawPointer
    ) throws(EvaluationError) {
        while target >= 0 {
            let step = steps + Int(target)
            current = step
            let holds: Bool
            // Fields are read where they are used, through the pointer, rather than the whole step copied.
            switch step.pointee.kind {
            case .general:
                holds = try general(step.pointee.instruction)
            case .always:
                holds = true
            case .truthSlot:
                switch slots[Int(step.pointee.slot)] {
                case .bool(let flag): holds = flag
                case .null: holds = false
                default: holds = try general(step.pointee.instruction)
                }
            case .equalsString:
                switch slots[Int(step.pointee.slot)] {
                case .rawString(let start, let end):
                    let count = Int(step.pointee.count)
                    let equal =
                        end - start == count
                        && (count == 0
                            || LiteralPattern.bytesEqual(base + start, pool + Int(step.pointee.first), count))
                    holds = equal != step.pointee.negated
                case .string: holds = try general(step.pointee.instruction)
                default: holds = step.pointee.negated  // deep equality of a non-string with a string
                }
            case .inStrings:
                switch slots[Int(step.pointee.slot)] {
                case .rawString(let start, let end):
                    holds = inKeys(base + start, end - start, step) != step.pointee.negated
                case .string: holds = try general(step.pointee.instruction)
                default: holds = step.pointee.negated  // no string equals a non-string
                }
            case .probeList:
                holds = try probe(step, slots)
            case .equalsNull:
                switch slots[Int(step.pointee.slot)] {
                case .null: holds = !step.pointee.negated
                case .bool, .number, .rawString, .string: holds = step.pointee.negated
                case .rawArray(let start, let end) where (end - start) >> 6 == 0: holds = step.pointee.negated
                case .rawObject(let start, let end) where (end - start) >> 6 == 0: holds = step.pointee.negated
                // A list or an object the interpreter counts against the budget.
                default: holds = try general(step.pointee.instruction)
                }
            case .equalsBool:
                switch slots[Int(step.pointee.slot)] {
                case .bool(let flag): holds = (flag == (step.pointee.payload != 0)) != step.pointee.negated
                case .null, .number, .rawString, .string: holds = step.pointee.negated
                case .rawArray(let start, let end) where (end - start) >> 6 == 0: holds = step.pointee.negated
                case .rawObject(let start, let end) where (end - start) >> 6 == 0: holds = step.pointee.negated
                default: holds = try general(step.pointee.instruction)
                }
            case .startsWith, .endsWith:
                switch slots[Int(step.pointee.slot)] {
                case .rawString(let start, let end):
                    let (count, length) = (end - start, Int(step.pointee.count))
                    let at = step.pointee.kind == .startsWith ? start : end - length
                    holds =
                        length <= count
                        && (length == 0 || LiteralPattern.bytesEqual(base + at, pool + Int(step.pointee.first), length))
                case .null: holds = false
                default: holds = try general(step.pointee.instruction)
                }
            case .numberEqual:
                holds = try number(step, slots) { $0 == $1 }
            case .numberNotEqual:
                holds = try number(step, slots) { $0 != $1 }
            case .numberLess:
                holds = try number(step, slots) { $0 < $1 }
            case .numberLessEqual:
                holds = try number(step, slots) { $0 <= $1 }
            case .numberGreater:
                holds = try number(step, slots) { $0 > $1 }
            case .numberGreaterEqual:
                holds = try number(step, slots) { $0 >= $1 }
            case .suffixes, .substrings:
                switch slots[Int(step.pointee.slot)] {
                case .rawString(let start, let end) where literalMatching:
                    // As the interpreter: a literal match costs the budget what a PCRE2 match does.
                    try spend(8, at: step.pointee.instruction)
                    holds = matchesLiterals(base + start, end - start, step)
                case .null: holds = false
                default: holds = try general(step.pointee.instruction)
                }
            }
            target = holds ? step.pointee.onTrue : step.pointee.onFalse
            // Written whether or not the rule fired, and counted only if it did: no branch. The slot is free
            // (at most `rule` rules fired before this one).
            matched[fired] = step.pointee.rule
            fired &+= Int(step.pointee.fires >> (holds ? 0 : 1) & 1)
        }
    }

    /// The interpreter's truth of instruction `index`, for what a step does not handle itself.
    @inline(never)
    func general(_ index: Int32) throws(EvaluationError) -> Bool {
        try truth(index, Unobserved.self)
    }

    /// A `compareNumber` step: `test(slot, constant)` for a number; for `null`, `!=` holds and the others do not.
    @inline(__always)
    func number(_ step: UnsafePointer<Step>, _ slots: UnsafePointer<Value>, _ test: (Double, Double) -> Bool)
        throws(EvaluationError) -> Bool
    {
        switch slots[Int(step.pointee.slot)] {
        case .number(let value): return test(value, Double(bitPattern: step.pointee.payload))
        case .null: return step.pointee.kind == .numberNotEqual
        default: return try general(step.pointee.instruction)
        }
    }

    /// Whether the `count` bytes at `subject` are one of the strings of an `inStrings` step: a lookup in its hash
    /// table of keys.
    @inline(__always)
    func inKeys(_ subject: UnsafeRawPointer, _ count: Int, _ step: UnsafePointer<Step>) -> Bool {
        // Only lengths some string has (bit `count` of the payload; strings are at most sixteen bytes).
        guard count <= 16, step.pointee.payload >> UInt64(count) & 1 != 0 else { return false }
        let table = program.literalKeys.baseAddress! + Int(step.pointee.first)
        let size = Int(step.pointee.count)
        let length = Int32(count)
        let head: UInt64
        let tail: UInt64
        if count < 8 {
            (head, tail) = (shortKey(subject, count), 0)
        } else {
            head = subject.loadUnaligned(as: UInt64.self)
            tail = subject.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self)
        }
        var slot = LiteralKey.slot(length: length, head: head, tail: tail, in: size)
        while true {
            if table[slot].matches(length, head, tail) { return true }
            if table[slot].length < 0 { return false }
            slot = (slot + 1) & (size - 1)
        }
    }

    /// Whether the `count` bytes at `subject` match the literals of a `suffixes` or `substrings` step, as PCRE2
    /// would decide it (see ``LiteralPattern``).
    @inline(never)
    func matchesLiterals(_ subject: UnsafeRawPointer, _ count: Int, _ step: UnsafePointer<Step>) -> Bool {
        let keys = UnsafeBufferPointer(
            start: program.literalKeys.baseAddress! + Int(step.pointee.first), count: Int(step.pointee.count))
        if step.pointee.kind == .substrings { return findAny(keys, in: subject, count) }
        // `$` also matches before a final newline: such a subject goes the general way. (An event string without
        // escapes cannot hold a newline, so this is for safety should event strings ever be read differently.)
        if count > 0, subject.load(fromByteOffset: count - 1, as: UInt8.self) == 0x0A {
            return literalsMatch(
                UnsafeRawBufferPointer(start: subject, count: count),
                program.instructions[Int(step.pointee.instruction)])
        }
        for key in keys where Int(key.length) <= count {
            let length = Int(key.length)
            let start = subject + (count - length)
            if length < 8 {
                if shortKey(start, length) == key.head { return true }
            } else if start.loadUnaligned(as: UInt64.self) == key.head,
                start.loadUnaligned(fromByteOffset: length - 8, as: UInt64.self) == key.tail
            {
                return true
            }
        }
        return false
    }

    /// Whether one of `literals` (two bytes or more each, at most eight) occurs in the `count` bytes at `subject`:
    /// one pass over the subject for all of them, sixteen start positions at a time, a candidate being a position
    /// with some literal's first two bytes.
    func findAny(_ literals: UnsafeBufferPointer<LiteralKey>, in subject: UnsafeRawPointer, _ count: Int) -> Bool {
        let pool = program.pool.baseAddress!
        // Each literal's first two bytes are the low two bytes of its key (``shortKey(_:_:)`` or its first eight
        // bytes); unused lanes repeat the first literal.
        @inline(__always) func pair(_ index: Int) -> (SIMD16<UInt8>, SIMD16<UInt8>) {
            let head = literals[index < literals.count ? index : 0].head
            return (
                SIMD16(repeating: UInt8(truncatingIfNeeded: head)),
                SIMD16(repeating: UInt8(truncatingIfNeeded: head >> 8))
            )
        }
        let firsts = (pair(0).0, pair(1).0, pair(2).0, pair(3).0)
        let seconds = (pair(0).1, pair(1).1, pair(2).1, pair(3).1)
        // The second four only when there are more than four (the splats cost the common case otherwise).
        let zero = SIMD16<UInt8>()
        let more = literals.count > 4
        let moreFirsts = more ? (pair(4).0, pair(5).0, pair(6).0, pair(7).0) : (zero, zero, zero, zero)
        let moreSeconds = more ? (pair(4).1, pair(5).1, pair(6).1, pair(7).1) : (zero, zero, zero, zero)
        // Whether a literal starts at `offset`.
        func startsAt(_ offset: Int) -> Bool {
            for literal in literals where offset + Int(literal.length) <= count {
                if LiteralPattern.bytesEqual(subject + offset, pool + Int(literal.offset), Int(literal.length)) {
                    return true
                }
            }
            return false
        }
        // Whether a literal starts at one of the sixteen positions from `offset` (the bytes at `offset` and
        // `offset + 1` onwards must be in the subject).
        func block(_ offset: Int) -> Bool {
            let here = subject.loadUnaligned(fromByteOffset: offset, as: SIMD16<UInt8>.self)
            let next = subject.loadUnaligned(fromByteOffset: offset + 1, as: SIMD16<UInt8>.self)
            var hits = (here .== firsts.0) .& (next .== seconds.0)
            hits .|= (here .== firsts.1) .& (next .== seconds.1)
            if literals.count > 2 {
                hits .|= (here .== firsts.2) .& (next .== seconds.2)
                hits .|= (here .== firsts.3) .& (next .== seconds.3)
            }
            if more {
                hits .|= (here .== moreFirsts.0) .& (next .== moreSeconds.0)
                hits .|= (here .== moreFirsts.1) .& (next .== moreSeconds.1)
                hits .|= (here .== moreFirsts.2) .& (next .== moreSeconds.2)
                hits .|= (here .== moreFirsts.3) .& (next .== moreSeconds.3)
            }
            // `any(hits)` is a generic call in the standard library; the mask's two words are two loads.
            let words = unsafeBitCast(hits, to: SIMD2<UInt64>.self)
            guard words[0] | words[1] != 0 else { return false }
            for lane in 0..<16 where hits[lane] && startsAt(offset + lane) { return true }
            return false
        }
        guard count >= 17 else {
            // Too short for a block: position by position, on the first byte.
            var offset = 0
            while offset + 2 <= count {
                let byte = subject.load(fromByteOffset: offset, as: UInt8.self)
                if byte == firsts.0[0] || byte == firsts.1[0] || byte == firsts.2[0] || byte == firsts.3[0]
                    || (more
                        && (byte == moreFirsts.0[0] || byte == moreFirsts.1[0] || byte == moreFirsts.2[0]
                            || byte == moreFirsts.3[0])),
                    startsAt(offset)
                {
                    return true
                }
                offset += 1
            }
            return false
        }
        var offset = 0
        while offset + 17 <= count {
            if block(offset) { return true }
            offset += 16
        }
        // The positions left, in one last block that overlaps the one before.
        return offset + 1 < count && block(count - 17)
    }

    /// A `probeList` step: whether the step's string is an element of its list slot.
    @inline(__always)
    func probe(_ step: UnsafePointer<Step>, _ slots: UnsafePointer<Value>) throws(EvaluationError) -> Bool {
        switch slots[Int(step.pointee.slot)] {
        case .null:
            return false
        case .rawArray(let start, let end):
            let memo = probeMemo.baseAddress! + Int(step.pointee.first)
            if memo.pointee.generation != listMemo.pointee.generation {
                walkProbes(Int(step.pointee.first), start, end)
            }
            guard memo.pointee.plain else { return try general(step.pointee.instruction) }
            // The interpreter's accounting: the walk weighs what the list's bytes do.
            let weight = (end - start) >> 6
            try startWalk(weight, at: step.pointee.instruction)
            try spend(weight, at: step.pointee.instruction)
            return memo.pointee.found >> step.pointee.payload & 1 != 0
        default:
            return try general(step.pointee.instruction)
        }
    }

    /// The position of the first `"` or `\\` in the event from `position`; one is before `end`. Eight bytes at a
    /// time, the last eight (before `end`) shifted into place rather than read byte by byte: group names are
    /// short, and a byte loop's exit cost more than the bytes.
    @inline(__always)
    static func stringEnd(_ base: UnsafePointer<UInt8>, from position: Int, before end: Int) -> Int {
        let ones: UInt64 = 0x0101_0101_0101_0101
        // Flags the first quote or backslash of `word` (its high bit; flags above a match can be false, never
        // below it, so the lowest is exact).
        @inline(__always) func flags(_ word: UInt64) -> UInt64 {
            let quotes = word ^ (ones &* UInt64(JSONScanner.quote))
            let backslashes = word ^ (ones &* UInt64(UInt8(ascii: "\\")))
            return ((quotes &- ones) & ~quotes | (backslashes &- ones) & ~backslashes) & (ones &* 0x80)
        }
        var position = position
        while position &+ 8 <= end {
            let found = flags(UnsafeRawPointer(base + position).loadUnaligned(as: UInt64.self))
            if found != 0 { return position &+ found.trailingZeroBitCount >> 3 }
            position &+= 8
        }
        guard end >= 8 else {
            while base[position] != JSONScanner.quote, base[position] != UInt8(ascii: "\\") { position &+= 1 }
            return position
        }
        // The `end - position` bytes left are the top of the word that ends at `end`; shifted down, zeros come in
        // above them, which are neither a quote nor a backslash.
        let word =
            UnsafeRawPointer(base + end - 8).loadUnaligned(as: UInt64.self) >> UInt64(8 &* (8 &- (end &- position)))
        return position &+ flags(word).trailingZeroBitCount >> 3
    }

    /// Walks the event list at bytes `start..<end` once for probe group `group`: which of its strings are elements.
    /// The list is not plain (``ProbeMemo/plain``) when an element is not a string without escapes.
    @inline(never)
    func walkProbes(_ group: Int, _ start: Int, _ end: Int) {
        let memo = probeMemo.baseAddress! + group
        memo.pointee.generation = listMemo.pointee.generation
        memo.pointee.plain = false
        memo.pointee.found = 0
        let probes = program.probeGroups[group]
        let strings = program.probeStrings.baseAddress! + Int(probes.first)
        let pool = program.pool.baseAddress!
        var found: UInt64 = 0
        let plain = forEachPlainString(start, end) { first, length in
            // Most elements have a length no tested string has.
            if probes.lengths >> UInt64(min(length, 63)) & 1 != 0 {
                for bit in 0..<Int(probes.count) where Int(strings[bit].length) == length {
                    if length == 0
                        || LiteralPattern.bytesEqual(base + first, pool + Int(strings[bit].offset), length)
                    {
                        found |= 1 << UInt64(bit)
                    }
                }
            }
        }
        guard plain else { return }
        memo.pointee.found = found
        memo.pointee.plain = true
    }

    /// Calls `body` with the offset and length of each element of the event list at bytes `start..<end`, in order,
    /// while they are strings without escapes; true when every one was (the plain lists the fast paths take),
    /// false at the first that is not. The list was validated by the reader.
    @inline(__always)
    func forEachPlainString(_ start: Int, _ end: Int, _ body: (_ first: Int, _ length: Int) -> Void) -> Bool {
        var position = start + 1
        while true {
            while Evaluator.isWhitespace(base[position]) { position += 1 }
            if base[position] == UInt8(ascii: "]") { return true }
            guard base[position] == JSONScanner.quote else { return false }
            let first = position + 1
            position = Evaluator.stringEnd(base, from: first, before: end)
            if base[position] != JSONScanner.quote { return false }
            body(first, position - first)
            position += 1
            while Evaluator.isWhitespace(base[position]) { position += 1 }
            guard base[position] == UInt8(ascii: ",") else { return true }
            position += 1
        }
    }
}
