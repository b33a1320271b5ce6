import RolecallEngine
import Testing

@Suite struct EventRedactorTests {
    func redact(_ event: String, _ paths: [String]) throws -> String {
        String(decoding: try EventRedactor(paths: paths).redact(Array(event.utf8)), as: UTF8.self)
    }

    @Test func replacesOnlyThePathsValue() throws {
        let event = "{ \"user\" : {\"email\":\"ann@acme.com\" , \"name\":\"Ann\"},\n\"email\":\"keep\" }"
        #expect(
            try redact(event, ["user.email"])
                == "{ \"user\" : {\"email\":\"[redacted]\" , \"name\":\"Ann\"},\n\"email\":\"keep\" }")
    }

    @Test func redactsWholeSubtreesAndListElements() throws {
        let event = "{\"user\":{\"identities\":[{\"t\":1},{\"t\":[2,{\"x\":3}]}],\"app_metadata\":{\"a\":[1]}}}"
        #expect(
            try redact(event, ["user.identities[1].t", "user.app_metadata"])
                == "{\"user\":{\"identities\":[{\"t\":1},{\"t\":\"[redacted]\"}],\"app_metadata\":\"[redacted]\"}}")
    }

    /// Found by the first attack: there was no way to redact a field of every element of a list, such as the
    /// access token of each of a user's identities.
    @Test func redactsAFieldOfEveryElement() throws {
        let event =
            "{\"user\":{\"identities\":[{\"provider\":\"google\",\"access_token\":\"t1\"},"
            + "{\"provider\":\"github\",\"access_token\":\"t2\",\"profile\":{\"k\":1}},7]}}"
        #expect(
            try redact(event, ["user.identities[*].access_token", "user.identities[1].profile"])
                == "{\"user\":{\"identities\":[{\"provider\":\"google\",\"access_token\":\"[redacted]\"},"
                + "{\"provider\":\"github\",\"access_token\":\"[redacted]\",\"profile\":\"[redacted]\"},7]}}")
        #expect(
            try redact("{\"a\":[1,[2],{\"b\":3}]}", ["a[*]"])
                == "{\"a\":[\"[redacted]\",\"[redacted]\",\"[redacted]\"]}")
    }

    @Test func comparesKeysAfterTheirEscapes() throws {
        #expect(
            try redact("{\"user\":{\"e\\u006dail\":\"x\"}}", ["user.email"])
                == "{\"user\":{\"e\\u006dail\":\"[redacted]\"}}")
    }

    @Test func redactsEveryOccurrenceOfARepeatedKey() throws {
        #expect(try redact("{\"a\":1,\"a\":2}", ["a"]) == "{\"a\":\"[redacted]\",\"a\":\"[redacted]\"}")
    }

    @Test func leavesEventsWithoutThePathAsTheyWere() throws {
        let event = "{\"user\":\"not an object\",\"x\":[1,2,3],\"s\":\"\\u00e9\"}"
        #expect(try redact(event, ["user.email", "x[7]", "nothing.here"]) == event)
        #expect(try redact(event, []) == event)
    }

    @Test func refusesInvalidJSON() {
        #expect(throws: JSONError.self) { try redact("{\"user\":{\"email\":\"x\"}", ["user.email"]) }
        #expect(throws: JSONError.self) { try redact("{} []", ["user.email"]) }
    }

    @Test(arguments: ["", "user.", ".email", "user..email", "a[x]", "a[-1]", "a[1", "a[**]", "a[]"])
    func refusesMalformedPaths(_ path: String) {
        #expect(throws: EventRedactor.PathError.self) { try EventRedactor(paths: [path]) }
    }
}
