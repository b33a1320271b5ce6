import RolecallLanguage
import RolecallRegex

/// A rule set compiled for evaluation: immutable, `Sendable`, shared by every evaluator.
///
/// Compiling resolves everything that can be resolved before an event arrives: each event field the rules read
/// gets a slot (the event reader fills slots in one pass, skipping everything else), role names become
/// indices, regexes are compiled, and common comparisons become specialised nodes that compare bytes.
public final class Program: @unchecked Sendable {
    // @unchecked: the field table below is allocated and filled in `init`, never written afterwards, and freed
    // in `deinit`; every other stored property is an immutable Sendable value.

    /// One compiled rule.
    struct CompiledRule: Sendable {
        var name: String
        var condition: Node?
        var effects: [(role: Int, assign: Bool)]
        var stops: Bool
        var file: SourceFile
        var span: Span
    }

    /// A node of the field tree the event reader walks: the slot this field fills, and where its children are
    /// in ``keys`` and ``indices``. Plain integers, so the reader touches no reference counts.
    struct FieldNode {
        var slot = -1
        var firstKey = 0
        var keyCount = 0
        var firstIndex = 0
        var indexCount = 0
    }

    /// A key below an object field: its bytes in ``keyPool`` and the child node.
    struct FieldKey {
        var offset: Int
        var length: Int
        var node: Int
    }

    /// An index below a list field and the child node.
    struct FieldIndex {
        var index: Int
        var node: Int
    }

    /// A field-tree node while compiling.
    struct BuildNode {
        var slot = -1
        var keys: [FieldKey] = []
        var indices: [FieldIndex] = []
    }

    let rules: [CompiledRule]
    /// Role names by index; decisions refer to roles by these indices until output.
    let roleNames: [String]
    /// The field tree; node 0 is the event itself.
    let fields: UnsafeMutableBufferPointer<FieldNode>
    /// The children of every object field, node by node.
    let keys: UnsafeMutableBufferPointer<FieldKey>
    /// The children of every list field, node by node.
    let indices: UnsafeMutableBufferPointer<FieldIndex>
    /// The UTF-8 bytes of every key in the field tree, back to back.
    let keyPool: UnsafeMutableBufferPointer<UInt8>
    /// How many slots an evaluator needs.
    let slotCount: Int
    /// The slot of `authorization.roles`, which every decision reads.
    let currentRolesSlot: Int
    /// Every role name and rule name as a JSON string literal, back to back, for writing decisions with memcpy.
    let namePool: UnsafeMutableBufferPointer<UInt8>
    /// Where each role's JSON literal is in ``namePool``.
    let roleJSON: UnsafeMutableBufferPointer<(offset: Int32, length: Int32)>
    /// Where each rule name's JSON literal is in ``namePool``.
    let ruleNameJSON: UnsafeMutableBufferPointer<(offset: Int32, length: Int32)>
    /// An upper bound on the bytes of a decision line written by the fast path.
    let maxDecisionBytes: Int
    /// The flat instruction table, its spans, and what its instructions refer to (see ``Instruction``).
    let instructions: UnsafeMutableBufferPointer<Instruction>
    let instructionSpans: [Span]
    let pool: UnsafeMutableBufferPointer<UInt8>
    let poolRanges: UnsafeMutableBufferPointer<(offset: Int32, length: Int32)>
    let regexes: [CompiledRegex]
    let regexCodes: UnsafeMutableBufferPointer<Unmanaged<CompiledRegex>>
    let generalNodes: [Node]
    /// Per rule: the root instruction of its condition (-1: always fires), its effects, whether it stops.
    let ruleRoots: UnsafeMutableBufferPointer<Int32>
    let ruleEffects: UnsafeMutableBufferPointer<(start: Int32, count: Int32)>
    let effects: UnsafeMutableBufferPointer<(role: Int32, assign: Bool)>
    let ruleStops: UnsafeMutableBufferPointer<Bool>
    /// Event nesting deeper than this is rejected.
    public let maxDepth: Int

    /// Compiles a checked rule set. The rule set must have no errors.
    public init(_ checked: CheckedRuleSet, maxDepth: Int = 512) {
        precondition(!checked.hasErrors, "a rule set with errors cannot be compiled")
        var builder = Builder()
        let currentRoles = builder.slot(for: [.key("authorization", span: Span(0, 0)), .key("roles", span: Span(0, 0))])
        var compiled: [CompiledRule] = []
        for rule in checked.rules {
            let condition = rule.condition.map { builder.compile($0) }
            let effects = rule.effects.map { (role: builder.role($0.role), assign: $0.assign) }
            compiled.append(
                CompiledRule(
                    name: rule.name, condition: condition, effects: effects, stops: rule.stops, file: rule.rule.file,
                    span: rule.rule.span))
        }
        self.rules = compiled
        var lowered = Lowered()
        var roots: [Int32] = []
        var effectRanges: [(start: Int32, count: Int32)] = []
        var flatEffects: [(role: Int32, assign: Bool)] = []
        for rule in compiled {
            roots.append(rule.condition.map { lowered.lower($0) } ?? -1)
            effectRanges.append((Int32(flatEffects.count), Int32(rule.effects.count)))
            flatEffects += rule.effects.map { (Int32($0.role), $0.assign) }
        }
        self.instructions = ownedCopy(lowered.instructions)
        self.instructionSpans = lowered.spans
        self.pool = ownedCopy(lowered.pool)
        self.poolRanges = ownedCopy(lowered.ranges)
        self.regexes = lowered.regexes
        self.regexCodes = ownedCopy(lowered.regexes.map { Unmanaged.passUnretained($0) })
        self.generalNodes = lowered.generalNodes
        self.ruleRoots = ownedCopy(roots)
        self.ruleEffects = ownedCopy(effectRanges)
        self.effects = ownedCopy(flatEffects)
        self.ruleStops = ownedCopy(compiled.map(\.stops))
        self.roleNames = builder.roles
        (self.fields, self.keys, self.indices) = Program.flatten(builder.fields)
        self.keyPool = .allocate(capacity: max(1, builder.keyPool.count))
        _ = self.keyPool.initialize(from: builder.keyPool)
        self.slotCount = builder.slotCount
        self.currentRolesSlot = currentRoles
        self.maxDepth = maxDepth
        var names: [UInt8] = []
        func pooled(_ text: String) -> (offset: Int32, length: Int32) {
            let bytes = Array(JSONText.quote(text).utf8)
            defer { names += bytes }
            return (Int32(names.count), Int32(bytes.count))
        }
        self.roleJSON = ownedCopy(builder.roles.map(pooled))
        self.ruleNameJSON = ownedCopy(compiled.map { pooled($0.name) })
        self.namePool = ownedCopy(names)
        // Each role at most three times (assign, roles, and revoke excludes assign), each rule once, separators,
        // and the fixed keys.
        self.maxDecisionBytes = 3 * (names.count + builder.roles.count + compiled.count) + 128
    }

    deinit {
        // Every buffer holds plain data (`regexCodes` holds unretained references; `regexes` owns them).
        instructions.deallocate()
        pool.deallocate()
        poolRanges.deallocate()
        regexCodes.deallocate()
        ruleRoots.deallocate()
        ruleEffects.deallocate()
        effects.deallocate()
        ruleStops.deallocate()
        namePool.deallocate()
        roleJSON.deallocate()
        ruleNameJSON.deallocate()
        fields.deallocate()
        keys.deallocate()
        indices.deallocate()
        keyPool.deallocate()
    }

    /// Lays the field tree out in three flat buffers.
    static func flatten(_ nodes: [BuildNode]) -> (
        UnsafeMutableBufferPointer<FieldNode>, UnsafeMutableBufferPointer<FieldKey>,
        UnsafeMutableBufferPointer<FieldIndex>
    ) {
        var flat: [FieldNode] = []
        var keys: [FieldKey] = []
        var indices: [FieldIndex] = []
        for node in nodes {
            flat.append(
                FieldNode(
                    slot: node.slot, firstKey: keys.count, keyCount: node.keys.count, firstIndex: indices.count,
                    indexCount: node.indices.count))
            keys += node.keys
            indices += node.indices
        }
        return (ownedCopy(flat), ownedCopy(keys), ownedCopy(indices))
    }

    /// The number of rules.
    public var ruleCount: Int { rules.count }

    /// Collects slots, roles and the field tree while compiling.
    struct Builder {
        var fields = [BuildNode()]
        var keyPool: [UInt8] = []
        var slotCount = 0
        var roles: [String] = []
        var roleIndex: [String: Int] = [:]

        mutating func role(_ name: String) -> Int {
            if let index = roleIndex[name] { return index }
            roles.append(name)
            roleIndex[name] = roles.count - 1
            return roles.count - 1
        }

        /// The child of a field-tree node under a key or an index, so finding one is a hash lookup rather than a
        /// scan of its siblings (an object may have thousands of fields that rules read). Keys are compared as
        /// bytes, as the event reader compares them: `String` equality would merge `é` with `e` and a combining
        /// accent, two different JSON keys.
        enum Child: Hashable {
            case key(node: Int, name: [UInt8])
            case index(node: Int, index: Int)
        }
        var children: [Child: Int] = [:]

        mutating func slot(for path: [PathSegment]) -> Int {
            var node = 0
            for segment in path {
                let child: Child
                switch segment {
                case .key(let name, _): child = .key(node: node, name: Array(name.utf8))
                case .index(let index, _): child = .index(node: node, index: index)
                }
                if let existing = children[child] {
                    node = existing
                    continue
                }
                fields.append(BuildNode())
                let next = fields.count - 1
                switch child {
                case .key(_, let bytes):
                    fields[node].keys.append(FieldKey(offset: keyPool.count, length: bytes.count, node: next))
                    keyPool += bytes
                case .index(_, let index):
                    fields[node].indices.append(FieldIndex(index: index, node: next))
                }
                children[child] = next
                node = next
            }
            if fields[node].slot >= 0 { return fields[node].slot }
            let slot = slotCount
            fields[node].slot = slot
            slotCount += 1
            return slot
        }

        mutating func compile(_ expr: CheckedExpr) -> Node {
            var node = Node(kind: kind(expr), span: expr.span)
            // Remember which operands a trace should show: the ones that are not written-out constants.
            func shown(_ operand: CheckedExpr) -> Span? {
                if case .constant = operand.kind { return nil }
                return operand.span
            }
            switch expr.kind {
            case .compare(_, let left, let right): node.shownOperands = (shown(left), shown(right))
            case .matches(let subject, _): node.shownOperands = (shown(subject), nil)
            default: node.shownOperands = (expr.span, nil)
            }
            return node
        }

        mutating func kind(_ expr: CheckedExpr) -> Node.Kind {
            switch expr.kind {
            case .constant(let value): return .constant(Value(value))
            case .path(let segments): return .slot(slot(for: segments))
            case .list(let items): return .list(items.map { compile($0) })
            case .call(let function, let argument): return .call(function, compile(argument))
            case .not(let operand): return .not(compile(operand))
            case .negate(let operand): return .negate(compile(operand))
            case .and(let left, let right): return .and(compile(left), compile(right))
            case .or(let left, let right): return .or(compile(left), compile(right))
            case .matches(let subject, let regex): return .matches(compile(subject), regex)
            case .compare(let op, let left, let right):
                return specialised(op, left, right) ?? .compare(op, compile(left), compile(right))
            }
        }

        /// Byte-comparing forms of the comparisons rules use most: a field against a string, a string list or
        /// a number, and a string constant looked up in a list field.
        mutating func specialised(_ op: BinaryOperator, _ left: CheckedExpr, _ right: CheckedExpr) -> Node.Kind? {
            switch (op, left.kind, right.kind) {
            case (.equal, .path(let path), .constant(.string(let text))),
                (.notEqual, .path(let path), .constant(.string(let text))):
                return .fieldEqualsString(slot(for: path), Array(text.utf8), negated: op == .notEqual)
            case (.in, .path(let path), .constant(.list(let items))),
                (.notIn, .path(let path), .constant(.list(let items))):
                let strings = items.compactMap { item -> [UInt8]? in
                    if case .string(let text) = item { return Array(text.utf8) }
                    return nil
                }
                guard strings.count == items.count else { return nil }
                return .fieldInStrings(slot(for: path), strings, negated: op == .notIn)
            case (.in, .constant(.string(let text)), .path(let path)):
                return .stringInField(Array(text.utf8), slot(for: path))
            case (.contains, .path(let path), .constant(.string(let text))):
                return .fieldContainsString(slot(for: path), Array(text.utf8))
            case (_, .path(let path), .constant(.number(let number)))
            where [.equal, .notEqual, .less, .lessEqual, .greater, .greaterEqual].contains(op):
                return .fieldCompareNumber(op, slot(for: path), number)
            default:
                return nil
            }
        }
    }
}

/// A compiled expression node.
struct Node: Sendable {
    indirect enum Kind: Sendable {
        case constant(Value)
        case slot(Int)
        case list([Node])
        case call(Function, Node)
        case not(Node)
        case negate(Node)
        case and(Node, Node)
        case or(Node, Node)
        case compare(BinaryOperator, Node, Node)
        case matches(Node, CompiledRegex)
        // Specialised comparisons; each has exactly the semantics of the general `compare` it replaces.
        case fieldEqualsString(Int, [UInt8], negated: Bool)
        case fieldInStrings(Int, [[UInt8]], negated: Bool)
        case stringInField([UInt8], Int)
        case fieldContainsString(Int, [UInt8])
        case fieldCompareNumber(BinaryOperator, Int, Double)
    }

    var kind: Kind
    var span: Span
    /// The spans of the operands a trace shows the values of (fields and calls, not literals).
    var shownOperands: (left: Span?, right: Span?) = (nil, nil)

    /// Whether the node is an operand (a field, call or constant) rather than a comparison or connective.
    var isOperand: Bool {
        switch kind {
        case .constant, .slot, .list, .call, .negate: true
        default: false
        }
    }
}
