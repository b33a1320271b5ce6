import RolecallEngine

/// A `*.test.yaml` file: cases that evaluate the rule set in the suite's directory.
public struct TestSuite: Sendable {
    /// The suite's path.
    public var path: String
    /// The cases that could be read.
    public var cases: [TestCase]
    /// What was wrong with the file or with individual cases (such cases are reported as failed).
    public var problems: [SuiteProblem]
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
}

/// The keys of `expect`; each one present is checked.
public struct Expectation: Sendable, Equatable {
    /// Compared as sets.
    public var assign: Set<String>?
    /// The roles revoked, compared as a set.
    public var revoke: Set<String>?
    /// The roles the token should carry, compared as a set.
    public var roles: Set<String>?
    /// Compared as an ordered list.
    public var matched: [String]?
    /// The number of evaluation errors.
    public var errors: Int?

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

    public var description: String { "\(file):\(line):\(column): error: \(message)" }
}
