import RolecallEngine
import RolecallLanguage
import RolecallRegex
import Testing

/// A pattern may not set PCRE2 options for itself (issue 7, item 13): `(*NO_JIT)acme` passed the checker and then
/// failed on every event.
@Suite struct RegexOptionTests {
    /// The diagnostics of a rule matching `user.email` against `pattern` (a regex literal as written).
    static func diagnostics(_ pattern: String) -> [Diagnostic] {
        RuleEngine.compile([SourceFile(path: "t.rules", text: "when user.email matches \(pattern) assign \"r\"")])
            .diagnostics
    }

    @Test(arguments: [
        ("/(*NO_JIT)acme/", "(*NO_JIT)"), ("/(*LIMIT_MATCH=1)acme/", "(*LIMIT_MATCH=1)"),
        ("/(*LIMIT_HEAP=0)a/", "(*LIMIT_HEAP=0)"), ("/(*LIMIT_DEPTH=1)a/", "(*LIMIT_DEPTH=1)"),
        ("/(*NO_START_OPT)a/", "(*NO_START_OPT)"), ("/(*UTF)a/", "(*UTF)"), ("/(*UCP)a/", "(*UCP)"),
        ("/(*CR)a$/m", "(*CR)"), ("/(*NOTEMPTY)a*/", "(*NOTEMPTY)"), ("/(*BSR_ANYCRLF)\\R/", "(*BSR_ANYCRLF)"),
        ("\"(*NO_JIT)acme\"", "(*NO_JIT)"),
    ])
    func startOfPatternOptionsAreRefusedAtLoad(pattern: String, option: String) throws {
        let found = Self.diagnostics(pattern)
        let d = try #require(found.first)
        #expect(found.count == 1)
        #expect(d.severity == .error)
        #expect(d.code == .invalidRegex)
        #expect(d.message == "invalid regex: `\(option)` sets a PCRE2 matching option, which rules cannot change")
        #expect(d.underlinedText == option)
    }

    @Test func theSecondOfTwoOptionsIsRefusedToo() throws {
        #expect(CompiledRegex.startOption(in: "(*COMMIT)(*NO_JIT)a") == nil)
        #expect(CompiledRegex.startOption(in: "(*UTF)(*NO_JIT)a")?.text == "(*UTF)")
        #expect(CompiledRegex.startOption(in: "a(*NO_JIT)") == nil)
        #expect(CompiledRegex.startOption(in: "(*pla:a)b") == nil)
        #expect(CompiledRegex.startOption(in: "(*MARK:x)a") == nil)
    }

    @Test func compiledRegexRefusesThemWithoutTheChecker() {
        #expect(throws: CompiledRegex.CompileError.self) { try CompiledRegex("(*NO_JIT)acme") }
        #expect(throws: CompiledRegex.CompileError.self) { try CompiledRegex("a\\Cb") }
    }

    @Test func backslashCIsRefusedPointingIntoThePattern() throws {
        let d = try #require(Self.diagnostics("/ab\\C/").first)
        #expect(d.code == .invalidRegex)
        #expect(d.message.contains("\\C"), "\(d.message)")
    }

    @Test func ordinaryPatternsAndBacktrackingVerbsStillMatch() throws {
        let rules = """
            rule "acme" when user.email matches /@acme\\.com$/i assign "staff"
            rule "commit" when user.email matches /(*COMMIT)ada/ assign "ada"
            """
        let decision = try decide(rules, #"{"user": {"email": "ada@ACME.com"}}"#)
        #expect(decision.matched == ["acme", "commit"])
        #expect(decision.errors.isEmpty)
        let other = try decide(rules, #"{"user": {"email": "bob@example.com"}}"#)
        #expect(other.matched.isEmpty)
        #expect(other.errors.isEmpty)
    }
}
