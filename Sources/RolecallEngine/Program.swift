import RolecallJSON
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

    /// One compiled rule: what reports and traces need to know about it (its condition is in the instruction
    /// table, rooted at ``ruleRoots``).
    struct CompiledRule: Sendable {
        var name: String
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
        /// The node every element of this list is read with (the list of an `any`/`all`), or -1.
        var every = -1
        /// Whether the value is read as a whole, so everything inside it is checked as what is read is: a field
        /// a rule compares or passes on whole. A quantified list is not, unless something also reads it whole:
        /// its elements are checked through ``every``.
        var whole = false
        /// Whether this node is the ``every`` node of a list: each element is bound to a name, so an element
        /// that is not an object or a list is read (checked) like a field.
        var element = false
        /// For an ``every`` node: its descendants in ``Program/subtrees``, whose "seen" marks are cleared before
        /// each element.
        var firstDescendant = 0
        var descendantCount = 0
        /// Bit `n % 64` set for each child key `n` bytes long: a key whose length has no bit names no child,
        /// found with one test instead of a pass over the candidates (most keys of an object the rules read name
        /// no child).
        var keyLengthBits: UInt64 = 0
    }

    /// A key below an object field: its bytes in ``keyPool`` and the child node.
    struct FieldKey {
        var offset: Int
        var length: Int
        var node: Int
        /// The key's first eight bytes (little-endian, zero past its end), so the reader compares a short key
        /// with one integer comparison.
        var prefix: UInt64 = 0
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
        var every = -1
        var whole = false
        var element = false
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
    /// The descendants of every ``FieldNode/every`` node, node by node.
    let subtrees: UnsafeMutableBufferPointer<Int>
    /// How many slots an evaluator needs.
    let slotCount: Int
    /// The slot of `authorization.roles`, which every decision reads.
    let currentRolesSlot: Int
    /// The slot of `user.user_id`, which every decision carries for the planner.
    let userIDSlot: Int
    /// The slot of the top-level `rolecall_now`, the clock a replayed event was decided with (see
    /// ``Evaluator/clockFromEvent``).
    let clockSlot: Int
    /// Every role name and rule name as a JSON string literal, back to back, for writing decisions with memcpy.
    let namePool: UnsafeMutableBufferPointer<UInt8>
    /// Where each role's JSON literal is in ``namePool``.
    let roleJSON: UnsafeMutableBufferPointer<(offset: Int32, length: Int32)>
    /// Where each rule name's JSON literal is in ``namePool``.
    let ruleNameJSON: UnsafeMutableBufferPointer<(offset: Int32, length: Int32)>
    /// An upper bound on the bytes of a decision line written by the fast path.
    let maxDecisionBytes: Int
    /// The instruction table (see ``Instruction``), one span per instruction, and what instructions refer to:
    /// the operands of n-ary instructions, a byte pool of string constants and ranges into it, constant values,
    /// regexes, and (for traces only) the spans of the operands a trace shows.
    let instructions: UnsafeMutableBufferPointer<Instruction>
    let instructionSpans: [Span]
    /// Per instruction: the file of its span when that is not its rule's file (inside a `let` expansion).
    let instructionFiles: [SourceFile?]
    /// The names of `let` uses, for traces and errors.
    let bindingNames: [String]
    /// Path segments below locals (see ``Instruction/Opcode/local``).
    let localSegments: UnsafeMutableBufferPointer<(offset: Int32, length: Int32)>
    /// How many locals an evaluator needs (the deepest nesting of `any`/`all`).
    let localCount: Int
    /// The name each quantifier instruction binds (for traces).
    let quantifierNames: [Int32: String]
    /// How many `let`s the rules use: an evaluation computes each at most once.
    let bindingCount: Int
    /// Per rule: its `revoke all` exceptions in ``revokeExcept`` (`start` -1: the rule has no `revoke all`).
    let ruleRevokeAll: UnsafeMutableBufferPointer<(start: Int32, count: Int32)>
    let revokeExcept: UnsafeMutableBufferPointer<Int32>
    /// Role indices by name (by bytes, see ``ExactString``), for the user's current roles that `revoke all` removes.
    let roleIndex: [ExactString: Int32]
    let shownOperands: [(left: Span?, right: Span?)]
    let operands: UnsafeMutableBufferPointer<Int32>
    let pool: UnsafeMutableBufferPointer<UInt8>
    let poolRanges: UnsafeMutableBufferPointer<(offset: Int32, length: Int32)>
    let constants: [Value]
    let regexes: [CompiledRegex]
    let regexCodes: UnsafeMutableBufferPointer<Unmanaged<CompiledRegex>>
    /// Per rule: the root instruction of its condition (-1: always fires), its effects, whether it stops.
    let ruleRoots: UnsafeMutableBufferPointer<Int32>
    let ruleEffects: UnsafeMutableBufferPointer<(start: Int32, count: Int32)>
    let effects: UnsafeMutableBufferPointer<(role: Int32, assign: Bool)>
    let ruleStops: UnsafeMutableBufferPointer<Bool>
    /// The plans decisions run (see ``Step``): per rule, its first step in ``steps``, then ``Step/end``; and what
    /// steps refer to: string constants as keys, the probe groups of `"x" in list` and their strings (pool
    /// ranges).
    let ruleStarts: UnsafeMutableBufferPointer<Int32>
    let steps: UnsafeMutableBufferPointer<Step>
    let literalKeys: UnsafeMutableBufferPointer<LiteralKey>
    let probeGroups: UnsafeMutableBufferPointer<ProbeGroup>
    let probeStrings: UnsafeMutableBufferPointer<(offset: Int32, length: Int32)>
    /// Event nesting deeper than this is rejected.
    public let maxDepth: Int

    /// Compiles a checked rule set. The rule set must have no errors.
    public convenience init(_ checked: CheckedRuleSet, maxDepth: Int = 512) {
        precondition(!checked.hasErrors, "a rule set with errors cannot be compiled")
        var compilation = Compilation(capacity: checked.rules.count)
        // Read in place, through the buffer: `for rule in checked.rules`, or a rule of the array passed on, would
        // copy the rule (a dozen reference counts, to memory a large rule set has long left in no cache).
        checked.rules.withUnsafeBufferPointer { rules in
            for index in rules.indices { compilation.add(rules[index]) }
        }
        self.init(compilation, maxDepth: maxDepth)
    }

    /// The program of the rules added to `compilation` (see ``Compilation``), in the order they were added.
    init(_ compilation: consuming Compilation, maxDepth: Int = 512) {
        let builder = compilation.builder
        let lowered = compilation.lowered
        let compiled = compilation.compiled
        let roots = compilation.roots
        let (effectRanges, flatEffects) = (compilation.effectRanges, compilation.flatEffects)
        let (revokeAll, except) = (compilation.revokeAll, compilation.except)
        let (currentRoles, userID, clock) = (compilation.currentRoles, compilation.userID, compilation.clock)
        self.rules = compiled
        var planner = Planner(lowered)
        self.ruleStarts = ownedCopy(planner.plan(roots, stops: compilation.stops))
        self.steps = ownedCopy(planner.steps)
        self.literalKeys = ownedCopy(planner.literalKeys)
        let (groups, probeStrings) = planner.finish()
        self.probeGroups = ownedCopy(groups)
        self.probeStrings = ownedCopy(probeStrings)
        self.instructions = ownedCopy(lowered.instructions)
        self.instructionSpans = lowered.spans
        self.instructionFiles = lowered.files
        self.bindingNames = lowered.bindingNames
        self.localSegments = ownedCopy(lowered.localSegments)
        self.localCount = lowered.localCount
        self.quantifierNames = lowered.quantifierNames
        self.bindingCount = lowered.bindings.count
        self.ruleRevokeAll = ownedCopy(revokeAll)
        self.revokeExcept = ownedCopy(except)
        self.shownOperands = lowered.shown
        self.operands = ownedCopy(lowered.operands)
        self.pool = ownedCopy(planner.pool)
        self.poolRanges = ownedCopy(lowered.ranges)
        self.constants = lowered.constants
        self.regexes = lowered.regexes
        self.regexCodes = ownedCopy(lowered.regexes.map { Unmanaged.passUnretained($0) })
        self.ruleRoots = ownedCopy(roots)
        self.ruleEffects = ownedCopy(effectRanges)
        self.effects = ownedCopy(flatEffects)
        self.ruleStops = ownedCopy(compilation.stops)
        self.roleNames = builder.roles
        self.roleIndex = builder.roleIndex
        (self.fields, self.keys, self.indices, self.subtrees) = Program.flatten(builder.fields)
        self.keyPool = .allocate(capacity: max(1, builder.keyPool.count))
        _ = self.keyPool.initialize(from: builder.keyPool)
        for index in keys.indices {
            let key = keys[index]
            for offset in 0..<min(8, key.length) {
                keys[index].prefix |= UInt64(builder.keyPool[key.offset + offset]) << (8 * offset)
            }
        }
        self.slotCount = builder.slotCount
        self.currentRolesSlot = currentRoles
        self.userIDSlot = userID
        self.clockSlot = clock
        self.maxDepth = maxDepth
        self.roleJSON = ownedCopy(compilation.roleJSON)
        self.ruleNameJSON = ownedCopy(compilation.ruleNameJSON)
        self.namePool = ownedCopy(compilation.names)
        // Each role at most three times (assign, roles, and revoke excludes assign), each rule once, separators,
        // and the fixed keys.
        self.maxDecisionBytes = 3 * (compilation.names.count + builder.roles.count + compiled.count) + 128
    }

    deinit {
        // Every buffer holds plain data (`regexCodes` holds unretained references; `regexes` owns them).
        instructions.deallocate()
        localSegments.deallocate()
        ruleRevokeAll.deallocate()
        revokeExcept.deallocate()
        operands.deallocate()
        pool.deallocate()
        poolRanges.deallocate()
        regexCodes.deallocate()
        ruleRoots.deallocate()
        ruleEffects.deallocate()
        effects.deallocate()
        ruleStops.deallocate()
        ruleStarts.deallocate()
        steps.deallocate()
        literalKeys.deallocate()
        probeGroups.deallocate()
        probeStrings.deallocate()
        namePool.deallocate()
        roleJSON.deallocate()
        ruleNameJSON.deallocate()
        fields.deallocate()
        keys.deallocate()
        indices.deallocate()
        keyPool.deallocate()
        subtrees.deallocate()
    }

    /// Lays the field tree out in flat buffers, written in place (an array copied into a buffer would be written
    /// twice, and read back once more).
    static func flatten(_ nodes: [BuildNode]) -> (
        UnsafeMutableBufferPointer<FieldNode>, UnsafeMutableBufferPointer<FieldKey>,
        UnsafeMutableBufferPointer<FieldIndex>, UnsafeMutableBufferPointer<Int>
    ) {
        nodes.withUnsafeBufferPointer { nodes in
            var keyCount = 0
            var indexCount = 0
            for node in nodes.indices {
                keyCount += nodes[node].keys.count
                indexCount += nodes[node].indices.count
            }
            let flat = UnsafeMutableBufferPointer<FieldNode>.allocate(capacity: max(1, nodes.count))
            let keys = UnsafeMutableBufferPointer<FieldKey>.allocate(capacity: max(1, keyCount))
            let indices = UnsafeMutableBufferPointer<FieldIndex>.allocate(capacity: max(1, indexCount))
            var nextKey = 0
            var nextIndex = 0
            for position in nodes.indices {
                let node = nodes[position]
                flat.initializeElement(
                    at: position,
                    to: FieldNode(
                        slot: node.slot, firstKey: nextKey, keyCount: node.keys.count, firstIndex: nextIndex,
                        indexCount: node.indices.count, every: node.every,
                        // A list read both element by element and at fixed indices is read whole: the element at
                        // a fixed index is walked with its own node, which does not know the keys the others read.
                        whole: node.whole || (node.every >= 0 && !node.indices.isEmpty), element: node.element,
                        keyLengthBits: node.keys.reduce(0) { $0 | 1 << UInt64($1.length & 63) }))
                for key in node.keys {
                    keys.initializeElement(at: nextKey, to: key)
                    nextKey += 1
                }
                for index in node.indices {
                    indices.initializeElement(at: nextIndex, to: index)
                    nextIndex += 1
                }
            }
            var subtrees: [Int] = []
            for position in nodes.indices where flat[position].every >= 0 {
                let every = flat[position].every
                flat[every].firstDescendant = subtrees.count
                var stack = [every]
                while let current = stack.popLast() {
                    let node = nodes[current]
                    let children =
                        node.keys.map(\.node) + node.indices.map(\.node) + (node.every >= 0 ? [node.every] : [])
                    subtrees += children
                    stack += children
                }
                flat[every].descendantCount = subtrees.count - flat[every].firstDescendant
            }
            return (
                UnsafeMutableBufferPointer(start: flat.baseAddress, count: nodes.count),
                UnsafeMutableBufferPointer(start: keys.baseAddress, count: keyCount),
                UnsafeMutableBufferPointer(start: indices.baseAddress, count: indexCount), ownedCopy(subtrees)
            )
        }
    }

    /// The top-level event field that carries a replayed event's clock (RFC 3339): `rules log export` writes it
    /// with the clock the server decided with, and batch replays read it (see ``Evaluator/clockFromEvent``).
    public static let clockField = "rolecall_now"

    /// The number of rules.
    public var ruleCount: Int { rules.count }

    /// Collects slots, roles and the field tree while compiling.
    struct Builder {
        var fields = [BuildNode()]
        var keyPool: [UInt8] = []
        var slotCount = 0
        var roles: [String] = []
        /// Role indices by name, as ``Program/roleIndex`` keeps them (built here, not converted: at 64,000 roles
        /// a second table is megabytes, filled by reading back the first).
        var roleIndex: [ExactString: Int32] = [:]

        mutating func role(_ name: String) -> Int {
            if let index = roleIndex[ExactString(name)] { return Int(index) }
            roles.append(name)
            roleIndex[ExactString(name)] = Int32(roles.count - 1)
            return roles.count - 1
        }

        /// The child of each field-tree node under each key or index, so finding one is a hash lookup rather
        /// than a scan of its siblings (an object may have thousands of fields that rules read), by the hash of
        /// the parent node and the key's bytes (or the index). Keys are compared as bytes, as the event reader
        /// compares them: `String` equality would merge `é` with `e` and a combining accent, two different JSON
        /// keys.
        var children = HashIndex()
        /// Per node: its parent (-1 for the event itself), and the key it is under (as bytes in ``keyPool``,
        /// from `keyOffsets[n]`, `keyLengths[n]` long) or its index (`keyOffsets[n]` -1, the index in
        /// `keyLengths[n]`).
        var parents = [-1]
        var keyOffsets = [-1]
        var keyLengths = [0]

        /// The slot of the field at `path`, read whole.
        mutating func slot(for path: [PathSegment]) -> Int {
            slot(at: node(for: path), whole: true)
        }

        /// The slot of field node `node`; `whole`: the value is read as a whole (see ``FieldNode/whole``).
        mutating func slot(at node: Int, whole: Bool) -> Int {
            if whole { fields[node].whole = true }
            if fields[node].slot >= 0 { return fields[node].slot }
            let slot = slotCount
            fields[node].slot = slot
            slotCount += 1
            return slot
        }

        /// The node of the field at `path` below node `start` (the event itself by default), created if need be.
        mutating func node(for path: [PathSegment], from start: Int = 0) -> Int {
            var node = start
            for segment in path {
                var hasher = Hasher()
                hasher.combine(node)
                var found: (value: Int, slot: Int)?
                switch segment {
                case .key(var name, _):
                    name.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
                    let hash = hasher.finalize()
                    found = children.find(hash) { child in
                        parents[child] == node && keyOffsets[child] >= 0
                            && keyPool[keyOffsets[child]..<(keyOffsets[child] + keyLengths[child])]
                                .elementsEqual(name.utf8)
                    }
                    if found == nil {
                        let next = add(below: node, hash: hash, keyOffset: keyPool.count, keyLength: name.utf8.count)
                        fields[node].keys.append(FieldKey(offset: keyPool.count, length: name.utf8.count, node: next))
                        keyPool += name.utf8
                        node = next
                        continue
                    }
                case .index(let index, _):
                    hasher.combine(-1)
                    hasher.combine(index)
                    let hash = hasher.finalize()
                    found = children.find(hash) { child in
                        parents[child] == node && keyOffsets[child] < 0 && keyLengths[child] == index
                    }
                    if found == nil {
                        let next = add(below: node, hash: hash, keyOffset: -1, keyLength: index)
                        fields[node].indices.append(FieldIndex(index: index, node: next))
                        node = next
                        continue
                    }
                }
                node = found!.value
            }
            return node
        }

        /// A new node below `parent`, under the key or index that `keyOffset` and `keyLength` say.
        mutating func add(below parent: Int, hash: Int, keyOffset: Int, keyLength: Int) -> Int {
            fields.append(BuildNode())
            parents.append(parent)
            keyOffsets.append(keyOffset)
            keyLengths.append(keyLength)
            children.insert(hash, fields.count - 1)
            return fields.count - 1
        }

        /// The node every element of list node `node` is read with, created if need be.
        mutating func every(of node: Int) -> Int {
            if fields[node].every >= 0 { return fields[node].every }
            fields.append(BuildNode(element: true))
            // Under no key or index: found through `every`, never through ``children``.
            parents.append(-2)
            keyOffsets.append(-1)
            keyLengths.append(0)
            fields[node].every = fields.count - 1
            return fields.count - 1
        }

        /// Marks node `node` as read whole (a bound element, or a field below one, used as a value).
        mutating func markWhole(_ node: Int) { fields[node].whole = true }
    }
}
