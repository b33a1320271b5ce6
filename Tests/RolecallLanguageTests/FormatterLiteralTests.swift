import Foundation
import RolecallJSON
import Testing

@testable import RolecallLanguage

/// `rules fmt` keeps every literal as written: an escape stays an escape, a character written as itself stays
/// itself, so formatting never turns a valid file into one `rules check` rejects, nor a visible escape into text
/// that prints like something else.
@Suite struct FormatterLiteralTests {
    /// The escapes of the scalars that print as nothing or as something they are not: every bidirectional control,
    /// zero-width and other format characters, line ends, and the two spellings of `é`.
    static let escapes = [
        "\\u{202a}", "\\u{202b}", "\\u{202c}", "\\u{202d}", "\\u{202e}", "\\u{2066}", "\\u{2067}", "\\u{2068}",
        "\\u{2069}", "\\u{200b}", "\\u{ad}", "\\u{feff}", "\\u{e0001}", "\\u{2028}", "\\u{85}", "caf\\u{e9}",
        "cafe\\u{301}", "\\u{7f}", "\\u{1b}", "\\n", "\\t", "\\r", "\\\"", "\\\\",
    ]

    /// Characters written as themselves that the lexer lets stand in a string: visible ones, the two spellings of
    /// `é` among them, private-use characters (a visible box), and a tab (as in Swift, Go and Rust). It refuses bidirectional
    /// controls and every other character that prints as nothing or as something else (see
    /// ``hiddenCharactersWrittenAsThemselvesAreNotFormatted(_:)``).
    static let literals = ["caf\u{e9}", "cafe\u{301}", "\u{5B57}", "\u{1F600}", "\u{E000}", "\u{10FFFD}", "\t"]

    /// A file with `inside` (source text between the quotes) in every place a string literal can stand: a `let`,
    /// a rule name, a condition operand, a quoted path key, a list, a quantifier, a call and the roles of every
    /// action.
    static func everywhere(_ inside: String) -> String {
        """
        let s = ["x\(inside)", "y"]
        rule "n\(inside)"  when user.email == "a\(inside)b" and user.app_metadata["k\(inside)"] in s
          or any(user.identities, i, i.provider starts_with "p\(inside)") or lower(user.name) == "l\(inside)"
        assign "r\(inside)" revoke "q\(inside)"
        revoke all except "e\(inside)"
        """
    }

    /// What `rules check` says about a file, position aside: severity, code, message, help and the underlined
    /// text, compared by their bytes (`String` equality would find `caf\u{e9}` and `cafe\u{301}` equal); or only
    /// severity and code, for a file whose messages quote code the layout changes.
    static func diagnostics(_ source: String, exact: Bool = true) -> [[UInt8]] {
        check(source).diagnostics.map {
            let text = exact ? "\($0.message) | \($0.help ?? "") | \($0.underlinedText)" : ""
            return Array("\($0.severity) \($0.code) \(text)".utf8)
        }.sorted { $0.lexicographicallyPrecedes($1) }
    }

    /// What the file compiles to, every decoded string exact: the rules and the `let`s in the canonical AST form,
    /// and each checked rule's name and effects.
    static func meaning(_ source: String) -> [UInt8] {
        let file = SourceFile(path: "test.rules", text: source)
        let declarations = Parser.parseDeclarations(file).declarations.map { declaration in
            switch declaration {
            case .rule(let rule): ASTPrinter.print(rule)
            case .binding(let binding): "(let \(binding.name) \(ASTPrinter.print(binding.value)))"
            }
        }
        let checked = check(source).rules.map { rule in
            "\(rule.name) \(rule.effects.map { "\($0.assign) \($0.role)" }) \(rule.revokeAll ?? []) \(rule.stops)"
        }
        return Array((declarations + checked).joined(separator: "\n").utf8)
    }

    /// Formatting `source` keeps what `rules check` says about it and what it compiles to, and a second pass
    /// changes nothing.
    static func expectFormattedKeepsMeaning(
        _ source: String, exact: Bool = true, sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> String {
        let once = try FormatterTests.format(source)
        #expect(
            diagnostics(once, exact: exact) == diagnostics(source, exact: exact), "\(source)\n---\n\(once)",
            sourceLocation: sourceLocation)
        #expect(meaning(once) == meaning(source), "\(source)\n---\n\(once)", sourceLocation: sourceLocation)
        let twice = try FormatterTests.format(once)
        #expect(Array(twice.utf8) == Array(once.utf8), "not idempotent:\n\(once)", sourceLocation: sourceLocation)
        return once
    }

    /// How many times `part` occurs in `text`, byte for byte.
    static func occurrences(of part: String, in text: String) -> Int {
        let bytes = Array(text.utf8)
        let needle = Array(part.utf8)
        guard !needle.isEmpty, bytes.count >= needle.count else { return 0 }
        return (0...(bytes.count - needle.count)).filter { bytes[$0..<($0 + needle.count)].elementsEqual(needle) }
            .count
    }

    @Test(arguments: escapes)
    func anEscapeStaysAnEscape(_ escape: String) throws {
        let source = Self.everywhere(escape)
        #expect(check(source).diagnostics.filter { $0.severity == .error }.isEmpty)
        let formatted = try Self.expectFormattedKeepsMeaning(source)
        // Every one of the nine literals keeps the escape, byte for byte.
        #expect(Self.occurrences(of: escape, in: formatted) == Self.occurrences(of: escape, in: source), "\(formatted)")
        #expect(Self.occurrences(of: escape, in: formatted) >= 9)
    }

    @Test(arguments: literals)
    func aCharacterWrittenAsItselfStaysItself(_ character: String) throws {
        let source = Self.everywhere(character)
        let formatted = try Self.expectFormattedKeepsMeaning(source)
        #expect(Self.occurrences(of: character, in: formatted) == Self.occurrences(of: character, in: source))
        #expect(!formatted.contains("\\u{"), "\(formatted)")
    }

    @Test(arguments: ["\u{202a}", "\u{202e}", "\u{2066}", "\u{2069}"])
    func bidiControlsWrittenAsThemselvesAreNotFormatted(_ character: String) {
        guard case .failure(let failure) = Formatter.format(SourceFile(path: "f", text: Self.everywhere(character)))
        else {
            Issue.record("a file with a bidirectional control in a string was formatted")
            return
        }
        #expect(failure.diagnostics.contains { $0.code == .bidiControl })
    }

    /// A character that prints as nothing or as something else, written as itself in a string, is an error that
    /// names it and says how to escape it, in every place a string stands (a lone carriage return made the rest
    /// of a line look like the next one: `"<CR>when false and user.x == "` read as a condition that never holds).
    @Test(arguments: [
        "\u{200b}", "\u{ad}", "\u{feff}", "\u{e0001}", "\u{2028}", "\u{2029}", "\u{85}", "\u{a0}", "\u{7f}", "\u{1b}",
        "\u{0}", "\r",
    ])
    func hiddenCharactersWrittenAsThemselvesAreNotFormatted(_ character: String) {
        // In a regex too, where the escape to write is PCRE2's.
        let pattern = check("when user.email matches /a\(character)b/ assign \"r\"").diagnostics
        let scalar = character.unicodeScalars.first!
        #expect(pattern.map(\.code) == [.hiddenCharacter], "\(pattern.map(\.message))")
        #expect(
            pattern.first?.help == "write it as an escape, `\\x{\(String(scalar.value, radix: 16))}`, if it is meant")
        let source = Self.everywhere(character)
        let hidden = check(source).diagnostics.filter { $0.code == .hiddenCharacter }
        #expect(hidden.count == Self.occurrences(of: character, in: source), "\(hidden.map(\.message))")
        #expect(hidden.first?.help == "write it as an escape, `\(HumanText.escape(scalar))`, if it is meant")
        guard case .failure = Formatter.format(SourceFile(path: "f", text: source)) else {
            Issue.record("a file with a hidden character in a string was formatted")
            return
        }
    }

    /// The reproducer of the report (`/tmp/attack-work/findings/f1-*.rules`): already in the canonical layout, so
    /// formatting gives back the same bytes, and `rules check` stays clean.
    @Test(arguments: [
        "rule \"x\"\nwhen user.email == \"a\\u{202e}b\"\nassign \"r\"\n",
        "rule \"zw\"\nwhen user.email == \"admin@acme.com\\u{200b}\"\nassign \"admin\"\n",
    ])
    func theReportedFilesFormatToThemselves(_ source: String) throws {
        #expect(check(source).diagnostics.isEmpty)
        let formatted = try Self.expectFormattedKeepsMeaning(source)
        #expect(Array(formatted.utf8) == Array(source.utf8))
        #expect(check(formatted).diagnostics.isEmpty)
    }

    @Test func regexesAndPathKeysKeepTheirSpelling() throws {
        let source = """
            rule "r"
            when user.email matches /a\\u{200b}\u{e9}\\//mi and user.app_metadata["caf\\u{e9}"] == 1
              and user["x\\u{ad}y"].z == 2
              and user["email"] == "a"
            assign "r"

            """
        let formatted = try Self.expectFormattedKeepsMeaning(source)
        // The flags come in their canonical order and `["email"]` becomes `.email`; the rest is as written.
        #expect(
            formatted == """
                rule "r"
                when user.email matches /a\\u{200b}\u{e9}\\//im
                  and user.app_metadata["caf\\u{e9}"] == 1
                  and user["x\\u{ad}y"].z == 2
                  and user.email == "a"
                assign "r"

                """)
    }

    @Test func theExamplesKeepTheirDiagnosticsAndMeaning() throws {
        let examples = try exampleRuleFiles()
        #expect(examples.count >= 2)
        for (_, text) in examples { _ = try Self.expectFormattedKeepsMeaning(text) }
        var generator = RuleGenerator(seed: 0xF0F1)
        for _ in 0..<200 { _ = try Self.expectFormattedKeepsMeaning(generator.ruleSet(), exact: false) }
    }

    /// A string with no source text (a tree built in code, a message's suggested fix) is written from its value:
    /// every scalar there is goes through the lexer back to itself, with no diagnostic, and none that is hidden in
    /// text, nor any the lexer refuses as itself, is written as itself.
    @Test func aStringWithoutSourceTextEscapesEveryHiddenScalar() {
        var scalars = String.UnicodeScalarView()
        for value in UInt32(0)...0x10FFFF {
            if let scalar = Unicode.Scalar(value) { scalars.append(scalar) }
        }
        let value = String(scalars)
        let literal = Formatter.Printer.string(value)
        #expect(!literal.unicodeScalars.contains { $0.isHiddenInText })
        let (tokens, diagnostics) = Lexer.tokenize(SourceFile(path: "s", text: literal))
        #expect(diagnostics.isEmpty, "\(diagnostics.prefix(3).map(\.message))")
        #expect(tokens.count == 2 && tokens[0].kind == .string)
        #expect(Array(tokens[0].text.utf8) == Array(value.utf8))
        #expect(
            Formatter.Printer.string("a\u{202e}b\u{200b}\u{e9}\"\\\n") == "\"a\\u{202e}b\\u{200b}\u{e9}\\\"\\\\\\n\"")
    }
}
