import RolecallJSON
import RolecallLanguage

extension Program {
    /// A program being compiled rule by rule: each checked rule is lowered to instructions, its effects to role
    /// indices and its fields to slots as it is added; the program's initializer lays the tables out once every rule
    /// is in.
    ///
    /// ``RuleEngine`` adds each rule while the checker has just checked it (``Checker/check(_:each:)``), so a
    /// large rule set is lowered while each rule is still in the processor's caches, and the checked rule is freed
    /// there too, rather than read back from memory (and freed) in passes of their own.
    struct Compilation {
        var builder = Builder()
        var lowered = Lowered()
        var compiled: [CompiledRule] = []
        /// Per rule: the root instruction of its condition (-1: always fires), its effects in ``flatEffects``,
        /// and its `revoke all` exceptions in ``except`` (start -1: none).
        var roots: [Int32] = []
        var effectRanges: [(start: Int32, count: Int32)] = []
        var flatEffects: [(role: Int32, assign: Bool)] = []
        var revokeAll: [(start: Int32, count: Int32)] = []
        var except: [Int32] = []
        /// Per rule: whether it stops.
        var stops: [Bool] = []
        /// Every role name and rule name as a JSON string literal (see ``Program/namePool``), pooled as each is
        /// met, and where each role's and each rule's is.
        var names: [UInt8] = []
        var roleJSON: [(offset: Int32, length: Int32)] = []
        var ruleNameJSON: [(offset: Int32, length: Int32)] = []
        /// The slots every decision reads: `authorization.roles`, `user.user_id` and the replay clock.
        let currentRoles: Int
        let userID: Int
        let clock: Int

        /// A compilation with room for about `capacity` rules (more may be added).
        init(capacity: Int) {
            // Room up front in the tables that grow with the rule set (a field and a role or two per rule is
            // common): growing a large hash table rehashes every entry into fresh memory, again at every doubling.
            builder.children = HashIndex(capacity: capacity + 16)
            builder.roleIndex.reserveCapacity(capacity + 16)
            currentRoles = builder.slot(for: [.key("authorization", span: Span(0, 0)), .key("roles", span: Span(0, 0))])
            userID = builder.slot(for: [.key("user", span: Span(0, 0)), .key("user_id", span: Span(0, 0))])
            clock = builder.slot(for: [.key(Program.clockField, span: Span(0, 0))])
            // And in the tables that grow by a few entries per rule: growing one copies it, into memory not
            // touched before, again at every doubling.
            builder.fields.reserveCapacity(capacity + 16)
            builder.parents.reserveCapacity(capacity + 16)
            builder.keyOffsets.reserveCapacity(capacity + 16)
            builder.keyLengths.reserveCapacity(capacity + 16)
            builder.roles.reserveCapacity(capacity)
            lowered.instructions.reserveCapacity(capacity)
            lowered.spans.reserveCapacity(capacity)
            lowered.files.reserveCapacity(capacity)
            lowered.shown.reserveCapacity(capacity)
            compiled.reserveCapacity(capacity)
            stops.reserveCapacity(capacity)
            roleJSON.reserveCapacity(capacity)
            // A rule's name and a role's, quoted, take a few dozen bytes; a string constant or two per rule.
            names.reserveCapacity(32 * capacity)
            lowered.pool.reserveCapacity(16 * capacity)
            ruleNameJSON.reserveCapacity(capacity)
            roots.reserveCapacity(capacity)
            effectRanges.reserveCapacity(capacity)
            flatEffects.reserveCapacity(capacity)
            revokeAll.reserveCapacity(capacity)
        }

        /// Lowers the next rule.
        mutating func add(_ rule: borrowing CheckedRule) {
            if let condition = rule.condition {
                roots.append(lowered.lower(condition, &builder))
            } else {
                roots.append(-1)
            }
            effectRanges.append((Int32(flatEffects.count), Int32(rule.effects.count)))
            for effect in rule.effects {
                flatEffects.append((Int32(builder.role(effect.role)), effect.assign))
            }
            if let excepted = rule.revokeAll {
                revokeAll.append((Int32(except.count), Int32(excepted.count)))
                except += excepted.map { Int32(builder.role($0)) }
            } else {
                revokeAll.append((-1, 0))
            }
            // The names pooled now, while the rule (and a role it names first) is in cache.
            while roleJSON.count < builder.roles.count { roleJSON.append(pooled(builder.roles[roleJSON.count])) }
            ruleNameJSON.append(pooled(rule.name))
            stops.append(rule.stops)
            compiled.append(
                CompiledRule(name: rule.name, stops: rule.stops, file: rule.rule.file, span: rule.rule.span))
        }

        /// Appends `text` to ``names`` as a JSON string literal; returns where it is.
        mutating func pooled(_ text: String) -> (offset: Int32, length: Int32) {
            let offset = names.count
            // JSONText.quote escapes only `"`, `\` and control characters: a name without any (nearly every
            // name) is its own bytes in quotes.
            if text.utf8.allSatisfy({ $0 >= 0x20 && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }) {
                names.append(UInt8(ascii: "\""))
                for byte in text.utf8 { names.append(byte) }
                names.append(UInt8(ascii: "\""))
            } else {
                names += JSONText.quote(text).utf8
            }
            return (Int32(offset), Int32(names.count - offset))
        }
    }
}
