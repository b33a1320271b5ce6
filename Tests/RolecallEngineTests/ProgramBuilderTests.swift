import RolecallEngine
import Testing

/// The field tree the compiler builds for the event reader (issue 7, item 9: found by hash, not by scanning).
@Suite struct ProgramBuilderTests {
    @Test func keysThatAreEqualAsStringsButNotAsBytesAreDifferentFields() throws {
        // `é` precomposed and `e` + combining acute are equal Swift strings but different JSON keys.
        let rules = """
            rule "precomposed" when user.app_metadata["\u{E9}"] == "a" assign "x"
            rule "combining" when user.app_metadata["e\u{301}"] == "b" assign "y"
            """
        let decision = try decide(rules, "{\"user\": {\"app_metadata\": {\"e\u{301}\": \"b\"}}}")
        #expect(decision.matched == ["combining"])
        let other = try decide(rules, "{\"user\": {\"app_metadata\": {\"\u{E9}\": \"a\"}}}")
        #expect(other.matched == ["precomposed"])
    }

    @Test func thousandsOfSiblingFieldsEachGetTheirOwnSlot() throws {
        let count = 3_000
        let rules = (1...count).map {
            "rule \"r\($0)\" when user.app_metadata.f\($0) == \"x\($0)\" assign \"role\($0)\""
        }
        .joined(separator: "\n")
        let decision = try decide(rules, #"{"user": {"app_metadata": {"f1": "x1", "f2999": "x2999", "f3000": "no"}}}"#)
        #expect(decision.matched == ["r1", "r2999"])
        #expect(decision.assign == ["role1", "role2999"])
    }
}
