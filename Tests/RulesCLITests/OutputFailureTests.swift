import Foundation
import Testing

/// A failed write to standard output is an error through the built binaries: `rules eval … > decisions.jsonl` on a
/// full disk must not leave a truncated file and report success. Standard output is `/dev/full` (every write fails
/// with ENOSPC) or closed (`>&-`, EBADF); the command must say so once and exit 2.
@Suite struct OutputFailureTests {
    /// How standard output is broken, as a shell redirection.
    static let redirections = [
        ("/dev/full", ">/dev/full", "No space left on device"), ("closed", ">&-", "Bad file descriptor"),
    ]

    /// Runs `rules ARGS` through the shell with standard output redirected by `redirection`.
    static func rules(_ arguments: [String], _ redirection: String, input: Data? = nil) throws -> CLITests.Run {
        try CLITests.rules(
            ["-c", "exec \"$0\" \"$@\" \(redirection)", CLITests.binary] + arguments, input: input,
            executable: "/bin/sh")
    }

    /// Expects the one message and exit code 2.
    static func expectFailure(_ run: CLITests.Run, _ reason: String, _ what: String) {
        #expect(run.status == 2, "\(what): \(run.status) \(run.stderr)")
        let message = "rules: error: cannot write output: \(reason)\n"
        #expect(run.stderr.hasSuffix(message), "\(what): \(run.stderr)")
        #expect(run.stderr.components(separatedBy: "cannot write output").count == 2, "\(what): once")
    }

    /// Many events: more output than one write, so the reading must stop rather than decide all of them.
    static let events = String(
        repeating: #"{"user":{"user_id":"auth0|1","email":"a@acme.com","logins_count":3},"connection":{"name":"db"}}"#
            + "\n", count: 50_000)

    @Test(arguments: redirections)
    func evalCheckFmtTest(_ name: String, _ redirection: String, _ reason: String) throws {
        // The events from a file: one fed through a pipe would kill this test process with SIGPIPE when the
        // command stops reading early, as it should.
        let events = try CLITests.temporary("events.jsonl", Self.events)
        let runs: [(String, [String], Data?)] = [
            ("eval --event", ["eval", "rules/", "--event", "rules/events/acme-admin.json"], nil),
            ("eval --events", ["eval", "rules/", "--events", events, "--jobs", "1"], nil),
            ("eval --jobs 2", ["eval", "rules/", "--events", events, "--jobs", "2"], nil),
            ("eval --explain", ["eval", "rules/", "--event", "rules/events/acme-admin.json", "--explain"], nil),
            ("check", ["check", "rules/"], nil),
            ("fmt", ["fmt", "rules/"], nil),
            ("test", ["test", "rules/", "--now", CLITests.now], nil),
            ("--version", ["--version"], nil),
            ("help (ArgumentParser's print)", ["check", "--help"], nil),
        ]
        for (what, arguments, input) in runs {
            Self.expectFailure(try Self.rules(arguments, redirection, input: input), reason, "\(name) \(what)")
        }
    }

    @Test(arguments: redirections)
    func diff(_ name: String, _ redirection: String, _ reason: String) throws {
        let root = try DiffCLITests.fixture()
        for format in ["human", "json"] {
            let run = try Self.rules(
                [
                    "diff", root + "/new", "--base-path", root + "/old", "--events", root + "/events.jsonl",
                    "--format", format,
                ], redirection)
            Self.expectFailure(run, reason, "\(name) diff \(format)")
        }
    }

    /// The language server ignores SIGPIPE, so a write that fails (the editor gone) must end it with a message.
    @Test(arguments: redirections)
    func languageServer(_ name: String, _ redirection: String, _ reason: String) throws {
        let body = #"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}"#
        let run = try Self.rules(
            ["lsp"], redirection, input: Data("Content-Length: \(body.utf8.count)\r\n\r\n\(body)".utf8))
        #expect(run.status == 1, "\(name): \(run.stderr)")
        #expect(run.stderr.contains("rules lsp: error: cannot write output: \(reason)\n"), "\(name): \(run.stderr)")
    }

    /// Found by an attacker: `rules sandbox > /dev/full` lost the settings it prints and served on as if nothing
    /// happened. A sandbox nobody can read the settings of stops with the message and exit code 2 (`rules serve`
    /// writes its start-up line to standard error, so it has no such write to lose).
    @Test(arguments: redirections)
    func sandbox(_ name: String, _ redirection: String, _ reason: String) throws {
        let run = try CLITests.rules(
            ["-c", "exec \"$0\" \"$@\" \(redirection)", CLITests.binary, "sandbox", "--port", "0"], limit: 30,
            executable: "/bin/sh")
        Self.expectFailure(run, reason, "\(name) sandbox")
    }

    /// Found by an attacker: `rules lsp <&-` ended with exit code 1 and no word, as if the editor had closed the
    /// input. Input that cannot be read is said, with the exit code of unreadable input.
    @Test func languageServerWithoutStandardInput() throws {
        let run = try CLITests.rules(
            ["-c", "exec \"$0\" \"$@\" <&-", CLITests.binary, "lsp"], limit: 30, executable: "/bin/sh")
        #expect(run.status == 2, "\(run.status) \(run.stderr)")
        #expect(run.stderr == "rules lsp: error: cannot read standard input: Bad file descriptor\n", "\(run.stderr)")
        // Input that ends is still the end of the session, without a message.
        let ended = try CLITests.rules(["lsp"], input: Data())
        #expect(ended.status == 1 && ended.stderr.isEmpty, "\(ended.status) \(ended.stderr)")
    }

    /// Events from a closed standard input: the message calls it standard input, as `rules lsp`'s does, not `-`.
    @Test func eventsFromAClosedStandardInput() throws {
        let run = try CLITests.rules(
            ["-c", "exec \"$0\" \"$@\" <&-", CLITests.binary, "eval", "rules/", "--events", "-"], limit: 30,
            executable: "/bin/sh")
        #expect(run.status == 2, "\(run.status) \(run.stderr)")
        #expect(
            run.stderr.hasSuffix("rules: error: cannot read standard input: Bad file descriptor\n"), "\(run.stderr)")
    }

    /// The same commands with a working standard output still succeed. A reader that leaves early ends the command
    /// through SIGPIPE (141 from the shell), as before; where SIGPIPE is ignored (inherited so), the broken pipe
    /// is an error like any other failed write, never a silent success.
    @Test func workingOutputAndAReaderThatLeaves() throws {
        let ok = try CLITests.rules(["check", "rules/"])
        #expect(ok.status == 0 && !ok.stderr.contains("cannot write"))
        let events = try CLITests.temporary("events.jsonl", Self.events)
        let head = try CLITests.rules(
            [
                "-c",
                "\"$0\" \"$@\" 2>/tmp/rolecall-epipe.$$ | head -c 10 >/dev/null; s=${PIPESTATUS[0]}; "
                    + "cat /tmp/rolecall-epipe.$$ >&2; rm -f /tmp/rolecall-epipe.$$; exit $s",
                CLITests.binary, "eval", "rules/", "--events", events,
            ], executable: "/bin/bash")
        let killed = head.status == 141 && !head.stderr.contains("cannot write")
        let reported = head.status == 2 && head.stderr.hasSuffix("rules: error: cannot write output: Broken pipe\n")
        #expect(killed || reported, "\(head.status) \(head.stderr)")
    }
}
