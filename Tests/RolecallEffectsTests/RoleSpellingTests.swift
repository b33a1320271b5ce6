import RolecallEffects
import RolecallEngine
import RolecallSandbox
import Testing

/// Role names are their bytes: `"caf\u{E9}"` and `"cafe\u{301}"` are two roles on an Auth0 tenant, each with its
/// own id, though Swift's `String` finds the two names equal. Every step from the decision to the tenant keeps
/// them apart, against a real sandbox tenant holding both.
@Suite(.serialized) struct RoleSpellingTests {
    static let nfc = "caf\u{E9}"
    static let nfd = "cafe\u{301}"

    /// A harness whose tenant has both spellings, in the order given, with ids that say which is which.
    static func harness(nfcFirst: Bool = true) throws -> Harness {
        try Harness { configuration in
            let both = [("rol_nfc", nfc), ("rol_nfd", nfd)]
            configuration.roles += nfcFirst ? both : both.reversed()
        }
    }

    static func bytes(_ names: [String]) -> [[UInt8]] { names.map { Array($0.utf8) } }

    /// Found in review: the client cached role ids by `String` and matched the listing with `==`, so once one
    /// spelling was looked up the other got its id (and `rules apply` would assign the wrong role).
    @Test(arguments: [true, false], [true, false])
    func eachSpellingGetsItsOwnRoleID(nfcFirstOnTenant: Bool, nfcLookedUpFirst: Bool) throws {
        let harness = try Self.harness(nfcFirst: nfcFirstOnTenant)
        let order = nfcLookedUpFirst ? [Self.nfc, Self.nfd] : [Self.nfd, Self.nfc]
        // Twice each: the second lookups are answered from the cache.
        for name in order + order {
            let id = try harness.client.roleID(named: name)
            let expected = Array(name.utf8) == Array(Self.nfc.utf8) ? "rol_nfc" : "rol_nfd"
            #expect(id == expected, "\(Array(name.utf8))")
        }
        #expect(harness.sandbox.log.filter { $0.path == "/api/v2/roles" }.count == 2)
    }

    /// One rule per spelling: the user gets both roles, each with its own id, and each outcome names its own rule.
    @Test func bothSpellingsAreAssignedEachItsOwnRole() throws {
        let harness = try Self.harness(nfcFirst: false)
        let workflow = ApplyWorkflow(
            evaluator: Evaluator(
                program: try RuleEngine.compile(
                    source: "rule \"nfc\" assign \"\(Self.nfc)\"\nrule \"nfd\" assign \"\(Self.nfd)\"")),
            runner: harness.runner)
        let event = Array(#"{"user":{"user_id":"auth0|1"}}"#.utf8)
        let (_, plan) = try event.withUnsafeBytes { try workflow.decide($0) }
        #expect(Self.bytes(plan.assign.map(\.role)) == Self.bytes([Self.nfc, Self.nfd]))
        #expect(plan.assign.map(\.rule) == ["nfc", "nfd"])
        let outcomes = workflow.carryOut(plan)
        #expect(outcomes.map(\.status) == [.done, .done])
        #expect(outcomes.map(\.rule) == ["nfc", "nfd"])
        #expect(Set(harness.sandbox.roles(ofUser: "auth0|1")) == ["rol_nfc", "rol_nfd"])
    }

    /// Holding one spelling is not holding the other: the planner skips only the spelling the user holds, and
    /// revokes only the spelling the user holds.
    @Test func holdingOneSpellingIsNotHoldingTheOther() throws {
        let harness = try Self.harness()
        harness.sandbox.setRoles(["rol_nfc"], ofUser: "auth0|1")
        let workflow = ApplyWorkflow(
            evaluator: Evaluator(
                program: try RuleEngine.compile(
                    source: "rule \"a\" assign \"\(Self.nfd)\"\nrule \"b\" revoke \"\(Self.nfd)\", \"x\"\n"
                        + "rule \"c\" assign \"\(Self.nfd)\"")),
            runner: harness.runner)
        let event = Array(#"{"user":{"user_id":"auth0|1"},"authorization":{"roles":["caf\u00e9"]}}"#.utf8)
        let (_, plan) = try event.withUnsafeBytes { try workflow.decide($0) }
        #expect(Self.bytes(plan.assign.map(\.role)) == Self.bytes([Self.nfd]))
        #expect(plan.assign.map(\.rule) == ["c"])
        #expect(plan.skipped.map(\.role) == ["x"])
        _ = workflow.carryOut(plan)
        #expect(Set(harness.sandbox.roles(ofUser: "auth0|1")) == ["rol_nfc", "rol_nfd"])
    }
}
