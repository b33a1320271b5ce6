import RolecallLanguage
import Testing

@Suite struct LexerTests {
    static func kinds(_ source: String) -> [String] {
        Lexer.tokenize(SourceFile(path: "t", text: source)).tokens.dropLast().map { token in
            switch token.kind {
            case .identifier: "id:\(token.text)"
            case .keyword(let keyword): "kw:\(keyword.rawValue)"
            case .string: "str:\(token.text)"
            case .number: "num:\(token.text)"
            case .regex: "re:\(token.text)/\(token.flags.rawValue)"
            default: "`\(Token.spelling(token.kind))`"
            }
        }
    }

    @Test(arguments: [
        ("rule \"a\" when x assign \"b\"", ["kw:rule", "str:a", "kw:when", "id:x", "kw:assign", "str:b"]),
        (
            "a == 1 != 2.5 < <= > >= -3",
            ["id:a", "`==`", "num:1", "`!=`", "num:2.5", "`<`", "`<=`", "`>`", "`>=`", "`-`", "num:3"]
        ),
        (
            "user.app_metadata[\"x-team\"][0]",
            ["id:user", "`.`", "id:app_metadata", "`[`", "str:x-team", "`]`", "`[`", "num:0", "`]`"]
        ),
        ("/@acme\\.com$/i", ["re:@acme\\.com$/1"]),
        ("/a\\/b/imsx", ["re:a\\/b/15"]),
        ("\"\\\"q\\\" \\\\ \\n\\t\\r \\u{e9}\"", ["str:\"q\" \\ \n\t\r é"]),
        ("1e3 0.5", ["num:1e3", "num:0.5"]),
        ("x # comment \"not a string\"\ny", ["id:x", "id:y"]),
        ("starts_with ends_with not in", ["kw:starts_with", "kw:ends_with", "kw:not", "kw:in"]),
        ("\"ünïcödé ✓\"", ["str:ünïcödé ✓"]),
    ])
    func tokens(source: String, expected: [String]) {
        #expect(Self.kinds(source) == expected)
    }

    @Test func spansCoverTheTokenBytes() {
        let file = SourceFile(path: "t", text: "when  \"é\" == 12")
        let tokens = Lexer.tokenize(file).tokens
        #expect(tokens.map { file.text($0.span) } == ["when", "\"é\"", "==", "12", ""])
    }

    @Test(arguments: [
        ("\"abc", DiagnosticCode.unterminatedString, "\"abc"),
        ("\"a\\qb\"", .invalidEscape, "\\q"),
        ("\"\\u{110000}\"", .invalidEscape, "\\u{110000}"),
        ("/abc", .unterminatedRegex, "/abc"),
        ("/abc/g", .invalidRegexFlag, "g"),
        ("x @ 1", .unexpectedCharacter, "@"),
        ("12abc", .invalidNumber, "12abc"),
    ])
    func lexicalErrors(source: String, code: DiagnosticCode, underlined: String) {
        let diagnostics = Lexer.tokenize(SourceFile(path: "t", text: source)).diagnostics
        #expect(diagnostics.map(\.code) == [code])
        #expect(diagnostics.first?.underlinedText == underlined)
    }

    @Test func invalidUTF8IsReportedAndSkipped() {
        let file = SourceFile(path: "t", bytes: Array("when x ".utf8) + [0xFF, 0xFE] + Array(" == 1".utf8))
        let (tokens, diagnostics) = Lexer.tokenize(file)
        #expect(diagnostics.map(\.code) == [.invalidUTF8])
        #expect(tokens.count == 5)  // when x == 1 EOF
    }

    @Test func unterminatedStringStopsAtTheLineEnd() {
        let (tokens, diagnostics) = Lexer.tokenize(SourceFile(path: "t", text: "\"abc\nassign"))
        #expect(diagnostics.map(\.code) == [.unterminatedString])
        #expect(tokens.map(\.kind).contains(.keyword(.assign)))
    }
}
