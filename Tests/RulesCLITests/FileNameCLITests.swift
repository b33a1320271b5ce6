import Foundation
import Testing

/// File names that are not valid UTF-8 (any bytes but `/` and NUL are a Unix file name) load and are shown with
/// their odd bytes escaped, through the built binaries; and an input that cannot be read is named.
@Suite struct FileNameCLITests {
    /// A directory holding `ok.rules` and `x\xe9.rules` (Latin-1 é: not UTF-8), made through the shell's printf,
    /// since Foundation's paths are strings.
    static func directory(second: String = "rule \"b\" when user.email_verified assign \"b\"\n") throws -> String {
        let root =
            (try CLITests.temporary("ok.rules", "rule \"a\" when user.email_verified assign \"a\"\n")
            as NSString).deletingLastPathComponent
        try second.write(toFile: root + "/second", atomically: true, encoding: .utf8)
        let made = try sh("cd \"$0\" && mv second \"$(printf 'x\\351.rules')\"", [root])
        #expect(made.status == 0, "\(made.stderr)")
        return root
    }

    /// Runs `script` with `arguments` as $0... in /bin/sh, with `RULES` set to the built binary.
    static func sh(_ script: String, _ arguments: [String]) throws -> CLITests.Run {
        try CLITests.rules(
            ["-c", script] + arguments, environment: ["RULES": CLITests.binary], executable: "/bin/sh")
    }

    @Test func aRuleFileWhoseNameIsNotUTF8Loads() throws {
        let root = try Self.directory()
        let check = try CLITests.rules(["check", root])
        #expect(check.status == 0, "\(check.stderr)")
        #expect(check.stdout == "checked 2 rules in 2 files: ok\n", "\(check.stdout) \(check.stderr)")
        let eval = try CLITests.rules(["eval", root, "--event", "rules/events/acme-admin.json"])
        #expect(eval.status == 0, "\(eval.stderr)")
    }

    @Test func itsNameIsShownQuotedWithTheByteEscaped() throws {
        let root = try Self.directory(second: "rule \"b\" when\n")
        let check = try CLITests.rules(["check", root])
        #expect(check.status == 1)
        #expect(check.stdout.hasPrefix("\"" + root + "/x\\xe9.rules\":2:1: error: "), "\(check.stdout)")
    }

    /// `fmt --check` lists the file quoted with its byte escaped, and `fmt --write` rewrites that very file: no second
    /// file named with the escape or with U+FFFD appears.
    @Test func fmtWritesTheFileItRead() throws {
        let root = try Self.directory(second: "rule \"b\"   when user.email_verified assign \"b\"\n")
        let check = try CLITests.rules(["fmt", "--check", root])
        #expect(check.status == 1)
        #expect(check.stdout.hasSuffix("\"" + root + "/x\\xe9.rules\"\n"), "\(check.stdout) \(check.stderr)")
        let write = try CLITests.rules(["fmt", "--write", root])
        #expect(write.status == 0, "\(write.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: root).count == 2)
        #expect(try CLITests.rules(["fmt", "--check", root]).status == 0)
    }

    /// `rules diff --base` reads committed rule files by their names' bytes, through real git: one named
    /// `x\xe9.rules` (not UTF-8) and one whose UTF-8 name spells U+10FFE9 (a code point of the range raw bytes
    /// are carried in). The base has both, under the names the working tree gives them (the same anonymous rule
    /// names), so a tree identical to the commit changes nothing, and an edit of the odd file is seen.
    @Test func diffBaseReadsCommittedFilesByTheirNamesBytes() throws {
        let root = (try CLITests.temporary("events.jsonl", DiffCLITests.events) as NSString).deletingLastPathComponent
        let made = try Self.sh(
            #"""
            cd "$0" && mkdir rules && printf 'rule "a" when user.email_verified assign "a"\n' > rules/ok.rules && \
            printf 'when user.email_verified assign "b"\n' > "rules/$(printf 'x\351.rules')" && \
            printf 'when user.email_verified assign "c"\n' > "rules/$(printf 'x\364\217\277\251.rules')" && \
            git init -q && git add -A && git -c user.name=t -c user.email=t@example.org commit -q -m rules
            """#, [root])
        #expect(made.status == 0, "\(made.stderr)")
        let arguments = ["diff", "--base", "HEAD", "--events", "events.jsonl", "--format", "json", "--exit-code"]
        let same = try CLITests.rules(arguments, directory: root)
        #expect(same.status == 0, "\(same.stdout) \(same.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(same.stdout.utf8)) as? [String: Any])
        #expect(report["changed"] as? Int == 0)
        let rules = try #require(report["rules"] as? [[String: Any]])
        #expect(rules.count == 3)
        #expect(rules.allSatisfy { $0["before"] as? Int == 1 && $0["after"] as? Int == 1 }, "\(rules)")
        // However the directory is spelt: `./rules` named the base's files `./rules/k.rules` (`ok.rules` less the
        // two characters of `./`), so its anonymous rule was another rule.
        for spelling in ["./rules", "rules/", "."] {
            let spelt = try CLITests.rules(arguments + [spelling], directory: root)
            #expect(spelt.status == 0, "\(spelling): \(spelt.stderr)")
            let report = try JSONSerialization.jsonObject(with: Data(spelt.stdout.utf8)) as? [String: Any]
            let rules = report?["rules"] as? [[String: Any]] ?? []
            #expect(rules.count == 3, "\(spelling): \(spelt.stdout)")
            #expect(rules.allSatisfy { $0["before"] as? Int == 1 && $0["after"] as? Int == 1 }, "\(spelling): \(rules)")
        }
        let edit = try Self.sh(
            #"printf 'when user.email_verified assign "d"\n' > "$0/rules/$(printf 'x\351.rules')""#, [root])
        #expect(edit.status == 0, "\(edit.stderr)")
        let changed = try CLITests.rules(arguments, directory: root)
        #expect(changed.status == 3, "\(changed.stdout) \(changed.stderr)")
        #expect(changed.stdout.contains(#""changed":1,"#), "\(changed.stdout)")
    }

    /// The file `x\xe9.rules` (the byte 0xE9) and the file named with a backslash, `x`, `e` and `9` are shown
    /// apart, in human and JSON diagnostics and in the `fmt --check` list: a name that needs escaping is quoted,
    /// and a backslash in it is written `\\` (git's `core.quotePath`).
    @Test func aRawByteAndABackslashAreShownApart() throws {
        let root = try Self.directory(second: "rule \"b\" when\n")
        try "rule \"c\" when\n".write(toFile: root + "/x\\xe9.rules", atomically: true, encoding: .utf8)
        let raw = "\"" + root + "/x\\xe9.rules\""
        let backslash = "\"" + root + "/x\\\\xe9.rules\""
        let json = try CLITests.rules(["check", root, "--format", "json"])
        #expect(json.status == 1)
        let document = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let files = (document["diagnostics"] as? [[String: Any]] ?? []).compactMap { $0["file"] as? String }
        #expect(files.sorted() == [raw, backslash].sorted(), "\(json.stdout)")
        let human = try CLITests.rules(["check", root])
        #expect(human.stdout.contains("\n" + raw + ":2:1: error: ") || human.stdout.hasPrefix(raw + ":2:1: error: "))
        #expect(human.stdout.contains(backslash + ":2:1: error: "), "\(human.stdout)")
        try "rule \"c\"   when user.email_verified assign \"c\"\n".write(
            toFile: root + "/x\\xe9.rules", atomically: true, encoding: .utf8)
        let made = try Self.sh(
            #"printf 'rule "b"   when user.email_verified assign "b"\n' > "$0/$(printf 'x\351.rules')""#, [root])
        #expect(made.status == 0, "\(made.stderr)")
        let fmt = try CLITests.rules(["fmt", "--check", root])
        #expect(fmt.status == 1)
        let listed = fmt.stdout.split(separator: "\n").map(String.init).filter { $0.contains("xe9") }
        #expect(listed.sorted() == [raw, backslash].sorted(), "\(fmt.stdout)")
    }

    /// `rules eval --explain` shows where a rule is (`at`) and `rules test` the suite's path, the trace's and the
    /// coverage's locations and a suite's problems, as diagnostics show file names: never the code point a raw
    /// byte is carried in.
    @Test func explainAndTestShowNamesAsDiagnosticsDo() throws {
        let root = try Self.directory()
        let raw = "\"" + root + "/x\\xe9.rules\""
        let explain = try CLITests.rules(["eval", root, "--event", "rules/events/acme-admin.json", "--explain"])
        #expect(explain.status == 0, "\(explain.stderr)")
        #expect(explain.stdout.contains("rule \"b\" at \(raw):1: fired"), "\(explain.stdout)")
        #expect(!Self.carriesRawBytes(explain.stdout + explain.stderr))
        let events = try Self.sh(
            #"printf 'nope\n' > "$0/$(printf 'ev\351.jsonl')" && "$RULES" eval "$0" --events "$0/$(printf 'ev\351.jsonl')""#,
            [root])
        #expect(events.stderr.hasPrefix("rules: \"\(root)/ev\\xe9.jsonl\":1: "), "\(events.stderr)")
        let suite = """
            tests:
              - name: verified
                event: {user: {email_verified: true}}
                expect:
                  assign: [a, b]
              - name: wrong on purpose
                event: {user: {email_verified: true}}
                expect:
                  assign: [a]

            """
        try suite.write(toFile: root + "/suite", atomically: true, encoding: .utf8)
        try "tests: 3\n".write(toFile: root + "/broken", atomically: true, encoding: .utf8)
        let made = try Self.sh(
            #"cd "$0" && mv suite "$(printf 's\351.test.yaml')" && mv broken "$(printf 't\351.test.yaml')""#, [root])
        #expect(made.status == 0, "\(made.stderr)")
        let test = try CLITests.rules(["test", root, "--coverage"])
        #expect(test.status == 1)
        #expect(!Self.carriesRawBytes(test.stdout + test.stderr), "\(test.stdout)")
        #expect(test.stdout.contains("ok    \"\(root)/s\\xe9.test.yaml\": verified\n"), "\(test.stdout)")
        #expect(test.stdout.contains("FAIL  \"\(root)/s\\xe9.test.yaml\":"), "\(test.stdout)")
        #expect(test.stdout.contains("rule \"b\" at \(raw):1: fired"), "\(test.stdout)")
        #expect(test.stdout.contains("  \(raw):1  \"b\"  fired in"), "\(test.stdout)")
        #expect(test.stdout.contains("\"\(root)/t\\xe9.test.yaml\":1:8: error: "), "\(test.stdout)")
    }

    /// `rules` finds `rules-full` beside it in a directory whose name is not UTF-8 (it read its own path lossily,
    /// and looked for `bin\u{fffd}/rules-full`).
    @Test func theLeanBinaryFindsItsSiblingInADirectoryNamedWithARawByte() throws {
        let root = (try CLITests.temporary("x", "") as NSString).deletingLastPathComponent
        let run = try Self.sh(
            #"""
            d="$0/$(printf 'bin\351')" && mkdir "$d" && \
            { ln "$RULES" "$d/rules" || cp "$RULES" "$d/rules"; } && \
            { ln "$RULES-full" "$d/rules-full" || cp "$RULES-full" "$d/rules-full"; } && "$d/rules" test --help
            """#, [root])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("USAGE: rules test"), "\(run.stdout)")
    }

    /// Whether `text` holds a code point of the range raw bytes of file names are carried in.
    static func carriesRawBytes(_ text: String) -> Bool { text.unicodeScalars.contains { $0.value >= 0x10_FF80 } }

    @Test func anEventFileWhoseNameIsNotUTF8IsRead() throws {
        let root = try Self.directory()
        let script = """
            cp rules/events/acme-admin.json "$0/$(printf 'ev\\351.json')" && \
            "$RULES" eval "$0" --event "$0/$(printf 'ev\\351.json')" && \
            "$RULES" eval "$0" --event "$0/$(printf 'none\\351.json')"
            """
        let run = try Self.sh(script, [root])
        #expect(run.stdout.hasPrefix(#"{"assign":"#), "\(run.stdout) \(run.stderr)")
        #expect(run.stderr == "rules: error: cannot open \"\(root)/none\\xe9.json\": No such file or directory\n")
        #expect(run.status == 2)
    }

    @Test func aDirectoryGivenAsEventsIsNamed() throws {
        let run = try CLITests.rules(["eval", "rules/", "--events", "rules/events"])
        #expect(run.status == 2)
        #expect(run.stderr.hasSuffix("rules: error: cannot read rules/events: Is a directory\n"), "\(run.stderr)")
    }

    /// Two files whose names differ only in Unicode normalisation (é as one scalar, and as e and a combining acute)
    /// make two unnamed rules of names that compare equal: the message says so and spells both files out.
    @Test func fileNamesThatDifferOnlyInEncodingAreSpelledOut() throws {
        let root = (try CLITests.temporary("x", "") as NSString).deletingLastPathComponent
        let made = try Self.sh(
            """
            cd "$0" && rm x && printf 'when user.email_verified assign "x"\\n' > "$(printf 'caf\\303\\251.rules')" && \
            printf 'when user.email_verified assign "y"\\n' > "$(printf 'cafe\\314\\201.rules')"
            """, [root])
        #expect(made.status == 0, "\(made.stderr)")
        let check = try CLITests.rules(["check", root])
        #expect(check.status == 1)
        // Which comes first is the directory's order: the two names compare equal as strings.
        let names = [Self.literal(root + "/cafe\u{301}.rules"), Self.literal(root + "/caf\u{e9}.rules")]
        let either = [names, names.reversed()].contains { pair in
            check.stdout.contains(
                "help: the files \(pair[0]) and \(pair[1]) have names that differ only in how their characters are "
                    + "encoded, and the rules' names, made from them, are compared as text; rename a file, or name the "
                    + "rules") && check.stdout.contains("note: first used here, in \(pair[0])\n")
        }
        #expect(either, "\(check.stdout)")
    }

    /// The same, for names that also hold a byte that is not UTF-8: the byte is spelt `\xff`, not as the code point
    /// it is carried in.
    @Test func fileNamesWithARawByteThatDifferOnlyInEncodingAreSpelledOut() throws {
        let root = (try CLITests.temporary("x", "") as NSString).deletingLastPathComponent
        let made = try Self.sh(
            #"""
            cd "$0" && rm x && printf 'when user.email_verified assign "x"\n' > "$(printf 'caf\303\251\377.rules')" && \
            printf 'when user.email_verified assign "y"\n' > "$(printf 'cafe\314\201\377.rules')"
            """#, [root])
        #expect(made.status == 0, "\(made.stderr)")
        let check = try CLITests.rules(["check", root])
        #expect(check.status == 1)
        #expect(check.stdout.contains(#"caf\u{e9}\xff.rules""#), "\(check.stdout)")
        #expect(check.stdout.contains(#"cafe\u{301}\xff.rules""#), "\(check.stdout)")
    }

    /// `text` as `Spelling.literal` writes it, for a path of ASCII and the two scalars above.
    static func literal(_ text: String) -> String {
        "\"" + text.unicodeScalars.map { $0.isASCII ? String($0) : "\\u{\(String($0.value, radix: 16))}" }.joined()
            + "\""
    }
}
