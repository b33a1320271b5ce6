import Foundation
import RolecallEngine
import RolecallFiles
import RolecallJSON
import RolecallLanguage
import Yams

/// Reads `*.test.yaml` suites (format in DESIGN.md, "Test suites"), reporting every problem with its line.
///
/// Scalars follow YAML 1.2's core schema, not YAML 1.1's: `NO` (Norway's country code) and `on` stay strings.
public enum SuiteLoader {
    static let suiteKeys = ["tests", "now"]
    static let caseKeys = ["name", "event", "patch", "now", "expect"]
    static let expectKeys = [
        "assign", "revoke", "roles", "matched", "errors", "assign_includes", "assign_excludes", "roles_includes",
        "roles_excludes",
    ]

    /// YAML 1.2 core schema: only `true`/`false` are booleans, only `null`/`~`/empty are null.
    static let resolver: Resolver = {
        do {
            return try Resolver.basic
                .appending(.null, "^(?:~|null|Null|NULL|)$")
                .appending(.bool, "^(?:true|True|TRUE|false|False|FALSE)$")
                .appending(.int, "^[-+]?[0-9]+$")
                .appending(.float, "^[-+]?(?:\\.[0-9]+|[0-9]+(?:\\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$")
        } catch {
            preconditionFailure("the YAML resolver patterns are valid: \(error)")
        }
    }()

    /// Loads the suite at `path`; problems are in the result, never thrown.
    public static func load(path: String) -> TestSuite {
        // One reader, one limit: suite and event files are read like rule files (at most 16 MiB, so `/dev/zero`
        // or a runaway file is an error, not a hang).
        let data: [UInt8]
        do {
            data = try RuleSetLoader.read(path)
        } catch {
            return TestSuite(
                path: path, cases: [],
                problems: [
                    SuiteProblem(file: path, line: 1, column: 1, message: "cannot read the suite: \(error)")
                ])
        }
        return parse(String(decoding: data, as: UTF8.self), path: path, directory: directory(of: path))
    }

    /// The directory a suite is in, for its event files and its rule set: `.` for a bare file name (a suite run
    /// from its own directory), never the empty string, which would make `events/a.json` absolute.
    public static func directory(of path: String) -> String {
        let directory = (path as NSString).deletingLastPathComponent
        return directory.isEmpty ? "." : directory
    }

    /// Parses suite text; event files are read relative to `directory`.
    public static func parse(_ text: String, path: String, directory: String) -> TestSuite {
        var reader = Reader(path: path, directory: directory)
        let cases = reader.suite(text)
        return TestSuite(
            path: path, cases: cases, problems: reader.problems, warnings: reader.warnings, now: reader.suiteNow)
    }

    /// Walks the YAML nodes, collecting cases and problems.
    struct Reader {
        let path: String
        let directory: String
        var problems: [SuiteProblem] = []
        var warnings: [SuiteWarning] = []
        var caseName: String?
        /// The suite's `now:`.
        var suiteNow: Double?
        /// The roles the case being read expects, with where they are written.
        var expectedRoles: [ExpectedRole] = []

        struct Invalid: Error {}

        mutating func problem(_ message: String, at node: Node?) -> Invalid {
            problems.append(
                SuiteProblem(
                    file: path, line: node?.mark?.line ?? 1, column: node?.mark?.column ?? 1, message: message,
                    caseName: caseName))
            return Invalid()
        }

        mutating func warn(_ message: String, at node: Node?) {
            warnings.append(
                SuiteWarning(
                    file: path, line: node?.mark?.line ?? 1, column: node?.mark?.column ?? 1, message: message,
                    caseName: caseName))
        }

        mutating func suite(_ text: String) -> [TestCase] {
            // Aliases are refused before composing: a few hundred bytes of nested aliases would otherwise expand
            // into gigabytes, or (as mapping keys) take hours to hash, inside the composer.
            if let (line, column) = YAMLAliasScan.firstAlias(in: text) {
                problems.append(
                    SuiteProblem(
                        file: path, line: line, column: column, message: "YAML aliases are not supported in suites"))
                return []
            }
            let root: Node?
            do {
                root = try Yams.Parser(yaml: text, resolver: SuiteLoader.resolver).singleRoot()
            } catch let error as YamlError {
                let (mark, message) = SuiteLoader.describe(error)
                problems.append(
                    SuiteProblem(file: path, line: mark?.line ?? 1, column: mark?.column ?? 1, message: message))
                return []
            } catch {
                problems.append(SuiteProblem(file: path, line: 1, column: 1, message: "invalid YAML: \(error)"))
                return []
            }
            guard let root, case .mapping(let top) = root else {
                _ = problem("a suite is a mapping with a `tests` list", at: root)
                return []
            }
            var tests: Node?
            for (key, value) in top {
                switch key.string {
                case "tests": tests = value
                case "now":
                    // A suite whose clock cannot be read runs none of its cases: each would decide at a time the
                    // author did not mean.
                    guard let now = try? clock(value) else { return [] }
                    suiteNow = now
                default: _ = problem(unknownKey(key, among: SuiteLoader.suiteKeys), at: key)
                }
            }
            guard let tests, case .sequence(let items) = tests else {
                _ = problem("`tests` must be a list of cases", at: tests ?? root)
                return []
            }
            var cases: [TestCase] = []
            for (index, item) in items.enumerated() {
                caseName = nil
                if let testCase = try? readCase(item, number: index + 1) { cases.append(testCase) }
            }
            return cases
        }

        mutating func readCase(_ node: Node, number: Int) throws(Invalid) -> TestCase {
            guard case .mapping(let mapping) = node else { throw problem("each test is a mapping", at: node) }
            caseName = mapping["name"]?.string ?? "test \(number)"
            expectedRoles = []
            var fields: [String: Node] = [:]
            for (key, value) in mapping {
                guard let name = key.string, SuiteLoader.caseKeys.contains(name) else {
                    throw problem(unknownKey(key, among: SuiteLoader.caseKeys), at: key)
                }
                fields[name] = value
            }
            guard let nameNode = fields["name"], let name = nameNode.string, !name.isEmpty else {
                throw problem("each test needs a `name`", at: node)
            }
            guard let eventNode = fields["event"] else { throw problem("test `\(name)` needs an `event`", at: node) }
            guard let expectNode = fields["expect"] else { throw problem("test `\(name)` needs `expect`", at: node) }
            var event = try readEvent(eventNode)
            if let patch = fields["patch"] {
                guard case .mapping = patch else { throw problem("`patch` must be a mapping", at: patch) }
                event = event.merging(try json(patch))
                checkPatch(patch, type: EventSchema.root, path: "")
            }
            let now = try fields["now"].map { node throws(Invalid) in try clock(node) } ?? suiteNow
            let expect = try readExpect(expectNode)
            return TestCase(
                name: name, line: node.mark?.line ?? 1, event: event, expect: expect, now: now,
                expectedRoles: expectedRoles)
        }

        /// A `now:` value: an RFC 3339 timestamp, in seconds since the Unix epoch.
        mutating func clock(_ node: Node) throws(Invalid) -> Double {
            guard case .scalar(let scalar) = node, let seconds = Timestamp.seconds(scalar.string) else {
                let found = node.scalar.map { ", found `\($0.string)`" } ?? ""
                throw problem("`now` must be an RFC 3339 timestamp such as `2026-11-30T09:15:00Z`" + found, at: node)
            }
            return seconds
        }

        /// Warns about keys of a `patch` that the post-login event does not have, below objects whose fields the
        /// schema knows (as the checker does for fields the rules read). Keys under free-form fields
        /// (`app_metadata`, `user_metadata`, maps) are the author's own.
        mutating func checkPatch(_ node: Node, type: FieldType, path: String) {
            switch (node, type) {
            case (.mapping(let mapping), .object(let fields)):
                for (key, value) in mapping {
                    guard let name = key.string else { continue }
                    let full = path.isEmpty ? name : path + "." + name
                    if let child = fields[name] {
                        checkPatch(value, type: child, path: full)
                        continue
                    }
                    if path.isEmpty, name == Program.clockField {
                        warn(
                            "`\(name)` in a suite's event is not read (only replays read it); set the case's "
                                + "`now:` instead", at: key)
                    } else if path.isEmpty, let alias = EventSchema.aliases[name] {
                        warn(
                            "unknown field `\(name)` in `patch`; did you mean `\(alias.joined(separator: "."))`? "
                                + "(`\(name)` is a shorthand of the rule language only)", at: key)
                    } else if let guess = suggest(name, among: fields.keys.sorted()) {
                        let prefix = path.isEmpty ? "" : path + "."
                        warn("unknown field `\(full)` in `patch`; did you mean `\(prefix + guess)`?", at: key)
                    } else {
                        warn("unknown field `\(full)` in `patch`: the post-login event has no such field", at: key)
                    }
                }
            case (.sequence(let items), .list(let element)):
                for (index, item) in items.enumerated() {
                    checkPatch(item, type: element, path: "\(path)[\(index)]")
                }
            default:
                return
            }
        }

        mutating func readEvent(_ node: Node) throws(Invalid) -> JSONValue {
            if case .mapping = node { return try json(node) }
            guard case .scalar(let scalar) = node, SuiteLoader.tag(of: node) == .str, !scalar.string.isEmpty else {
                throw problem("`event` is a file name or a mapping", at: node)
            }
            let file =
                scalar.string.hasPrefix("/") || directory.isEmpty ? scalar.string : directory + "/" + scalar.string
            let data: [UInt8]
            do {
                data = try RuleSetLoader.read(file)
            } catch {
                throw problem("cannot read event file `\(scalar.string)`: \(error)", at: node)
            }
            do {
                let value = try JSONValue.parse(data)
                guard case .object = value else {
                    throw problem("event file `\(scalar.string)` is not a JSON object", at: node)
                }
                return value
            } catch let error as JSONError {
                throw problem("event file `\(scalar.string)` is not valid JSON: \(error)", at: node)
            } catch {
                throw Invalid()
            }
        }

        mutating func readExpect(_ node: Node) throws(Invalid) -> Expectation {
            guard case .mapping(let mapping) = node else { throw problem("`expect` must be a mapping", at: node) }
            var expect = Expectation()
            for (key, value) in mapping {
                switch key.string {
                case "assign": expect.assign = Self.exact(try roles(value, key: "assign"))
                case "revoke": expect.revoke = Self.exact(try strings(value, key: "revoke"))
                case "roles": expect.roles = Self.exact(try roles(value, key: "roles"))
                case "assign_includes": expect.assignIncludes = Self.exact(try roles(value, key: "assign_includes"))
                case "assign_excludes": expect.assignExcludes = Self.exact(try strings(value, key: "assign_excludes"))
                case "roles_includes": expect.rolesIncludes = Self.exact(try roles(value, key: "roles_includes"))
                case "roles_excludes": expect.rolesExcludes = Self.exact(try strings(value, key: "roles_excludes"))
                case "matched": expect.matched = try strings(value, key: "matched")
                case "errors":
                    guard case .scalar(let scalar) = value, SuiteLoader.tag(of: value) == .int,
                        let count = Int(scalar.string), count >= 0
                    else { throw problem("`errors` is the number of evaluation errors expected", at: value) }
                    expect.errors = count
                default:
                    throw problem(unknownKey(key, among: SuiteLoader.expectKeys), at: key)
                }
            }
            return expect
        }

        /// Role names as a set of their bytes: two spellings `String` finds equal are two roles.
        static func exact(_ names: [String]) -> Set<ExactString> { Set(names.map(ExactString.init)) }

        /// ``strings(_:key:)`` of a key whose roles the decision must produce, remembered with their place.
        mutating func roles(_ node: Node, key: String) throws(Invalid) -> [String] {
            let names = try strings(node, key: key)
            if case .sequence(let items) = node {
                for (item, name) in zip(items, names) {
                    expectedRoles.append(
                        ExpectedRole(key: key, role: name, line: item.mark?.line ?? 1, column: item.mark?.column ?? 1))
                }
            }
            return names
        }

        mutating func strings(_ node: Node, key: String) throws(Invalid) -> [String] {
            guard case .sequence(let items) = node else { throw problem("`\(key)` must be a list", at: node) }
            var result: [String] = []
            for item in items {
                guard case .scalar(let scalar) = item else { throw problem("`\(key)` lists strings", at: item) }
                result.append(scalar.string)
            }
            return result
        }

        /// A YAML node as JSON, with scalar types from the core schema.
        mutating func json(_ node: Node) throws(Invalid) -> JSONValue {
            // Only the tags JSON has a value for: `!!binary`, `!!timestamp` or a custom tag would otherwise turn
            // silently into a string the author did not mean.
            let tag = SuiteLoader.tag(of: node)
            guard SuiteLoader.jsonTags.contains(tag) else {
                throw problem("the YAML tag `\(tag.rawValue)` is not supported in suites (events are JSON)", at: node)
            }
            switch node {
            case .scalar(let scalar):
                switch tag {
                case .null: return .null
                case .bool: return .bool(scalar.string.lowercased() == "true")
                case .int, .float:
                    guard let number = Double(scalar.string) else { return .string(scalar.string) }
                    // I-JSON: a number a double cannot hold is an error, not `null` or infinity.
                    guard number.isFinite else {
                        throw problem("`\(scalar.string)` is out of the range of a JSON number", at: node)
                    }
                    return .number(number)
                default: return .string(scalar.string)
                }
            case .sequence(let items):
                var values: [JSONValue] = []
                for item in items { values.append(try json(item)) }
                return .array(values)
            case .mapping(let mapping):
                var members: [(key: String, value: JSONValue)] = []
                for (key, value) in mapping {
                    guard case .scalar(let name) = key else { throw problem("object keys must be strings", at: key) }
                    members.append((name.string, try json(value)))
                }
                return .object(members)
            case .alias:
                throw problem("YAML aliases are not supported in suites", at: node)
            }
        }

        func unknownKey(_ key: Node, among known: [String]) -> String {
            let name = key.string ?? "?"
            let list = known.map { "`\($0)`" }.joined(separator: ", ")
            if let guess = suggest(name, among: known) { return "unknown key `\(name)`; did you mean `\(guess)`?" }
            return "unknown key `\(name)`; the keys are \(list)"
        }
    }

    /// The resolved tag of a node (plain scalars by the core-schema resolver, quoted ones are strings).
    static func tag(of node: Node) -> Tag.Name { Tag.Name(rawValue: node.tag.rawValue) }

    /// The tags a suite's events may use: those of the JSON values.
    static let jsonTags: Set<Tag.Name> = [.null, .bool, .int, .float, .str, .seq, .map]

    /// Where a YAML error is and what it says.
    static func describe(_ error: YamlError) -> (Mark?, String) {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _),
            .composer(_, let problem, let mark, _):
            return (mark, "invalid YAML: \(problem)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            // Yams points at the first of the repeated keys; the message names them, without the whole file.
            let names = duplicates.map { "`\($0)`" }.joined(separator: ", ")
            return (
                context.mark,
                "invalid YAML: the key\(duplicates.count == 1 ? "" : "s") \(names) appear\(duplicates.count == 1 ? "s" : "") "
                    + "twice in one mapping (the first is here): one key, one meaning"
            )
        default:
            return (nil, "invalid YAML: \(error)")
        }
    }
}
