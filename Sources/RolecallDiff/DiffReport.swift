import RolecallEngine
import RolecallLanguage

/// What a rule change does to a set of logins: the aggregate `rules diff` prints.
///
/// A report covers a run of consecutive input lines. Reports of consecutive runs merge (``merge(_:)``) into the
/// report of the whole input, equal to the one a single pass would build, which is how `--jobs` splits the
/// work and still prints the same report.
public struct DiffReport: Sendable {
    /// How a role's presence in the decision's `roles` changed: the events on which the new rules give it and the
    /// old did not, and the reverse.
    public struct RoleChange: Sendable, Equatable {
        /// Events whose new `roles` hold the role and whose old `roles` do not.
        public var gained = 0
        /// Events whose old `roles` hold the role and whose new `roles` do not.
        public var lost = 0
    }

    /// One changed event, kept as an example of its kind of change.
    public struct Example: Sendable {
        /// The 1-based input line.
        public var line: Int
        /// The event's `user.user_id`, when it is a string.
        public var userID: String?
        /// The kind of change: the roles gained and lost (`+contractor -staff`), or a change of `assign` or
        /// `revoke` only.
        public var kind: String
        /// The decision of the old rules.
        public var before: Decision
        /// The decision of the new rules.
        public var after: Decision
        /// The lines of the two traces that differ: `- ` before only, `+ ` after only, a rule's header as context.
        public var why: [String]
    }

    /// Events compared (valid under both rule sets).
    public var events = 0
    /// Input lines that were not valid events under one rule set or both.
    public var invalid = 0
    /// The distinct `user.user_id`s among the events, as 64-bit FNV-1a hashes of their bytes: eight bytes a user
    /// whatever the id's length, and cheap to merge (two ids colliding among a billion users is unlikely).
    public var users: Set<UInt64> = []
    /// Events whose `roles`, `assign` or `revoke` differ (as sets).
    public var changed = 0
    /// Per role, how its presence in `roles` changed; roles that never changed are absent. By the role's bytes
    /// (``ExactString``): `"caf\u{E9}"` and `"cafe\u{301}"` are two roles, counted apart.
    public var roles: [ExactString: RoleChange] = [:]
    /// Per rule of the old set (by index), the events on which it fired.
    public var firedBefore: [Int]
    /// Per rule of the new set (by index), the events on which it fired.
    public var firedAfter: [Int]
    /// Per rule of the old set (by index), the events on which its condition failed to evaluate.
    public var failedBefore: [Int]
    /// Per rule of the new set (by index), the events on which its condition failed to evaluate.
    public var failedAfter: [Int]
    /// Up to the example limit of changed events per kind of change, in input order, for the first
    /// ``maxExampleKinds`` kinds met.
    public var examples: [Example] = []
    /// How many examples each kind may keep.
    public let examplesPerKind: Int
    /// Per kind of change met: how many examples it has, or -1 for a kind past ``maxExampleKinds``.
    /// By the kind's bytes, as its role names: `+caf\u{E9}` and `+cafe\u{301}` are two kinds.
    var exampleCounts: [ExactString: Int] = [:]
    /// Kinds of change met after the first ``maxExampleKinds``, which keep no examples.
    public var kindsWithoutExamples = 0
    /// Whether this report holds a part of the input for ``merge(_:)`` (every kind it meets, in order, with
    /// examples; the whole report applies the limit on kinds as it merges) rather than the whole.
    let isPart: Bool
    /// For a part: the kinds of change in the order met.
    var kindOrder: [String] = []
    /// The most kinds of change that keep examples: when every event changes its own way (each user's own
    /// roles revoked), the report stays readable and its size bounded.
    public static let maxExampleKinds = 50

    /// An empty report for rule sets of `beforeRules` and `afterRules` rules; `part`: of a run of lines that
    /// will be merged into the whole report.
    public init(beforeRules: Int, afterRules: Int, examplesPerKind: Int, part: Bool = false) {
        firedBefore = Array(repeating: 0, count: beforeRules)
        firedAfter = Array(repeating: 0, count: afterRules)
        failedBefore = Array(repeating: 0, count: beforeRules)
        failedAfter = Array(repeating: 0, count: afterRules)
        self.examplesPerKind = examplesPerKind
        self.isPart = part
    }

    /// Notes a kind of change met; a new kind past ``maxExampleKinds`` keeps no examples (a part keeps all).
    mutating func meet(_ kind: String) {
        guard exampleCounts[ExactString(kind)] == nil else { return }
        if isPart || exampleCounts.count - kindsWithoutExamples < DiffReport.maxExampleKinds {
            exampleCounts[ExactString(kind)] = 0
        } else {
            exampleCounts[ExactString(kind)] = -1
            kindsWithoutExamples += 1
        }
        if isPart { kindOrder.append(kind) }
    }

    /// Whether one more example of `kind` (met already) would be kept.
    func wantsExample(of kind: String) -> Bool {
        guard let count = exampleCounts[ExactString(kind)], count >= 0 else { return false }
        return count < examplesPerKind
    }

    /// Keeps `example`.
    mutating func keep(_ example: Example) {
        exampleCounts[ExactString(example.kind), default: 0] += 1
        examples.append(example)
    }

    /// Adds the report of the lines that follow this report's.
    public mutating func merge(_ later: DiffReport) {
        events += later.events
        invalid += later.invalid
        users.formUnion(later.users)
        changed += later.changed
        for (role, change) in later.roles {
            roles[role, default: RoleChange()].gained += change.gained
            roles[role, default: RoleChange()].lost += change.lost
        }
        for index in firedBefore.indices { firedBefore[index] += later.firedBefore[index] }
        for index in firedAfter.indices { firedAfter[index] += later.firedAfter[index] }
        for index in failedBefore.indices { failedBefore[index] += later.failedBefore[index] }
        for index in failedAfter.indices { failedAfter[index] += later.failedAfter[index] }
        // The later part's kinds in the order it met them, then its examples in input order: what one pass
        // over both runs would have kept.
        for kind in later.kindOrder { meet(kind) }
        for example in later.examples where wantsExample(of: example.kind) { keep(example) }
    }
}
