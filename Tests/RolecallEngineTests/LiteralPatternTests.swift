import RolecallEngine
import RolecallLanguage
import RolecallRegex
import Testing

/// Regexes that are literals in disguise are matched without PCRE2 (issue 10, item 2); these tests hold the fast
/// path to PCRE2's answer on the inputs where the two could part: a final newline, the empty string, multibyte
/// UTF-8, letter case, escaped strings in the event.
@Suite struct LiteralPatternTests {
    /// PCRE2's answer for `pattern` on `subject`.
    static func pcre2(_ pattern: String, _ flags: CompiledRegex.Flags, _ subject: String) throws -> Bool {
        try CompiledRegex(pattern, flags: flags).matches(subject, scratch: RegexScratch())
    }

    /// The fast path's answer, or nil when the pattern is not recognised.
    static func literal(_ pattern: String, _ flags: CompiledRegex.Flags, _ subject: String) -> Bool? {
        guard let literal = LiteralPattern.recognise(pattern, flags: flags) else { return nil }
        var copy = subject
        return copy.withUTF8 { literal.matches(UnsafeRawBufferPointer($0)) }
    }

    @Test(
        arguments: [
            ("@acme\\.com$", [], ["@acme.com"], false, true),
            ("(iPhone|Android)", [], ["iPhone", "Android"], false, false),
            (
                "@(gmail|yahoo|hotmail|outlook)\\.com$", [],
                ["@gmail.com", "@yahoo.com", "@hotmail.com", "@outlook.com"],
                false, true
            ),
            ("^acme", [], ["acme"], true, false),
            ("^a-b$", [], ["a-b"], true, true),
            ("(?:x|y)z", [], ["xz", "yz"], false, false),
            ("Windows NT|X11", [], ["Windows NT", "X11"], false, false),
            ("Firefox\\/", [], ["Firefox/"], false, false),
            ("ACME\\.DE$", [.caseInsensitive], ["acme.de"], false, true),
            ("ünï", [], ["ünï"], false, false),
            ("acme", [.multiline, .dotAll], ["acme"], false, false),
        ] as [(String, CompiledRegex.Flags, [String], Bool, Bool)])
    func recognisedPatterns(
        pattern: String, flags: CompiledRegex.Flags, literals: [String], atStart: Bool, atEnd: Bool
    ) throws {
        let recognised = try #require(LiteralPattern.recognise(pattern, flags: flags))
        #expect(recognised.literals == literals.map { Array($0.utf8) })
        #expect(recognised.anchoredAtStart == atStart)
        #expect(recognised.anchoredAtEnd == atEnd)
    }

    /// Anything but plain literal text, one group of literal alternatives and the anchors stays with PCRE2.
    @Test(
        arguments: [
            ("", []), ("$", []), ("a.c", []), ("a\\d", []), ("\\bword", []), ("a+", []), ("(a)?", []),
            ("(a|b)(c|d)", []),
            ("((a))", []), ("(a|)", []), ("a|", []), ("^a|b", []), ("a|b$", []), ("[ab]", []), ("a{2}", []), ("a}", []),
            ("(?i)a", []), ("\\\\$x", []), ("acme$", [.multiline]), ("^acme", [.multiline]), ("a b", [.extended]),
            ("kelvin", [.caseInsensitive]), ("case", [.caseInsensitive]), ("ü", [.caseInsensitive]), ("\\Qa\\E", []),
            ("a\\", []), ("(*F)", []), ("a(?=b)", []),
        ] as [(String, CompiledRegex.Flags)])
    func patternsLeftToPCRE2(pattern: String, flags: CompiledRegex.Flags) {
        #expect(LiteralPattern.recognise(pattern, flags: flags) == nil)
    }

    static let patterns: [(String, CompiledRegex.Flags)] = [
        ("@acme\\.com$", []), ("(iPhone|Android)", []), ("@(gmail|yahoo|hotmail|outlook)\\.com$", []), ("^acme", []),
        ("^acme$", []), ("acme", []), ("Windows NT|Macintosh|X11", []), ("@(contoso|fabrikam)\\.", []),
        ("@ACME\\.COM$", [.caseInsensitive]), ("^Acme$", [.caseInsensitive]), ("acme", [.caseInsensitive]),
        ("ü$", []), ("^é", []), ("日本", []), ("a\\\\$", []), ("\\$", []), ("x", []), ("aa", []), ("(a|aa)$", []),
        ("acme$", [.dotAll]), ("acme", [.multiline]), ("a\\$$", []),
    ]

    static let subjects: [String] = [
        "", "\n", "\n\n", "acme", "acme\n", "acme\n\n", "acme\r\n", "\nacme", "xacme", "acmex", "ACME", "Acme\n",
        "aCmE",
        "x@acme.com", "x@acme.com\n", "x@acme.com\n\n", "x@acme.com.evil.io", "x@ACME.COM", "x@acme.co", "@acme.com",
        "a@gmail.com", "a@yahoo.com\n", "a@hotmail.co", "a@outlook.com ", "Mozilla (iPhone; CPU)", "Android 14",
        "iPhon Androi", "iPhoneAndroid", "aiPhone", String(repeating: "iPhon", count: 500) + "iPhone",
        String(repeating: "a", count: 1000), String(repeating: "ab", count: 333), "ü", "ü\n", "xü", "üx", "é", "éa",
        "e\u{301}",
        "日本語", "日本", "本日", "a\\", "a\\\n", "$", "a$", "x", "aa", "aaa", "a", "\u{212A}", "\u{17F}", "ACME\u{212A}",
        "Windows NT 10.0", "Macintosh; Intel", "X11; Linux", "windows nt", "@contoso.com", "@fabrikam.", "@fabrikam",
        "\u{0}acme", "ac\u{0}me", "acm", "cme",
    ]

    @Test(arguments: patterns)
    func fastPathAgreesWithPCRE2(pattern: String, flags: CompiledRegex.Flags) throws {
        #expect(LiteralPattern.recognise(pattern, flags: flags) != nil, "expected `\(pattern)` to be recognised")
        for subject in Self.subjects {
            // Every prefix and suffix too: the word-at-a-time search has edges at 16 and 17 bytes.
            let bytes = Array(subject.utf8)
            var variants = [subject]
            for cut in stride(from: 1, to: min(bytes.count, 40), by: 1) {
                variants.append(String(decoding: bytes[cut...], as: UTF8.self))
            }
            for variant in variants {
                for padded in [
                    variant, String(repeating: "-", count: 13) + variant, variant + String(repeating: "-", count: 21),
                ] {
                    #expect(
                        Self.literal(pattern, flags, padded) == (try Self.pcre2(pattern, flags, padded)),
                        "/\(pattern)/ on \(padded.debugDescription)")
                }
            }
        }
    }

    /// With `i`, an ASCII letter other than k and s matches only itself in either case, in all of Unicode: PCRE2's
    /// Unicode case folding adds no other character (k and s are left to PCRE2 for U+212A and U+017F).
    @Test func caselessLettersMatchNoOtherCharacter() throws {
        let scratch = RegexScratch()
        for letter in "abcdefghijlmnopqrtuvwxyz" {
            let regex = try CompiledRegex(String(letter), flags: .caseInsensitive)
            #expect(regex.literal != nil)
            for value in 0x80..<0x3_0000 {
                guard let scalar = Unicode.Scalar(value) else { continue }
                #expect(try !regex.matches(String(Character(scalar)), scratch: scratch), "\(letter) and U+\(value)")
            }
        }
    }

    /// The engine takes the fast path only under limits no literal match can reach; an evaluator whose limits
    /// forbid it runs PCRE2 on every match, so the two must decide and explain every event alike.
    @Test func decisionsAndTracesMatchPCRE2() throws {
        let rules = """
            rule "staff" when user.email matches /@acme\\.com$/ assign "staff"
            rule "consumer" when user.email matches /@(gmail|yahoo)\\.com$/i assign "consumer"
            rule "mobile" when request.user_agent matches /(iPhone|Android)/ assign "mobile"
            rule "exact" when user.nickname matches /^ada$/ assign "ada"
            rule "typed" when user.app_metadata.plan matches /pro/ assign "pro"
            """
        let events = [
            #"{"user":{"email":"x@acme.com"}}"#, #"{"user":{"email":"x@acme.com\n"}}"#,
            #"{"user":{"email":"x@acme.com\n\n"}}"#, #"{"user":{"email":"x@acme\u002ecom"}}"#,
            #"{"user":{"email":"x@ACME.com"}}"#, #"{"user":{"email":"x@GMAIL.COM"}}"#,
            #"{"user":{"email":"x@yahoo.com\n"}}"#, #"{"user":{"email":""}}"#, #"{"user":{"email":null}}"#,
            #"{"user":{"email":"ü@acme.com","nickname":"ada\n"}}"#, #"{"user":{"nickname":"Ada"}}"#,
            #"{"request":{"user_agent":"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X)"}}"#,
            #"{"request":{"user_agent":"iPh\u006fne"}}"#, #"{"request":{"user_agent":"Andr\"oid"}}"#,
            #"{"request":{"user_agent":42}}"#, #"{"user":{"app_metadata":{"plan":["pro"]}}}"#,
            #"{"user":{"app_metadata":{"plan":"pro"}}}"#,
        ]
        let program = try compile(rules)
        let fast = Evaluator(program: program)
        var limits = RegexScratch.Limits()
        limits.matchLimit = 999
        let pcre2 = Evaluator(program: program, limits: limits)
        for event in events {
            let bytes = Array(event.utf8)
            #expect(try fast.evaluate(bytes) == pcre2.evaluate(bytes), "\(event)")
            #expect(try fast.explain(bytes).text == pcre2.explain(bytes).text, "\(event)")
        }
    }

    /// `"x" in list` remembers a list's strings for one run of the rules; lists that are not plain strings (escapes,
    /// numbers, nesting, whitespace) and a new event in the same bytes must still decide afresh.
    @Test func listMembershipIsDecidedAfreshPerEvent() throws {
        let rules = """
            rule "admin" when "admin" in user.app_metadata.groups assign "admin"
            rule "ops" when "ops" in user.app_metadata.groups or "x" in user.app_metadata.groups assign "ops"
            rule "empty" when "" in user.app_metadata.groups assign "empty"
            rule "long" when "a-very-long-group-name" in user.app_metadata.groups assign "long"
            """
        let cases: [(String, [String])] = [
            (#"["admin","ops"]"#, ["admin", "ops"]), (#"[ "ops" , "admin" ]"#, ["admin", "ops"]), ("[]", []),
            (#"["adm\u0069n"]"#, ["admin"]), (#"["x\"","admin"]"#, ["admin"]), (#"[1,"admin",null]"#, ["admin"]),
            (#"[["admin"],{"a":"ops"}]"#, []), (#"[""]"#, ["empty"]), (#"["admins","op","opsx"]"#, []),
            (#"["a-very-long-group-name"]"#, ["long"]), (#"["a-very-long-group-namf"]"#, []), ("null", []),
            (#"["x"]"#, ["ops"]),
        ]
        let evaluator = Evaluator(program: try compile(rules))
        // Every list starts at the same offset, as in a batch whose events share a shape.
        for (groups, roles) in cases {
            let event = Array(#"{"user":{"app_metadata":{"groups":\#(groups)}}}"#.utf8)
            let decision = try event.withUnsafeBytes { try evaluator.evaluate($0) }
            #expect(decision.assign == roles, "\(groups)")
        }
    }
}
