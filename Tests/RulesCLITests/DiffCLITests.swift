import Foundation
import Testing

/// `rules diff`: reports on fixed events in every format, the edge cases of its inputs, `--base` through a real
/// git repository, and `--jobs` giving the output of `--jobs 1`.
@Suite struct DiffCLITests {
    /// The old rules: staff by domain, eu by country, then a rule that revokes eu from contractors.
    static let old = """
        rule "staff" when user.email ends_with "@acme.com" assign "staff"
        rule "eu" when request.geoip.countryCode in ["DE", "FR"] assign "eu"
        rule "contractors" when user.app_metadata.contractor == true revoke "eu"
        """
    /// The new rules: staff also needs a verified address, and the EU gains NL.
    static let new = """
        rule "staff" when user.email ends_with "@acme.com" and user.email_verified assign "staff"
        rule "eu" when request.geoip.countryCode in ["DE", "FR", "NL"] assign "eu"
        rule "contractors" when user.app_metadata.contractor == true revoke "eu"
        """
    static let events = """
        {"user":{"user_id":"u1","email":"a@acme.com","email_verified":true},"request":{"geoip":{"countryCode":"DE"}}}
        {"user":{"user_id":"u2","email":"b@acme.com","email_verified":false},"request":{"geoip":{"countryCode":"US"}}}
        {"user":{"user_id":"u3","email":"c@x.org"},"request":{"geoip":{"countryCode":"NL"}}}
        {"user":{"user_id":"u2","email":"b@acme.com"},"request":{"geoip":{"countryCode":"NL"}}}

        """

    /// A directory with `old/r.rules`, `new/r.rules` and `events.jsonl`.
    static func fixture(old: String = old, new: String = new, events: String = events) throws -> String {
        let root = (try CLITests.temporary("events.jsonl", events) as NSString).deletingLastPathComponent
        for (name, text) in [("old", old), ("new", new)] {
            try FileManager.default.createDirectory(atPath: root + "/" + name, withIntermediateDirectories: true)
            try text.write(toFile: root + "/\(name)/r.rules", atomically: true, encoding: .utf8)
        }
        try events.write(toFile: root + "/events.jsonl", atomically: true, encoding: .utf8)
        return root
    }

    static func diff(_ root: String, _ extra: [String] = []) throws -> CLITests.Run {
        try CLITests.rules(
            ["diff", root + "/new", "--base-path", root + "/old", "--events", root + "/events.jsonl"] + extra)
    }

    @Test func theHumanReportSaysWhoMovesAndWhy() throws {
        let run = try Self.diff(try Self.fixture())
        #expect(run.status == 0, "\(run.stderr)")
        #expect(
            run.stdout == """
                4 events from 3 users: 3 decisions changed (75.0%)

                roles (events whose token gains or loses the role):
                  role   gained    lost
                  eu          2       0
                  staff       0       2

                rules that fire on a different number of events:
                  rule     before   after
                  "staff"       3       1
                  "eu"          1       3

                1 rule fired as before

                examples (up to 3 per change):

                  -staff  line 2, user "u2"
                    before: roles ["staff"], assign ["staff"], revoke []
                    after:  roles [], assign [], revoke []
                    - rule "staff": fired
                    + rule "staff": not fired
                    +   false  user.email_verified = false

                  +eu  line 3, user "u3"
                    before: roles [], assign [], revoke []
                    after:  roles ["eu"], assign ["eu"], revoke []
                    - rule "eu": not fired
                    + rule "eu": fired
                    -   false  request.geoip.countryCode in ["DE", "FR"], request.geoip.countryCode = "NL"
                    +   true   request.geoip.countryCode in ["DE", "FR", "NL"], request.geoip.countryCode = "NL"

                  +eu -staff  line 4, user "u2"
                    before: roles ["staff"], assign ["staff"], revoke []
                    after:  roles ["eu"], assign ["eu"], revoke []
                    - rule "staff": fired
                    + rule "staff": not fired
                    +   false  user.email_verified = null
                    - rule "eu": not fired
                    + rule "eu": fired
                    -   false  request.geoip.countryCode in ["DE", "FR"], request.geoip.countryCode = "NL"
                    +   true   request.geoip.countryCode in ["DE", "FR", "NL"], request.geoip.countryCode = "NL"

                """, "\(run.stdout)")
    }

    @Test func theJSONReportHasTheDocumentedShape() throws {
        let run = try Self.diff(try Self.fixture(), ["--format", "json", "--examples", "1"])
        #expect(run.status == 0, "\(run.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        #expect(report["events"] as? Int == 4)
        #expect(report["users"] as? Int == 3)
        #expect(report["changed"] as? Int == 3)
        let roles = report["roles"] as? [[String: Any]] ?? []
        #expect(roles.map { $0["role"] as? String } == ["eu", "staff"])
        #expect(roles.map { $0["gained"] as? Int } == [2, 0])
        #expect(roles.map { $0["lost"] as? Int } == [0, 2])
        let rules = report["rules"] as? [[String: Any]] ?? []
        #expect(rules.map { $0["rule"] as? String } == ["staff", "eu", "contractors"])
        #expect(rules.map { $0["before"] as? Int } == [3, 1, 0])
        #expect(rules.map { $0["after"] as? Int } == [1, 3, 0])
        let examples = report["examples"] as? [[String: Any]] ?? []
        #expect(examples.map { $0["line"] as? Int } == [2, 3, 4])
        #expect(examples.first?["user_id"] as? String == "u2")
        #expect((examples.first?["before"] as? [String: Any])?["roles"] as? [String] == ["staff"])
        #expect((examples.first?["after"] as? [String: Any])?["roles"] as? [String] == [])
        #expect((examples.first?["why"] as? [String])?.first == "- rule \"staff\": fired")
    }

    @Test func theMarkdownReportIsATable() throws {
        let run = try Self.diff(try Self.fixture(), ["--format", "markdown", "--examples", "0"])
        #expect(
            run.stdout == """
                ### Rolecall: what this rule change does to 4 recorded logins

                4 events from 3 users: 3 decisions changed (75.0%).

                | role | gained | lost |
                |---|---:|---:|
                | <code>eu</code> | 2 | 0 |
                | <code>staff</code> | 0 | 2 |

                | rule | fired before | fired after |
                |---|---:|---:|
                | <code>staff</code> | 3 | 1 |
                | <code>eu</code> | 1 | 3 |

                1 rule fired as before.

                """, "\(run.stdout)")
    }

    @Test func aRuleSetDiffedWithItselfChangesNothing() throws {
        let root = try Self.fixture(new: Self.old)
        let run = try Self.diff(root, ["--exit-code"])
        #expect(run.status == 0)
        #expect(run.stdout == "4 events from 3 users: 0 decisions changed (0.0%)\n\n3 rules fired as before\n")
    }

    @Test func exitCodeIsThreeWhenADecisionChanged() throws {
        #expect(try Self.diff(try Self.fixture(), ["--exit-code"]).status == 3)
        #expect(try Self.diff(try Self.fixture()).status == 0)
    }

    /// The same rules in another order: the later rule wins, so swapping an assign and a revoke of one role
    /// changes the decision, and the diff says so.
    @Test func aReorderingThatChangesLastWinsIsCaught() throws {
        let old = """
            rule "eu" when request.geoip.countryCode in ["DE", "FR"] assign "eu"
            rule "contractors" when user.app_metadata.contractor == true revoke "eu"
            """
        let new = """
            rule "contractors" when user.app_metadata.contractor == true revoke "eu"
            rule "eu" when request.geoip.countryCode in ["DE", "FR"] assign "eu"
            """
        let events =
            #"{"user":{"user_id":"c","app_metadata":{"contractor":true}},"request":{"geoip":{"countryCode":"DE"}}}"#
        let run = try Self.diff(try Self.fixture(old: old, new: new, events: events + "\n"), ["--format", "json"])
        let report = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        #expect(report["changed"] as? Int == 1)
        let roles = report["roles"] as? [[String: Any]] ?? []
        #expect(roles.first?["role"] as? String == "eu")
        #expect(roles.first?["gained"] as? Int == 1)
    }

    @Test func invalidLinesAreReportedAndTheRestGoOn() throws {
        let events = Self.events + "not json\n{\"user\": {\"email\": 1, \"email\": 2}}\n"
        let run = try Self.diff(try Self.fixture(events: events), ["--format", "json"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.contains(":5: invalid event: unexpected `n`"), "\(run.stderr)")
        #expect(run.stderr.contains(":6: invalid event: the key `user.email` appears twice"), "\(run.stderr)")
        #expect(run.stderr.contains("2 lines were not valid events"))
        let report = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        #expect(report["events"] as? Int == 4)
        #expect(report["invalid"] as? Int == 2)
    }

    @Test func aBaseWithASyntaxErrorStopsWithItsDiagnostics() throws {
        let root = try Self.fixture(old: "rule \"staff\" when user.email ends_with assign \"staff\"")
        let run = try Self.diff(root)
        #expect(run.status == 1)
        #expect(run.stderr.contains("rules: in the base rule set (\(root)/old):"), "\(run.stderr)")
        #expect(run.stderr.contains("error: expected an expression"), "\(run.stderr)")
        #expect(run.stdout.isEmpty)
    }

    @Test func baseReadsTheRulesAtAGitRevision() throws {
        let root = try Self.fixture()
        let repository = root + "/repo"
        try FileManager.default.createDirectory(atPath: repository + "/rules", withIntermediateDirectories: true)
        func git(_ arguments: [String]) throws {
            let run = try CLITests.rules(
                ["-c", "user.name=t", "-c", "user.email=t@example.org"] + arguments, directory: repository,
                executable: "/usr/bin/git")
            #expect(run.status == 0, "git \(arguments): \(run.stderr)")
        }
        try git(["init", "-q"])
        try Self.old.write(toFile: repository + "/rules/r.rules", atomically: true, encoding: .utf8)
        try git(["add", "rules"])
        try git(["commit", "-q", "-m", "old rules"])
        // The working tree has the new rules; HEAD has the old ones.
        try Self.new.write(toFile: repository + "/rules/r.rules", atomically: true, encoding: .utf8)
        let run = try CLITests.rules(
            ["diff", "--base", "HEAD", "--events", root + "/events.jsonl", "--format", "json"], directory: repository)
        #expect(run.status == 0, "\(run.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        #expect(report["changed"] as? Int == 3)
        let missing = try CLITests.rules(
            ["diff", "--base", "no-such-revision", "--events", root + "/events.jsonl"], directory: repository)
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("git ls-tree failed: fatal: Not a valid object name"), "\(missing.stderr)")
        let option = try CLITests.rules(
            ["diff", "--base", "--output=x", "--events", root + "/events.jsonl"], directory: repository)
        #expect(option.status != 0)
    }

    @Test func jobsGiveTheOutputOfOneJobByteForByte() throws {
        var lines = ""
        for index in 0..<10_000 {
            let country = ["DE", "FR", "NL", "US"][index % 4]
            let verified = index % 3 == 0 ? "true" : "false"
            lines +=
                #"{"user":{"user_id":"u\#(index % 997)","email":"p\#(index)@acme.com","email_verified":\#(verified)},"#
            lines += #""request":{"geoip":{"countryCode":"\#(country)"}}}"# + "\n"
            if index % 1000 == 500 { lines += "broken line \(index)\n" }
        }
        let root = try Self.fixture(events: lines)
        for format in ["human", "json", "markdown"] {
            let one = try Self.diff(root, ["--jobs", "1", "--format", format])
            #expect(one.stdout.contains("10000") || format == "json", "\(one.stdout.prefix(200))")
            for jobs in ["2", "3"] {
                let many = try Self.diff(root, ["--jobs", jobs, "--format", format])
                #expect(many.stdout == one.stdout, "--jobs \(jobs) --format \(format)")
                #expect(many.stderr == one.stderr)
            }
        }
        let evalOne = try CLITests.rules(["eval", root + "/new", "--events", root + "/events.jsonl", "--jobs", "1"])
        let evalTwo = try CLITests.rules(["eval", root + "/new", "--events", root + "/events.jsonl", "--jobs", "2"])
        #expect(evalOne.stdout == evalTwo.stdout)
        #expect(evalOne.stderr == evalTwo.stderr)
        #expect(evalOne.stdout.split(separator: "\n").count == 10_010)
    }

    @Test func invocationErrors() throws {
        let root = try Self.fixture()
        for arguments in [
            ["diff", "--events", root + "/events.jsonl"],
            ["diff", "--events", root + "/events.jsonl", "--base", "HEAD", "--base-path", root + "/old"],
            ["diff", "--event", root + "/events.jsonl", "--base-path", root + "/old"],
            ["diff", "--events", root + "/events.jsonl", "--base-path", root + "/old", "--jobs", "0"],
        ] {
            let run = try CLITests.rules(arguments)
            #expect(run.status == 64, "\(arguments): \(run.stderr)")
        }
    }

    /// Role names and user ids come from events: in a pull request comment none may add a link, an image, a
    /// tag or a table cell.
    @Test func markdownCannotBeInjectedByAnEvent() throws {
        let hostile = #"![x](https://evil.example/p.png) <img src=x> | **ok** [a](b) `c`"#
        let old = #"rule "all" when user.app_metadata.wipe == true revoke all"#
        let new = #"rule "none" when false assign "x""#
        let event = try String(
            decoding: JSONSerialization.data(withJSONObject: [
                "user": ["user_id": hostile + "\n| forged | row |", "app_metadata": ["wipe": true]],
                "authorization": ["roles": [hostile]],
            ]), as: UTF8.self)
        let run = try Self.diff(try Self.fixture(old: old, new: new, events: event + "\n"), ["--format", "markdown"])
        #expect(run.status == 0, "\(run.stderr)")
        // Outside the example's code block nothing is markdown; inside it, every line starts with `-`, `+` or
        // a space, so no line can close the fence.
        let parts = run.stdout.components(separatedBy: "```diff\n")
        #expect(parts.count == 2)
        for forbidden in ["![", "<img", "](", "**", "\n| forged", "`c`"] {
            #expect(!parts[0].contains(forbidden), "\(forbidden) in \(parts[0])")
        }
        let block = parts.last?.components(separatedBy: "\n```\n").first ?? ""
        #expect(block.split(separator: "\n").allSatisfy { $0.hasPrefix("-") || $0.hasPrefix("+") || $0.hasPrefix(" ") })
        #expect(run.stdout.contains("&#33;&#91;x&#93;"))
        let human = try Self.diff(try Self.fixture(old: old, new: new, events: event + "\n"))
        #expect(!human.stdout.contains("\n| forged"))
    }

    /// A rules directory assembled from links is read through them at the base revision too.
    @Test func baseFollowsSymbolicLinks() throws {
        let root = try Self.fixture()
        let repository = root + "/repo"
        try FileManager.default.createDirectory(atPath: repository + "/policy", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: repository + "/rules", withIntermediateDirectories: true)
        try Self.old.write(toFile: repository + "/policy/r.rules", atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(
            atPath: repository + "/rules/shared", withDestinationPath: "../policy")
        func git(_ arguments: [String]) throws {
            let run = try CLITests.rules(
                ["-c", "user.name=t", "-c", "user.email=t@example.org"] + arguments, directory: repository,
                executable: "/usr/bin/git")
            #expect(run.status == 0, "git \(arguments): \(run.stderr)")
        }
        try git(["init", "-q"])
        try git(["add", "-A"])
        try git(["commit", "-q", "-m", "linked rules"])
        let same = try CLITests.rules(
            ["diff", "--base", "HEAD", "--events", root + "/events.jsonl", "--exit-code"], directory: repository)
        #expect(same.status == 0, "\(same.stdout)\(same.stderr)")
        #expect(same.stdout.hasPrefix("4 events from 3 users: 0 decisions changed"), "\(same.stdout)")
    }

    /// A new rule that fails on every event changes no decision, but the report says it fails.
    @Test func evaluationErrorsAreReported() throws {
        let new = Self.old + "\n" + #"rule "veterans" when days_since(user.email) > 30 assign "veteran""#
        let run = try Self.diff(try Self.fixture(new: new))
        #expect(run.stdout.contains("rules whose condition failed to evaluate (events):"), "\(run.stdout)")
        #expect(run.stdout.contains("\"veterans\"       -       4"), "\(run.stdout)")
        let json = try Self.diff(try Self.fixture(new: new), ["--format", "json"])
        #expect(
            json.stdout.contains(#"{"rule":"veterans","before":null,"after":0,"errors_before":null,"errors_after":4}"#))
    }

    /// A rule that fires in both sets but assigns another role is why the roles moved: it is shown.
    @Test func aChangedActionIsShownAsTheReason() throws {
        let old = #"rule "sso" when user.email ends_with "@acme.com" assign "sso""#
        let new = #"rule "sso" when user.email ends_with "@acme.com" assign "admin""#
        let run = try Self.diff(try Self.fixture(old: old, new: new), ["--format", "json", "--examples", "1"])
        let report = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        let why = (report["examples"] as? [[String: Any]])?.first?["why"] as? [String]
        #expect(why?.first == #"  rule "sso": fired"#, "\(String(describing: why))")
    }

    /// A review gate must not pass on a log that holds nothing to compare.
    @Test func anEmptyInputFailsTheGate() throws {
        let root = try Self.fixture(events: "")
        let run = try Self.diff(root, ["--exit-code"])
        #expect(run.status == 2)
        #expect(run.stderr.contains("holds no valid event: nothing was compared"))
        #expect(try Self.diff(root).status == 0)
    }
}
