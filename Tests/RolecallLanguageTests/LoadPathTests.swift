import Testing

@testable import RolecallLanguage

/// The two ways a rule set is checked (rule by rule as it is parsed when no file has the word `let`, or once
/// every file is parsed) and the hash index the load uses must not change what the checker reports.
@Suite struct LoadPathTests {
    /// Rules with something to report in most of them: duplicate names, unreachable rules, overridden effects,
    /// type errors, syntax errors, lints.
    static let source = (1...300).map { i -> String in
        switch i % 10 {
        case 0: return "rule \"dup\(i % 4)\" when user.app_metadata.plan == \"p\(i % 7)\" assign \"a\(i % 5)\"\n"
        case 1: return "rule \"s\(i)\" when user.app_metadata.plan == \"p\(i % 7)\" revoke \"a\(i % 5)\"\n"
        case 2: return "rule \"t\(i)\" when logins_count == 1 assign \"first\"\n"
        case 3: return "rule \"u\(i)\" when user.user_metadata.role == \"admin\" assign \"admin\"\n"
        case 4: return "rule \"v\(i)\" when user.email_verified == \"yes\" assign \"v\"\n"
        case 5:
            return
                "rule \"w\(i)\" when user.app_metadata.tier == \"x\" and user.app_metadata.tier == \"y\" assign \"w\"\n"
        case 6: return "when user.app_metadata.f\(i) == \"x\" assign \"anon\(i % 3)\" revoke \"anon\(i % 3)\"\n"
        case 7: return "rule \"x\(i)\" when user.app_metadata.plan = \"p\" assign \"x\"\n"
        case 8: return "rule \"y\(i)\" when user.emial == \"x\" assign \"y\"\n"
        default: return i == 299 ? "rule \"stopper\" stop\n" : "rule \"z\(i)\" revoke all except \"rol_1\"\n"
        }
    }.joined()

    static func render(_ files: [SourceFile]) -> String {
        DiagnosticRenderer.json(Checker.check(files).diagnostics)
    }

    @Test func aRuleSetIsReportedAlikeCheckedAsParsedOrAfterParsing() {
        let plain = SourceFile(path: "a.rules", text: Self.source)
        // A comment with the word makes the checker parse every file before checking any rule.
        let worded = SourceFile(path: "a.rules", text: Self.source + "# let\n")
        #expect(!Checker.mayDeclareBinding(plain))
        #expect(Checker.mayDeclareBinding(worded))
        let rendered = Self.render([plain])
        #expect(rendered.contains("duplicate-rule") && rendered.contains("overridden-effect"))
        #expect(rendered.contains("unreachable-rule") && rendered.contains("single-equals"))
        #expect(rendered == Self.render([worded]))
        // Two files, the second one with the word: the same as both without it.
        let second = Self.source.replacing("rule \"", with: "rule \"b")
        #expect(
            Self.render([plain, SourceFile(path: "b.rules", text: second)])
                == Self.render([plain, SourceFile(path: "b.rules", text: second + "# let\n")]))
    }

    @Test(arguments: [
        ("let", true), ("outlet ", true), ("complete", false), ("letter", false), ("x_let_y", false), ("", false),
    ])
    func theWordLetIsFoundWhereAWordCanEnd(text: String, found: Bool) {
        #expect(Checker.mayDeclareBinding(SourceFile(path: "t", text: text)) == found)
    }

    @Test func aHashIndexFindsEachValueByItsKeyAmongEqualHashes() {
        var index = HashIndex()
        let keys = (0..<5_000).map { "key\($0)" }
        // Every tenth key shares one hash: the index must tell them apart by the caller's comparison.
        func hash(_ position: Int) -> Int { position % 10 == 0 ? 42 : keys[position].hashValue }
        for position in keys.indices { index.insert(hash(position), position) }
        #expect(index.count == keys.count)
        for position in keys.indices {
            #expect(index.find(hash(position), where: { keys[$0] == keys[position] })?.value == position)
        }
        #expect(index.find("absent".hashValue, where: { keys[$0] == "absent" }) == nil)
        let slot = index.find(hash(30), where: { keys[$0] == "key30" })!.slot
        index.replace(at: slot, with: 4_999)
        #expect(index.find(hash(30), where: { $0 == 4_999 })?.value == 4_999)
        #expect(index.find(hash(30), where: { $0 == 30 }) == nil)
    }
}
