import Foundation
import RolecallSandbox
import Testing

/// Runs the built `rules` binary and checks what a user sees: stdout, stderr and the exit code.
@Suite struct CLITests {
    static let root: String = {
        let file = #filePath
        return String(file[..<file.range(of: "/Tests/")!.lowerBound])
    }()

    /// The clock the example suites use, for commands whose decisions read `days_since`.
    static let now = "2026-11-30T12:00:00Z"
    static let binary: String = ProcessInfo.processInfo.environment["ROLECALL_BIN"] ?? root + "/.build/debug/rules"

    struct Run {
        var status: Int32
        var stdout: String
        var stderr: String
        /// How long the run took.
        var seconds: Double = 0
        /// Killed at its time limit.
        var killed = false
    }

    /// The test's environment without the tenant settings and the server secret (a developer's own must not
    /// leak into a test), with NO_COLOR, and `extra` over it.
    static func environment(_ extra: [String: String]) -> [String: String] {
        var environment = ProcessInfo.processInfo.environment
        for name in ["AUTH0_DOMAIN", "AUTH0_CLIENT_ID", "AUTH0_CLIENT_SECRET", "AUTH0_BASE_URL", "ROLECALL_SECRET"] {
            environment[name] = nil
        }
        environment["NO_COLOR"] = "1"
        return environment.merging(extra) { $1 }
    }

    /// Runs `rules ARGS` in `directory` (default: the repository root), feeding `input` on standard input, without
    /// the AUTH0_* settings of this environment (only those of `environment`). The process is killed after `limit`
    /// seconds, so no test can hang on it. `executable` runs another program the same way (node, for the Action).
    static func rules(
        _ arguments: [String], input: Data? = nil, environment extra: [String: String] = [:],
        directory: String = root, limit: Double = 300, executable: String = binary
    ) throws -> Run {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        process.environment = environment(extra)
        let out = Pipe()
        let err = Pipe()
        let inPipe = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = inPipe
        let start = Date()
        try process.run()
        // Drain both pipes while the process runs so neither fills up.
        let outData = LockedData()
        let errData = LockedData()
        let group = DispatchGroup()
        for (pipe, sink) in [(out, outData), (err, errData)] {
            group.enter()
            DispatchQueue.global().async {
                sink.set(pipe.fileHandleForReading.readDataToEndOfFile())
                group.leave()
            }
        }
        if let input {
            do {
                try inPipe.fileHandleForWriting.write(contentsOf: input)
            } catch let error as NSError
                where (error.userInfo[NSUnderlyingErrorKey] as? NSError)?.code == Int(EPIPE)
            {
                // The process ended without reading all of its input (an error before it reads, sooner than
                // this write): what it printed is the result.
            }
        }
        try inPipe.fileHandleForWriting.close()
        var killed = false
        while process.isRunning {
            if Date().timeIntervalSince(start) > limit {
                killed = true
                process.terminate()
                break
            }
            Thread.sleep(forTimeInterval: 0.02)
        }
        process.waitUntilExit()
        group.wait()
        #expect(!killed, "rules \(arguments.joined(separator: " ")) ran past its \(limit) s limit")
        return Run(
            status: process.terminationStatus, stdout: String(decoding: outData.get(), as: UTF8.self),
            stderr: String(decoding: errData.get(), as: UTF8.self), seconds: Date().timeIntervalSince(start),
            killed: killed)
    }

    final class LockedData: @unchecked Sendable {
        // @unchecked: every access goes through `lock`.
        private let lock = NSLock()
        private var data = Data()
        func set(_ value: Data) { lock.withLock { data = value } }
        func get() -> Data { lock.withLock { data } }
    }

    static func temporary(_ name: String, _ contents: String) throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "rolecall-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let path = directory.appendingPathComponent(name).path
        try contents.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func checkPassesOnTheExamples() throws {
        let run = try Self.rules(["check"])
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        #expect(
            run.stdout.contains(
                "rules/default-roles.rules:8:6: warning: `logins_count == 1` can miss a user's first login"))
        #expect(run.stdout.hasSuffix("checked 15 rules in 2 files: ok, 1 warning\n"))
    }

    @Test func checkReportsThreeDifferentMistakesWithCarets() throws {
        let path = try Self.temporary(
            "x.rules",
            """
            rule "staff"
            when user.emial ends_with "@acme.com" and logins_count == "1"
            assign "staff"

            rule "eu" when usr.country == "DE" assign "eu"
            """)
        let run = try Self.rules(["check", path])
        #expect(run.status == 1)
        #expect(run.stdout.contains("\(path):2:6: warning: unknown field `user.emial` [unknown-field]"))
        #expect(run.stdout.contains("help: did you mean `user.email`?"))
        #expect(run.stdout.contains("\(path):2:43: error: comparing a number with a string is always false"))
        #expect(run.stdout.contains("\(path):5:16: error: unknown field `usr` [unknown-root]"))
        #expect(
            run.stdout.contains(" 5 | rule \"eu\" when usr.country == \"DE\" assign \"eu\"\n   |                ^^^\n"))
        #expect(run.stdout.contains("2 errors, 1 warning generated"))
    }

    @Test func denyWarningsTurnsWarningsIntoFailure() throws {
        let path = try Self.temporary("w.rules", "when user.emial == \"a\" assign \"r\"")
        #expect(try Self.rules(["check", path]).status == 0)
        #expect(try Self.rules(["check", "--deny-warnings", path]).status == 1)
    }

    @Test func checkSpeaksJSONForTools() throws {
        let path = try Self.temporary("j.rules", "when logins_count = 2 assign \"r\"")
        let run = try Self.rules(["check", "--format", "json", path])
        #expect(run.status == 1)
        let document = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any]
        let diagnostics = document?["diagnostics"] as? [[String: Any]]
        #expect(diagnostics?.count == 1)
        #expect(diagnostics?.first?["code"] as? String == "single-equals")
        #expect(diagnostics?.first?["line"] as? Int == 1)
        #expect(diagnostics?.first?["column"] as? Int == 19)
        #expect(diagnostics?.first?["help"] as? String == "use `==` to compare values")
        #expect(document?["errors"] as? Int == 1)
    }

    @Test func diagnosticsAreCapped() throws {
        let source = (1...30).map { "when usr\($0) == 1 assign \"r\"" }.joined(separator: "\n")
        let run = try Self.rules(["check", "--max-diagnostics", "5", try Self.temporary("many.rules", source)])
        #expect(run.stdout.components(separatedBy: "error: unknown field").count - 1 == 5)
        #expect(run.stdout.contains("note: 25 more diagnostics not shown"))
    }

    @Test func evalPrintsTheDecision() throws {
        let run = try Self.rules(["eval", "--event", "rules/events/first-login.json", "--now", Self.now])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(
            run.stdout
                == #"{"assign":["org-member","member"],"revoke":[],"roles":["org-member","member"],"matched":["organization members","first login gets member","every verified user is a member"],"errors":[]}"#
                + "\n")
    }

    @Test func evalReadsTheEventFromStandardInput() throws {
        let run = try Self.rules(
            ["eval", "rules/default-roles.rules", "--event", "-"], input: Data(#"{"stats":{"logins_count":1}}"#.utf8))
        #expect(run.status == 0)
        #expect(run.stdout.hasPrefix(#"{"assign":["member"]"#))
    }

    @Test func evalExplainTracesEveryRule() throws {
        let run = try Self.rules(["eval", "--event", "rules/events/acme-admin.json", "--explain", "--now", Self.now])
        #expect(run.status == 0)
        #expect(
            run.stdout.contains(
                "rule \"acme staff\" at rules/company.rules:21: fired\n  true   user.email_verified = true\n  true   user.email matches /@acme\\.(com|de)$/i\n         user.email = \"ada@acme.com\"\n"
            ), "\(run.stdout)")
        #expect(
            run.stdout.contains(
                "  true   any(authentication.methods, m, m.name == \"mfa\")\n         authentication.methods = [{\"name\":\"mfa\""
            )
        )
        #expect(run.stdout.contains("         m = {\"name\":\"mfa\""))
        #expect(
            run.stdout.contains(
                "rule \"first login gets member\" at rules/default-roles.rules:7: not fired\n  false  logins_count == 1\n         logins_count = 62\n"
            ))
        #expect(run.stdout.contains("decision: {"))
    }

    @Test func batchModeKeepsGoingPastABadLine() throws {
        let input = """
            {"stats":{"logins_count":1}}
            this is not json
            {"stats":{"logins_count":2},"authorization":{"roles":["member"]}}

            {"stats":{"logins_count":1}
            {"stats":{"logins_count":1}}
            """
        let run = try Self.rules(["eval", "rules/default-roles.rules", "--events", "-"], input: Data(input.utf8))
        #expect(run.status == 2)
        let lines = run.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 5)
        #expect(lines[0].hasPrefix(#"{"assign":["member"]"#))
        #expect(
            lines[1].hasPrefix(#"{"error":{"line":2,"message":"invalid event: unexpected `t`, expected a JSON object"#))
        #expect(lines[2].hasPrefix(#"{"assign":[]"#))
        #expect(lines[3].hasPrefix(#"{"error":{"line":5,"#))
        #expect(lines[4].hasPrefix(#"{"assign":["member"]"#))
        #expect(run.stderr.contains("2 of 6 lines were not valid events"))
    }

    @Test func anOversizedLineIsAnErrorLineAndTheRestGoOn() throws {
        let big = #"{"pad":""# + String(repeating: "x", count: 3 << 20) + #""}"#
        let input = #"{"stats":{"logins_count":1}}"# + "\n" + big + "\n" + #"{"stats":{"logins_count":1}}"# + "\n"
        let run = try Self.rules(
            ["eval", "rules/default-roles.rules", "--events", "-", "--max-event-bytes", "1000000"],
            input: Data(input.utf8))
        let lines = run.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 3)
        #expect(
            lines[1] == #"{"error":{"line":2,"message":"event is 3145738 bytes, more than --max-event-bytes 1000000"}}"#
        )
        #expect(lines[2].hasPrefix(#"{"assign":["member"]"#))
        #expect(run.status == 2)
    }

    @Test func aFiftyMegabyteEventFileIsRefusedClearly() throws {
        let path = try Self.temporary("huge.json", #"{"pad":""# + String(repeating: "x", count: 50 << 20) + #""}"#)
        let run = try Self.rules(["eval", "rules/", "--event", path])
        #expect(run.status == 2)
        #expect(run.stderr.contains("is larger than 1048576 bytes"))
    }

    @Test func badInvocationsAndMissingFilesExitTwo() throws {
        #expect(try Self.rules(["eval"]).status == 64)  // argument-parser's usage error: neither --event nor --events
        let missing = try Self.rules(["check", "no/such/dir"])
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("no such file or directory: no/such/dir"))
        let badEvent = try Self.rules(["eval", "--event", "Package.swift"])
        #expect(badEvent.status == 2)
        #expect(badEvent.stderr.contains("invalid event"))
    }

    @Test func rulesWithErrorsStopEvalWithExitOne() throws {
        let path = try Self.temporary("e.rules", "when logins_count == \"1\" assign \"r\"")
        let run = try Self.rules(["eval", path, "--event", "rules/events/first-login.json"])
        #expect(run.status == 1)
        #expect(run.stderr.contains("error: comparing a number with a string"))
        #expect(run.stdout.isEmpty)
    }

    @Test func invalidUTF8InARuleFileIsReported() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "rolecall-utf8-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let path = directory.appendingPathComponent("bad.rules").path
        try Data([0x77, 0x68, 0x65, 0x6E, 0x20, 0xFF, 0x20]).write(to: URL(fileURLWithPath: path))
        let run = try Self.rules(["check", path])
        #expect(run.status == 1)
        #expect(run.stdout.contains("error: invalid UTF-8 byte in rule file [invalid-utf8]"))
    }

    @Test func testRunsTheExampleSuites() throws {
        let run = try Self.rules(["test"])
        #expect(run.status == 0, "\(run.stdout)")
        #expect(run.stdout.contains("ok    rules/default-roles.test.yaml: first login gets member\n"))
        #expect(run.stdout.hasSuffix("\n28 passed, 0 failed\n"))
    }

    /// A case name holding an escape sequence or a bidi override is printed escaped, never as itself.
    @Test func caseNamesAreShownWithHiddenCharactersEscaped() throws {
        let rules = try Self.temporary("n.rules", "rule \"n\" assign \"x\"")
        let directory = (rules as NSString).deletingLastPathComponent
        try """
        tests:
          - name: "red \\e[31m one \\u202E x"
            event: {}
            expect: {assign: [y]}
        """.write(toFile: directory + "/n.test.yaml", atomically: true, encoding: .utf8)
        let run = try Self.rules(["test", directory])
        #expect(run.status == 1)
        #expect(
            run.stdout.contains(#"FAIL  \#(directory)/n.test.yaml:2: red \u{1b}[31m one \u{202e} x"#), "\(run.stdout)")
        #expect(!run.stdout.unicodeScalars.contains { $0 == "\u{1B}" || $0 == "\u{202E}" })
    }

    @Test func aFailingSuiteExplainsAndExitsOne() throws {
        let rules = try Self.temporary(
            "staff.rules", "rule \"staff\" when user.email ends_with \"@acme.com\" assign \"staff\"")
        let directory = (rules as NSString).deletingLastPathComponent
        try """
        tests:
          - name: upper-case domain
            event: {user: {email: Ada@ACME.COM}}
            expect: {assign: [staff]}
          - name: broken
            event: {}
            expect: {asign: []}
        """.write(toFile: directory + "/staff.test.yaml", atomically: true, encoding: .utf8)
        let junit = directory + "/junit.xml"
        let run = try Self.rules(["test", directory, "--junit", junit, "--coverage"])
        #expect(run.status == 1)
        #expect(
            run.stdout.contains("\(directory)/staff.test.yaml:7:14: error: unknown key `asign`; did you mean `assign`?")
        )
        #expect(run.stdout.contains("FAIL  \(directory)/staff.test.yaml:2: upper-case domain\n"))
        #expect(run.stdout.contains("      assign: expected [\"staff\"], got [] (missing [\"staff\"])\n"))
        #expect(run.stdout.contains("hint: would be true ignoring letter case"))
        #expect(run.stdout.contains("coverage: 0/1 rules fired"))
        #expect(run.stdout.hasSuffix("\n0 passed, 2 failed\n"))
        #expect(
            try String(contentsOfFile: junit, encoding: .utf8).contains(
                "<testsuites name=\"rules test\" tests=\"2\" failures=\"2\">"))
    }

    @Test func fmtChecksAndRewritesAtomically() throws {
        let path = try Self.temporary("messy.rules", "# keep me\nrule  \"a\"   when x==1   assign \"r\" # and me\n")
        let check = try Self.rules(["fmt", "--check", path])
        #expect(check.status == 1)
        #expect(check.stdout == path + "\n")
        let printed = try Self.rules(["fmt", path])
        #expect(printed.stdout == "# keep me\nrule \"a\"\nwhen x == 1\nassign \"r\"  # and me\n")
        #expect(try Self.rules(["fmt", "--write", path]).status == 0)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == printed.stdout)
        #expect(try Self.rules(["fmt", "--check", path]).status == 0)
        let broken = try Self.temporary("broken.rules", "when assign \"r\"")
        let failed = try Self.rules(["fmt", "--write", broken])
        #expect(failed.status == 1)
        #expect(failed.stderr.contains("error: expected an expression"))
        #expect(try String(contentsOfFile: broken, encoding: .utf8) == "when assign \"r\"")
    }

    /// The reported attack: `fmt --write` wrote `\u{202e}` as the bidirectional control itself, and `check` then
    /// rejected the file. Escapes stay escapes, byte for byte, whether the file needs formatting or not.
    @Test func fmtWriteKeepsEscapesAndTheFileChecks() throws {
        let canonical = "rule \"x\"\nwhen user.email == \"a\\u{202e}b\"\nassign \"r\"\n"
        let path = try Self.temporary("f1.rules", canonical)
        #expect(try Self.rules(["check", path]).status == 0)
        #expect(try Self.rules(["fmt", "--check", path]).status == 0)
        #expect(try Self.rules(["fmt", "--write", path]).status == 0)
        #expect(try Self.rules(["check", path]).status == 0)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data(canonical.utf8))

        let messy = try Self.temporary(
            "zw.rules", "rule \"zw\"  when user.email==\"admin@acme.com\\u{200b}\" assign \"admin\\u{ad}\"")
        #expect(try Self.rules(["fmt", "--write", messy]).status == 0)
        let written = try Data(contentsOf: URL(fileURLWithPath: messy))
        #expect(
            written
                == Data("rule \"zw\"\nwhen user.email == \"admin@acme.com\\u{200b}\"\nassign \"admin\\u{ad}\"\n".utf8))
        let checked = try Self.rules(["check", messy])
        #expect(checked.status == 0, "\(checked.stdout)\(checked.stderr)")
    }

    @Test func applyCarriesOutTheExampleDecisionsOnTheSandbox() throws {
        let run = try Self.rules([
            "apply", "--sandbox", "--events", "rules/events/batch.jsonl", "--rate", "50", "--burst", "10", "--now",
            Self.now,
        ])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("done     assign staff to auth0|64f1c0a1ada00002 (rule \"acme staff\")\n"))
        #expect(
            run.stdout.contains(
                "skipped  revoke org-member from auth0|64f1c0a1mallory3 (rule \"blocked users lose everything\"): not held\n"
            ))
        #expect(run.stdout.contains("done     revoke member from auth0|64f1c0a1mallory3"))
        #expect(run.stdout.contains("4 users: 14 done, 2 skipped, 0 failed, 0 gave up\n"), "\(run.stdout)")
    }

    @Test func applyDryRunCallsNothing() throws {
        let run = try Self.rules(["apply", "--dry-run", "--event", "rules/events/blocked-user.json", "--now", Self.now])
        #expect(run.status == 0)
        #expect(
            run.stdout.hasPrefix("revoke staff from auth0|64f1c0a1mallory3 (rule \"blocked users lose everything\")\n"))
        #expect(run.stdout.contains("dry run, nothing called: 1 user: 3 planned, 0 done, 3 skipped"))
    }

    @Test func applyNeedsTenantSettings() throws {
        let run = try Self.rules(["apply", "--event", "rules/events/first-login.json"])
        #expect(run.status == 2)
        #expect(run.stderr.contains("set AUTH0_DOMAIN, AUTH0_CLIENT_ID, AUTH0_CLIENT_SECRET"))
    }

    @Test func applyWaitsOutRateLimitsSaysWhyAndKeepsSecrets() throws {
        var configuration = Sandbox.Configuration.seeded()
        configuration.clientSecret = "very-secret-value"
        configuration.faults.tooManyRequests = 2
        configuration.faults.resetAfter = 1
        let sandbox = Sandbox(configuration)
        defer { sandbox.shutdown() }
        let port = try sandbox.start()
        let environment = [
            "AUTH0_DOMAIN": configuration.domain, "AUTH0_CLIENT_ID": configuration.clientID,
            "AUTH0_CLIENT_SECRET": "very-secret-value", "AUTH0_BASE_URL": "http://127.0.0.1:\(port)",
        ]
        let run = try Self.rules(
            ["apply", "--event", "rules/events/first-login.json", "--rate", "50", "--burst", "10", "--now", Self.now],
            environment: environment)
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        #expect(run.stderr.contains("waiting before retrying a Management API request"))
        #expect(run.stderr.contains("wait.reason=x-ratelimit-reset"))
        #expect(
            run.stdout.contains("1 user: 2 done, 0 skipped, 0 failed, 0 gave up\n")
                && run.stdout.contains(", 2 retries, "),
            "\(run.stdout)")
        #expect(!run.stdout.contains("very-secret-value") && !run.stderr.contains("very-secret-value"))
        let member = configuration.roles.first { $0.name == "member" }!.id
        let organization = configuration.roles.first { $0.name == "org-member" }!.id
        #expect(Set(sandbox.roles(ofUser: "auth0|64f1c0a1first0001")) == [member, organization])
    }
}
