import RolecallEngine
import RolecallLanguage

/// A `*.test.yaml` file: cases that evaluate the rule set in the suite's directory.
public struct TestSuite: Sendable {
    /// The suite's path.
    public var path: String
    /// The cases that could be read.
    public var cases: [TestCase]
    /// What was wrong with the file or with individual cases (such cases are reported as failed).
    public var problems: [SuiteProblem]
    /// What looks wrong but does not fail a case: a `patch` key the event schema does not know.
    public var warnings: [SuiteWarning] = []
    /// The suite's `now:`, the clock of every case without its own (seconds since the Unix epoch).
    public var now: Double?
}

/// One case of a suite.
public struct TestCase: Sendable {
    /// The case's name.
    public var name: String
    /// Line of the case in the suite file.
    public var line: Int
    /// The event, with `patch` already merged in.
    public var event: JSONValue
    /// What the decision must contain.
    public var expect: Expectation
    /// The evaluation clock: the case's `now:`, else the suite's; nil when neither sets one (the runner's
    /// default, `rules test --now`, or the wall clock).
    public var now: Double?
    /// Every role named in `assign`, `assign_includes`, `roles` and `roles_includes`, with where it is written,
    /// for the warning about a role no rule can produce.
    public var expectedRoles: [ExpectedRole] = []
}

/// A role a case expects in the decision, and where the suite names it.
public struct ExpectedRole: Sendable, Equatable {
    /// The `expect` key: `assign`, `assign_includes`, `roles` or `roles_includes`.
    public var key: String
    /// The role.
    public var role: String
    /// 1-based line of the role in the suite.
    public var line: Int
    /// 1-based column.
    public var column: Int
}

/// The keys of `expect`; each one present is checked.
///
/// Role names are their bytes (``ExactString``), as in decisions and in Auth0: `"caf\u{E9}"` and `"cafe\u{301}"`
/// are two roles, and expecting one is not met by the other (Swift's `String` sets would merge them).
public struct Expectation: Sendable, Equatable {
    /// Compared as sets.
    public var assign: Set<ExactString>?
    /// The roles revoked, compared as a set.
    public var revoke: Set<ExactString>?
    /// The roles the token should carry, compared as a set.
    public var roles: Set<ExactString>?
    /// Compared as an ordered list.
    public var matched: [String]?
    /// The number of evaluation errors.
    public var errors: Int?
    /// Roles that must all be assigned (others may be too).
    public var assignIncludes: Set<ExactString>?
    /// Roles none of which may be assigned.
    public var assignExcludes: Set<ExactString>?
    /// Roles the token must carry (others may be there too).
    public var rolesIncludes: Set<ExactString>?
    /// Roles the token must not carry.
    public var rolesExcludes: Set<ExactString>?

    /// An expectation checking nothing.
    public init() {}
}

/// A malformed suite or case: where and what.
public struct SuiteProblem: Sendable, Equatable, CustomStringConvertible {
    /// The suite file.
    public var file: String
    /// 1-based line and column, when known.
    public var line: Int
    /// 1-based column, when known.
    public var column: Int
    /// What is wrong.
    public var message: String
    /// The case it concerns, if one; nil when the whole suite could not be read.
    public var caseName: String?

    /// The problem as `rules test` prints it: the path as ``FileName/visible(_:)`` shows it, and the message (which
    /// quotes the suite's own text: keys, names, scalars) with its hidden scalars written out.
    public var description: String {
        "\(FileName.visible(file)):\(line):\(column): error: \(Spelling.visible(message))"
    }
}

/// Something in a suite that is likely a mistake but fails nothing: a `patch` key unknown to the event schema, or
/// an expected role that no rule can produce.
public struct SuiteWarning: Sendable, Equatable, CustomStringConvertible {
    /// The suite file.
    public var file: String
    /// 1-based line.
    public var line: Int
    /// 1-based column.
    public var column: Int
    /// What looks wrong, with a did-you-mean when one is close.
    public var message: String
    /// The case it concerns.
    public var caseName: String?

    /// A warning.
    public init(file: String, line: Int, column: Int, message: String, caseName: String?) {
        self.file = file
        self.line = line
        self.column = column
        self.message = message
        self.caseName = caseName
    }

    /// The warning as `rules test` prints it, shown as ``SuiteProblem/description`` shows a problem.
    public var description: String {
        "\(FileName.visible(file)):\(line):\(column): warning: \(Spelling.visible(message))"
    }
}
