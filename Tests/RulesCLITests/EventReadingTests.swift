import Foundation
import Testing

/// Issue 7, items 3 and 13: `rules eval` and `rules apply` read an event once, with one meaning, and agree on it.
@Suite struct EventReadingTests {
    static let rules = #"rule "alice is admin" when user.email == "alice@acme.com" assign "admin""#

    /// Runs `rules eval` and `rules apply --dry-run` on one event.
    static func both(_ event: String) throws -> (eval: CLITests.Run, apply: CLITests.Run) {
        let path = try CLITests.temporary("r.rules", rules)
        let eval = try CLITests.rules(["eval", path, "--event", "-"], input: Data(event.utf8))
        let apply = try CLITests.rules(["apply", path, "--dry-run", "--event", "-"], input: Data(event.utf8))
        return (eval, apply)
    }

    @Test func aDuplicatedUserIsRefusedByEvalAndApply() throws {
        let (eval, apply) = try Self.both(
            #"{"user":{"user_id":"auth0|alice","email":"alice@acme.com"},"user":{"user_id":"auth0|mallory"}}"#)
        #expect(eval.status == 2)
        #expect(eval.stderr.contains("invalid event: the key `user` appears twice in the event"), "\(eval.stderr)")
        #expect(apply.status == 2)
        #expect(!apply.stdout.contains("mallory"), "\(apply.stdout)")
        #expect(apply.stderr.contains("the key `user` appears twice in the event"), "\(apply.stderr)")
    }

    @Test func aDuplicatedUserIDIsRefusedByApply() throws {
        let (_, apply) = try Self.both(
            #"{"user":{"user_id":"auth0|alice","email":"alice@acme.com","user_id":"auth0|mallory"}}"#)
        #expect(apply.status == 2)
        #expect(apply.stderr.contains("the key `user.user_id` appears twice in the event"), "\(apply.stderr)")
    }

    @Test func thePlannerTakesTheUserAndRolesFromTheEvaluatorsReading() throws {
        // Escaped keys and values are decoded once, by the reader, for the rules and the plan alike.
        let (eval, apply) = try Self.both(
            #"{"user":{"user_\u0069d":"auth0|\u0061lice","email":"alice@acme.com"},"authorization":{"roles":["x"]}}"#)
        #expect(eval.status == 0)
        #expect(apply.status == 0, "\(apply.stderr)")
        #expect(apply.stdout.hasPrefix("assign admin to auth0|alice (rule \"alice is admin\")\n"), "\(apply.stdout)")
        let (_, held) = try Self.both(
            #"{"user":{"user_id":"auth0|alice","email":"alice@acme.com"},"authorization":{"roles":["admin"]}}"#)
        #expect(held.stdout.hasPrefix("skipped  assign admin to auth0|alice"), "\(held.stdout)")
    }

    @Test func aNumberOutOfRangeNobodyReadsIsAcceptedByEvalAndApply() throws {
        let (eval, apply) = try Self.both(
            #"{"user":{"user_id":"auth0|alice","email":"alice@acme.com"},"stats":{"huge":1e999}}"#)
        #expect(eval.status == 0, "\(eval.stderr)")
        #expect(eval.stdout.contains(#""matched":["alice is admin"]"#))
        #expect(apply.status == 0, "\(apply.stderr)")
        #expect(apply.stdout.hasPrefix("assign admin to auth0|alice"), "\(apply.stdout)")
    }

    @Test func aLoneSurrogateInTheUserIDIsRefused() throws {
        let (eval, apply) = try Self.both(#"{"user":{"user_id":"auth0|\ud800","email":"alice@acme.com"}}"#)
        #expect(eval.status == 2)
        #expect(apply.status == 2)
        #expect(
            apply.stderr.contains("`user.user_id` holds a lone surrogate `\\ud800`, which I-JSON forbids"),
            "\(apply.stderr)")
        #expect(!apply.stdout.contains("assign admin"))
    }
}
