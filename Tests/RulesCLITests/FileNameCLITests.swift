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

    @Test func itsNameIsShownWithTheByteEscaped() throws {
        let root = try Self.directory(second: "rule \"b\" when\n")
        let check = try CLITests.rules(["check", root])
        #expect(check.status == 1)
        #expect(check.stdout.hasPrefix(root + "/x\\xe9.rules:2:1: error: "), "\(check.stdout)")
    }

    /// `fmt --check` lists the file with its byte escaped, and `fmt --write` rewrites that very file: no second
    /// file named with the escape or with U+FFFD appears.
    @Test func fmtWritesTheFileItRead() throws {
        let root = try Self.directory(second: "rule \"b\"   when user.email_verified assign \"b\"\n")
        let check = try CLITests.rules(["fmt", "--check", root])
        #expect(check.status == 1)
        #expect(check.stdout.hasSuffix(root + "/x\\xe9.rules\n"), "\(check.stdout) \(check.stderr)")
        let write = try CLITests.rules(["fmt", "--write", root])
        #expect(write.status == 0, "\(write.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: root).count == 2)
        #expect(try CLITests.rules(["fmt", "--check", root]).status == 0)
    }

    @Test func anEventFileWhoseNameIsNotUTF8IsRead() throws {
        let root = try Self.directory()
        let script = """
            cp rules/events/acme-admin.json "$0/$(printf 'ev\\351.json')" && \
            "$RULES" eval "$0" --event "$0/$(printf 'ev\\351.json')" && \
            "$RULES" eval "$0" --event "$0/$(printf 'none\\351.json')"
            """
        let run = try Self.sh(script, [root])
        #expect(run.stdout.hasPrefix(#"{"assign":"#), "\(run.stdout) \(run.stderr)")
        #expect(run.stderr == "rules: error: cannot open \(root)/none\\xe9.json: No such file or directory\n")
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

    /// `text` as `Spelling.literal` writes it, for a path of ASCII and the two scalars above.
    static func literal(_ text: String) -> String {
        "\"" + text.unicodeScalars.map { $0.isASCII ? String($0) : "\\u{\(String($0.value, radix: 16))}" }.joined()
            + "\""
    }
}
