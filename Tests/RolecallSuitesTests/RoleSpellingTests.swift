import RolecallSuites
import Testing

/// Role names are their bytes: `"caf\u{E9}"` and `"cafe\u{301}"` are two roles, though Swift's `String` finds
/// them equal. A suite expecting one spelling is not satisfied by the other.
@Suite struct SuiteRoleSpellingTests {
    /// The rules assign only the precomposed spelling; each case names the decomposed one somewhere.
    @Test func anExpectationOfOneSpellingIsNotMetByTheOther() throws {
        let scratch = try Scratch([
            "r.rules": "rule \"nfc\" assign \"caf\u{E9}\"",
            "r.test.yaml": """
            tests:
              - {name: the given spelling, event: {}, expect: {assign: ["caf\\u00e9"], roles: ["caf\\u00e9"]}}
              - {name: the other spelling, event: {}, expect: {assign: ["cafe\\u0301"]}}
              - {name: both spellings, event: {}, expect: {assign: ["caf\\u00e9", "cafe\\u0301"]}}
              - {name: includes the other, event: {}, expect: {roles_includes: ["cafe\\u0301"]}}
              - {name: excludes the other, event: {}, expect: {roles_excludes: ["cafe\\u0301"], assign_excludes: ["cafe\\u0301"]}}
              - {name: held, event: {authorization: {roles: ["cafe\\u0301"]}}, expect: {roles: ["caf\\u00e9"]}}
            """,
        ])
        let report = SuiteRunner().run([scratch.path + "/r.test.yaml"])
        #expect(report.problems.isEmpty, "\(report.problems)")
        let passed = Dictionary(uniqueKeysWithValues: report.results.map { ($0.name, $0.passed) })
        #expect(
            passed == [
                "the given spelling": true, "the other spelling": false, "both spellings": false,
                "includes the other": false, "excludes the other": true, "held": false,
            ])
        let both = try #require(report.results.first { $0.name == "both spellings" })
        #expect(both.mismatches.count == 1)
        // Compared as bytes: `String.contains` would find the other spelling too.
        let missing = Array(#"(missing ["cafe\u{301}"])"#.utf8)
        #expect(Array((both.mismatches.first ?? "").utf8).suffix(missing.count).elementsEqual(missing))
        // No rule assigns the decomposed spelling: every case expecting it to be produced is warned about.
        #expect(
            report.warnings.compactMap(\.caseName).sorted() == [
                "both spellings", "includes the other", "the other spelling",
            ])
    }

    /// The two spellings print alike: a message naming both writes their scalars out, and says what differs.
    @Test func messagesShowTheTwoSpellingsApart() throws {
        let scratch = try Scratch([
            "r.rules": "rule \"nfc\" assign \"caf\u{E9}\"",
            "r.test.yaml": """
            tests:
              - {name: the other spelling, event: {}, expect: {assign: ["cafe\\u0301"]}}
            """,
        ])
        let report = SuiteRunner().run([scratch.path + "/r.test.yaml"])
        let failure = try #require(report.results.first)
        #expect(
            failure.mismatches == [
                #"assign: expected ["cafe\u{301}"], got ["caf\u{e9}"] (missing ["cafe\u{301}"]; unexpected ["caf\u{e9}"]);"#
                    + #" "cafe\u{301}" and "caf\u{e9}" differ only in how their characters are encoded"#
            ])
        #expect(
            report.warnings.map(\.message) == [
                #"no rule assigns `"cafe\u{301}"`, so `assign` expecting it cannot pass; did you mean `"caf\u{e9}"`,"#
                    + " which differs only in how its characters are encoded?"
            ])
    }

    /// A name that prints like no other is shown as itself, but a hidden scalar in it is written out.
    @Test func aHiddenScalarInARoleIsEscaped() throws {
        let scratch = try Scratch([
            "r.rules": "rule \"r\" assign \"admin\"",
            "r.test.yaml": """
            tests:
              - {name: hidden, event: {}, expect: {assign: ["caf\\u00e9\\u202e"]}}
            """,
        ])
        let report = SuiteRunner().run([scratch.path + "/r.test.yaml"])
        let failure = try #require(report.results.first)
        #expect(
            failure.mismatches == [
                #"assign: expected ["café\u{202e}"], got ["admin"] (missing ["café\u{202e}"]; unexpected ["admin"])"#
            ])
    }
}

/// Object keys are their bytes too: a `patch` key in the other spelling is another member, not a replacement.
@Suite struct SuiteObjectKeySpellingTests {
    @Test func aPatchKeyInTheOtherSpellingIsAnotherMember() throws {
        let scratch = try Scratch(["e.json": #"{"user":{"app_metadata":{"caf\u00e9":1}}}"#])
        let suite = SuiteLoader.parse(
            """
            tests:
              - name: patched
                event: e.json
                patch: {user: {app_metadata: {"cafe\\u0301": 2}}}
                expect: {}
            """, path: "s.test.yaml", directory: scratch.path)
        #expect(suite.problems.isEmpty, "\(suite.problems)")
        let serialized = try #require(suite.cases.first).event.serialized
        let expected = "{\"user\":{\"app_metadata\":{\"caf\u{E9}\":1,\"cafe\u{301}\":2}}}"
        #expect(Array(serialized.utf8) == Array(expected.utf8))
    }
}
