import RolecallLanguage
import RolecallRegex

/// One step of a rule's *plan*: the form in which decisions run a condition (traces run the instruction table
/// itself, see ``Evaluator/truth(_:_:)``).
///
/// A plan is a condition compiled to branches. Each leaf test of the condition (a comparison, a field tested for
/// truth) is one step that names the step to go to when it holds and the one when it does not; `and`, `or` and
/// `not` are only those targets, so they cost nothing at run time and short-circuit left to right as the
/// interpreter does. A step is specialised for its operand types: `slot == "text"` is a length and byte compare,
/// `slot in ["AT", "BE", ...]` compares one integer key with a small table, a regex that is a set of suffixes
/// compares two eight-byte words per literal, `"x" in list` tests a bit of what one walk of the list found.
///
/// Why, measured on the benchmark's ten rules (bench/roles.rules, rules alone, one pinned core, CPU time per
/// event): the interpreter took 167-172 ns, most of it getting to leaves rather than in them: a call per `and`
/// operand and per `not`, a second look at each instruction to see whether it was a connective, copies of the
/// slot's ``Value`` (an outlined copy that retains when the value owns a string), and a runtime exclusivity
/// check around every rule (the budget check read ``Evaluator/timeBudget`` inline). Steps alone, one call per
/// rule: 129 ns. One loop over every rule's steps, no call per rule: 91. The steps of all rules in one table,
/// read through a pointer; string ends found eight bytes at a time: 86. Whether a rule fired as data rather
/// than a branch, string sets as a hash table, substrings from the keys: 81-85 (the machine's noise is a few
/// ns). What is left is about a third the list walk of `"x" in list` and the substring search of the
/// `(iPhone|Android)` regex, and two thirds the steps themselves, about 3 ns each with the switch.
///
/// Tried and not kept: the suffix comparison inlined into the step loop (no gain within the machine's noise of
/// a few ns; the loop's registers got tighter). Not built: a fused step for `A and field` (a test, then a field's
/// truth), estimated at under one step saved per event here. Not tried: compiled closures, since each step would
/// become an indirect call with a context to retain where the switch is one indirect jump; a trivial step costs
/// about 2 ns as it is.
///
/// A step handles only the values it is fast for: any other value (an owned string, a type that makes an
/// error, a string ending in a newline for a `$` regex) is handed to the interpreter for the step's own
/// instruction (``Step/instruction``), so the semantics, the budget accounting and every error message stay
/// in one place. Steps are plain data: evaluating them touches no reference counts.
struct Step {
    enum Kind: UInt8 {
        /// The interpreter evaluates ``Step/instruction`` (anything not specialised below).
        case general
        /// Holds: the one step of a rule without a condition.
        case always
        /// Slot `slot` in a boolean position: a boolean, or `null` (false).
        case truthSlot
        /// Slot `slot` `==` the pool string at `first` (length `count`); `!=` when ``Step/negated``.
        case equalsString
        /// Slot `slot` `in` a set of strings of at most sixteen bytes: a hash table of their keys in
        /// ``Program/literalKeys`` `first..<first+count` (see ``LiteralKey/slot(length:head:tail:in:)``); `payload`
        /// has bit `n` set when some string is `n` bytes long. `not in` when ``Step/negated``.
        /// (Measured against a scan of the keys: the thirteen countries of the benchmark's `eu` rule cost a loop
        /// whose length depends on the country; the table is one multiply and, nearly always, one probe.)
        case inStrings
        /// A string `in` list slot `slot`: bit `payload` of probe group `first` (see ``ProbeGroup``), which one walk
        /// of the list fills for every string tested in it.
        case probeList
        /// Slot `slot` `==` `null`, or `!=` when ``Step/negated`` (either side may be the field).
        case equalsNull
        /// Slot `slot` `==` the boolean `payload` (1 true, 0 false), or `!=` when ``Step/negated``.
        case equalsBool
        /// Slot `slot` `starts_with` or `ends_with` the pool string at `first` (length `count`).
        case startsWith, endsWith
        /// Slot `slot` compared with the number `payload` (its bit pattern).
        case numberEqual, numberNotEqual, numberLess, numberLessEqual, numberGreater, numberGreaterEqual
        /// Slot `slot` `matches` a regex that is a set of suffixes (`/@(gmail|yahoo)\.com$/`, no flags): the
        /// ``Program/literalKeys`` `first..<first+count`, each at most sixteen bytes.
        case suffixes
        /// Slot `slot` `matches` a regex that is a set of substrings (`/(iPhone|Android)/`, no flags): the
        /// ``Program/literalKeys`` `first..<first+count`, each at least two bytes, at most eight of them.
        case substrings
    }

    var kind: Kind
    /// The fast result is inverted (`!=`, `not in`); the interpreter's result never is.
    var negated = false
    /// Bit 0: going to ``onTrue`` fires the step's rule; bit 1: going to ``onFalse`` does.
    var fires: UInt8 = 0
    var slot: Int32 = 0
    /// The step to go to next when the test holds, or does not, or ``Step/end``. A rule's last steps go on to the
    /// next rule's first step whether the rule fires or not (``fires`` says which), so the runner is one loop over
    /// every rule: whether a rule fires is data, not a branch (see ``Evaluator/runPlans()``).
    var onTrue: Int32 = 0
    var onFalse: Int32 = 0
    /// The instruction this step specialises: the interpreter evaluates it for the values the step leaves to it.
    var instruction: Int32
    var first: Int32 = 0
    var count: Int32 = 0
    /// The rule this step belongs to, for the error it may throw.
    var rule: Int32 = 0
    var payload: UInt64 = 0

    /// While planning: the target that means rule `rule` fires (replaced by the rule's next step and a bit of
    /// ``fires`` once the rule is placed).
    static func fired(_ rule: Int) -> Int32 { Int32(-1 - rule) }
    /// The target that means no rule is left, or one that fired stops evaluation.
    static let end = Int32.min
}

/// A string constant of at most sixteen bytes as integer keys, for a step to compare with words rather than
/// bytes: a member of a string set or a literal of a regex (see ``Step/Kind/inStrings``, ``Step/Kind/suffixes``).
struct LiteralKey {
    /// The literal's bytes in ``Program/pool``.
    var offset: Int32
    var length: Int32
    /// Up to eight bytes: ``shortKey(_:_:)`` of the literal. Eight to sixteen: its first eight bytes.
    var head: UInt64
    /// Eight to sixteen bytes: its last eight bytes (little-endian).
    var tail: UInt64

    /// An empty slot of a hash table of keys.
    static let empty = LiteralKey(offset: 0, length: -1, head: 0, tail: 0)

    /// Whether this is the key of a string of `length` bytes with these words.
    @inline(__always)
    func matches(_ length: Int32, _ head: UInt64, _ tail: UInt64) -> Bool {
        self.length == length && self.head == head && self.tail == tail
    }

    /// Where a key goes in a hash table of `size` slots (a power of two, at least twice the keys, so that some
    /// slot is empty): a multiplicative hash of its words and length, then the next slot while taken (linear
    /// probing).
    @inline(__always)
    static func slot(length: Int32, head: UInt64, tail: UInt64, in size: Int) -> Int {
        let mixed = (head ^ (tail &* 0xC2B2_AE3D_27D4_EB4F) ^ UInt64(length)) &* 0x9E37_79B9_7F4A_7C15
        return Int(truncatingIfNeeded: mixed >> UInt64(64 - size.trailingZeroBitCount))
    }
}

/// A probe group: the strings tested with `"x" in` one list slot, which one walk of the list answers together.
struct ProbeGroup {
    var slot: Int32
    /// The group's strings (pool ranges) in ``Program/probeStrings``; string `n` of the group is bit `n`.
    var first: Int32
    var count: Int32
    /// Bit `n` (`n` < 63): some string is `n` bytes long; bit 63: some is longer. An element of another length is
    /// no string of the group's, without comparing.
    var lengths: UInt64 = 0
}

/// The most strings one probe group tests (bits of a word); a list tested for more leaves the rest to the
/// interpreter.
let maxProbes = 64

/// An integer that identifies `count` (at most eight) bytes at `bytes` among strings of that length: the first
/// and the last four bytes, or the first, middle and last byte, which together cover every byte. Reads only
/// those `count` bytes.
@inline(__always)
func shortKey(_ bytes: UnsafeRawPointer, _ count: Int) -> UInt64 {
    if count >= 4 {
        return UInt64(bytes.loadUnaligned(as: UInt32.self))
            | UInt64(bytes.loadUnaligned(fromByteOffset: count - 4, as: UInt32.self)) << 32
    }
    if count == 0 { return 0 }
    return UInt64(bytes.load(as: UInt8.self)) | UInt64(bytes.load(fromByteOffset: count >> 1, as: UInt8.self)) << 8
        | UInt64(bytes.load(fromByteOffset: count - 1, as: UInt8.self)) << 16
}

extension Program {
    /// Every rule's plan, in one step table, built from the instruction table after lowering.
    struct Planner {
        let instructions: [Instruction]
        let operands: [Int32]
        /// The program's byte pool; planning appends the bytes of constants it needs in it.
        var pool: [UInt8]
        let ranges: [(offset: Int32, length: Int32)]
        let regexes: [CompiledRegex]
        let constants: [Value]
        var steps: [Step] = []
        var literalKeys: [LiteralKey] = []
        var probeGroups: [ProbeGroup] = []
        /// Per probe group, its strings while planning: each one's bit by its bytes, and their pool ranges by bit.
        var groupStrings: [[[UInt8]: Int]] = []
        var groupRanges: [[(offset: Int32, length: Int32)]] = []
        var groupOfSlot: [Int32: Int] = [:]
        /// How many steps each instruction's plan takes (0: not computed yet).
        var sizes: [Int]

        init(_ lowered: Lowered) {
            instructions = lowered.instructions
            operands = lowered.operands
            pool = lowered.pool
            ranges = lowered.ranges
            regexes = lowered.regexes
            constants = lowered.constants
            sizes = Array(repeating: 0, count: lowered.instructions.count)
        }

        /// Plans every rule (the root instruction of each condition, -1 for none; whether it stops), one after the
        /// other. Returns each rule's first step, then ``Step/end``.
        mutating func plan(_ roots: [Int32], stops: [Bool]) -> [Int32] {
            var starts: [Int32] = []
            starts.reserveCapacity(roots.count + 1)
            // A step or two per rule is common.
            steps.reserveCapacity(steps.count + 2 * roots.count)
            for root in roots {
                starts.append(Int32(steps.count))
                steps.append(
                    contentsOf: repeatElement(
                        Step(kind: root >= 0 ? .general : .always, instruction: root),
                        count: root >= 0 ? size(root) : 1))
            }
            starts.append(Step.end)
            for (rule, root) in roots.enumerated() {
                currentRule = Int32(rule)
                let first = Int(starts[rule])
                if root >= 0 {
                    place(root, at: first, onTrue: Step.fired(rule), onFalse: starts[rule + 1])
                } else {
                    (steps[first].onTrue, steps[first].onFalse) = (Step.fired(rule), Step.fired(rule))
                    steps[first].rule = Int32(rule)
                }
                // After firing: the next rule, or the end when the rule stops evaluation.
                let afterFiring = stops[rule] ? Step.end : starts[rule + 1]
                for position in first..<(rule + 1 < roots.count ? Int(starts[rule + 1]) : steps.count) {
                    if steps[position].onTrue == Step.fired(rule) {
                        steps[position].onTrue = afterFiring
                        steps[position].fires |= 1
                    }
                    if steps[position].onFalse == Step.fired(rule) {
                        steps[position].onFalse = afterFiring
                        steps[position].fires |= 2
                    }
                }
            }
            return starts
        }

        /// The rule being placed.
        var currentRule: Int32 = 0

        /// Whether instruction `index` is planned as branches (a connective with operands) rather than one step.
        func isBranching(_ index: Int32) -> Bool {
            let instruction = instructions[Int(index)]
            switch instruction.opcode {
            case .and, .or: return instruction.y > 0
            case .not: return true
            default: return false
            }
        }

        /// How many steps the plan of instruction `index` takes: one per leaf test.
        mutating func size(_ index: Int32) -> Int {
            if sizes[Int(index)] > 0 { return sizes[Int(index)] }
            let instruction = instructions[Int(index)]
            var size = 1
            if isBranching(index) {
                switch instruction.opcode {
                case .not:
                    size = self.size(instruction.x)
                default:
                    size = 0
                    for position in Int(instruction.x)..<Int(instruction.x + instruction.y) {
                        size += self.size(operands[position])
                    }
                }
            }
            sizes[Int(index)] = size
            return size
        }

        /// Writes the steps of instruction `index` from step `position`: when it holds, go to `onTrue`, otherwise
        /// to `onFalse`.
        mutating func place(_ index: Int32, at position: Int, onTrue: Int32, onFalse: Int32) {
            let instruction = instructions[Int(index)]
            guard isBranching(index) else {
                steps[position] = leaf(index, onTrue: onTrue, onFalse: onFalse)
                return
            }
            switch instruction.opcode {
            case .not:
                place(instruction.x, at: position, onTrue: onFalse, onFalse: onTrue)
            default:
                let isAnd = instruction.opcode == .and
                var next = position
                let last = Int(instruction.x + instruction.y) - 1
                for slot in Int(instruction.x)...last {
                    let operand = operands[slot]
                    let start = next
                    next += size(operand)
                    // An `and` goes on to the next operand when one holds, an `or` when one does not.
                    let following = slot == last ? nil : Int32(next)
                    place(
                        operand, at: start, onTrue: isAnd ? following ?? onTrue : onTrue,
                        onFalse: isAnd ? onFalse : following ?? onFalse)
                }
            }
        }

        /// The step for leaf instruction `index`.
        mutating func leaf(_ index: Int32, onTrue: Int32, onFalse: Int32) -> Step {
            let instruction = instructions[Int(index)]
            var step = Step(kind: .general, onTrue: onTrue, onFalse: onFalse, instruction: index)
            step.slot = instruction.x
            step.rule = currentRule
            switch instruction.opcode {
            case .slot:
                step.kind = .truthSlot
            case .equalsString, .notEqualsString:
                step.kind = .equalsString
                step.negated = instruction.opcode == .notEqualsString
                (step.first, step.count) = (instruction.y, instruction.z)
            case .inStrings, .notInStrings:
                step.negated = instruction.opcode == .notInStrings
                let set = ranges[Int(instruction.y)..<Int(instruction.y + instruction.z)]
                guard set.allSatisfy({ $0.length <= 16 }) else { break }
                step.kind = .inStrings
                (step.first, step.count) = keySet(set)
                for (_, length) in set { step.payload |= 1 << UInt64(length) }
            case .stringInField:
                guard let (group, bit) = probe(slot: instruction.x, instruction.y, instruction.z) else { break }
                step.kind = .probeList
                step.first = Int32(group)
                step.payload = UInt64(bit)
            case .compareNumber:
                let kinds: [Step.Kind] = [
                    .numberEqual, .numberNotEqual, .numberLess, .numberLessEqual, .numberGreater, .numberGreaterEqual,
                ]
                step.kind = kinds[Int(instruction.y)]
                step.payload = instruction.number.bitPattern
            case .fieldMatches:
                literals(instruction, into: &step)
            case .compare:
                equality(instruction, into: &step)
            default:
                break
            }
            return step
        }

        /// Makes `step` an ``Step/Kind/equalsNull`` or ``Step/Kind/equalsBool`` step when its instruction compares
        /// a field with `null` or a boolean by `==` or `!=`, in either order (deep equality is symmetric), or a
        /// ``Step/Kind/startsWith`` or ``Step/Kind/endsWith`` step for a field and a string; leaves it general
        /// otherwise.
        mutating func equality(_ instruction: Instruction, into step: inout Step) {
            let op = BinaryOperator.allCases[Int(instruction.z)]
            let (left, right) = (instructions[Int(instruction.x)], instructions[Int(instruction.y)])
            if op == .startsWith || op == .endsWith, left.opcode == .slot, right.opcode == .constant,
                case .string(let text) = constants[Int(right.x)]
            {
                step.kind = op == .startsWith ? .startsWith : .endsWith
                step.slot = left.x
                (step.first, step.count) = (Int32(pool.count), Int32(text.utf8.count))
                pool += text.utf8
                return
            }
            guard op == .equal || op == .notEqual else { return }
            let slot: Int32
            let constant: Value
            if left.opcode == .slot, right.opcode == .constant {
                (slot, constant) = (left.x, constants[Int(right.x)])
            } else if left.opcode == .constant, right.opcode == .slot {
                (slot, constant) = (right.x, constants[Int(left.x)])
            } else {
                return
            }
            switch constant {
            case .null: step.kind = .equalsNull
            case .bool(let flag): (step.kind, step.payload) = (.equalsBool, flag ? 1 : 0)
            default: return
            }
            step.slot = slot
            step.negated = op == .notEqual
        }

        /// The probe group of list slot `slot` and the bit of the pool string `offset, length` in it, nil when the
        /// group is full.
        mutating func probe(slot: Int32, _ offset: Int32, _ length: Int32) -> (group: Int, bit: Int)? {
            let group: Int
            if let known = groupOfSlot[slot] {
                group = known
            } else {
                group = probeGroups.count
                groupOfSlot[slot] = group
                probeGroups.append(ProbeGroup(slot: slot, first: 0, count: 0))
                groupStrings.append([:])
                groupRanges.append([])
            }
            let bytes = Array(pool[Int(offset)..<Int(offset + length)])
            if let bit = groupStrings[group][bytes] { return (group, bit) }
            guard groupStrings[group].count < maxProbes else { return nil }
            let bit = groupStrings[group].count
            groupStrings[group][bytes] = bit
            groupRanges[group].append((offset, length))
            return (group, bit)
        }

        /// Makes `step` a ``Step/Kind/suffixes`` or ``Step/Kind/substrings`` step when its regex is literals of a
        /// shape those match (case-sensitive; for `$`, at most sixteen bytes each; unanchored, two bytes or more
        /// and at most eight literals); leaves it general otherwise.
        mutating func literals(_ instruction: Instruction, into step: inout Step) {
            guard instruction.literalCount > 0, !instruction.literalsCaseless, !instruction.literalsAtStart else {
                return
            }
            let literals = ranges[Int(instruction.z)..<(Int(instruction.z) + instruction.literalCount)]
            if instruction.literalsAtEnd {
                guard literals.allSatisfy({ $0.length >= 1 && $0.length <= 16 }) else { return }
                step.kind = .suffixes
            } else {
                guard literals.count <= 8, literals.allSatisfy({ $0.length >= 2 }) else { return }
                step.kind = .substrings
            }
            (step.first, step.count) = keys(literals)
        }

        /// The key of the pool string at `offset` (at most sixteen bytes).
        func key(_ offset: Int32, _ length: Int32) -> LiteralKey {
            pool.withUnsafeBytes { pool in
                let bytes = pool.baseAddress! + Int(offset)
                let count = Int(length)
                return count < 8
                    ? LiteralKey(offset: offset, length: length, head: shortKey(bytes, count), tail: 0)
                    : LiteralKey(
                        offset: offset, length: length, head: bytes.loadUnaligned(as: UInt64.self),
                        tail: bytes.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self))
            }
        }

        /// Appends the keys of pool strings of at most sixteen bytes to ``literalKeys``, in order; returns where they
        /// start and how many there are.
        mutating func keys(_ strings: ArraySlice<(offset: Int32, length: Int32)>) -> (Int32, Int32) {
            let first = Int32(literalKeys.count)
            literalKeys += strings.map { key($0.offset, $0.length) }
            return (first, Int32(strings.count))
        }

        /// Appends a hash table of the keys of pool strings of at most sixteen bytes to ``literalKeys`` (see
        /// ``LiteralKey/slot(length:head:tail:in:)``); returns where it starts and its size, a power of two.
        mutating func keySet(_ strings: ArraySlice<(offset: Int32, length: Int32)>) -> (Int32, Int32) {
            var size = 4
            while size < 2 * strings.count { size *= 2 }
            var table = Array(repeating: LiteralKey.empty, count: size)
            for (offset, length) in strings {
                let key = key(offset, length)
                var slot = LiteralKey.slot(length: key.length, head: key.head, tail: key.tail, in: size)
                while table[slot].length >= 0 && !table[slot].matches(key.length, key.head, key.tail) {
                    slot = (slot + 1) & (size - 1)
                }
                table[slot] = key
            }
            let first = Int32(literalKeys.count)
            literalKeys += table
            return (first, Int32(size))
        }

        /// The probe groups and their strings, laid out flat, once every rule is planned.
        func finish() -> (groups: [ProbeGroup], strings: [(offset: Int32, length: Int32)]) {
            var groups = probeGroups
            var strings: [(offset: Int32, length: Int32)] = []
            for group in groups.indices {
                groups[group].first = Int32(strings.count)
                groups[group].count = Int32(groupRanges[group].count)
                for (_, length) in groupRanges[group] { groups[group].lengths |= 1 << UInt64(min(length, 63)) }
                strings += groupRanges[group]
            }
            return (groups, strings)
        }
    }
}
