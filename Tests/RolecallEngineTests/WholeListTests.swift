import Foundation
import Testing

@testable import RolecallEngine

/// A list the rules read as a whole (`"admin" in user.app_metadata.groups`) is checked strictly. Lists of plain
/// strings take a short path (`JSONScanner.skipPlainStringList`), anything else the general one
/// (`skipValueStrictly`); the two must accept and refuse the same lists, with the same errors.
@Suite struct WholeListTests {
    static let rules = #"when "admin" in user.app_metadata.groups assign "admin""#

    static func event(_ groups: String) -> [UInt8] {
        Array(#"{"user":{"app_metadata":{"groups":\#(groups)}}}"#.utf8)
    }

    @Test(arguments: [
        ("[]", false), (#"["admin"]"#, true), (#"["x", "admin" ]"#, true), (#"["x","y"]"#, false),
        (#"["a\u0064min"]"#, true), (#"["x",1,null,{"admin":1}]"#, false), (#"["x",["admin"]]"#, false),
    ])
    func acceptedLists(groups: String, admin: Bool) throws {
        let decision = try Evaluator(program: try compile(WholeListTests.rules)).evaluate(WholeListTests.event(groups))
        #expect(decision.assign == (admin ? ["admin"] : []))
    }

    /// Each list is refused, and the same list one level down (an element of a list, so that only the general
    /// path reads it) is refused with the same message, one byte later.
    @Test(arguments: [
        #"["a" "b"]"#, #"["a",]"#, #"[,"a"]"#, #"["a\x"]"#, "[\"a\u{1}\"]", #"["\ud800"]"#,
        #"["a",1e999]"#, #"["a",{"k":1,"k":2}]"#, #"["a",tru]"#, #"["a"}"#,
    ])
    func refusedListsGetTheGeneralPathsError(groups: String) throws {
        let short = try rejection(WholeListTests.event(groups), rules: WholeListTests.rules)
        let general = try rejection(WholeListTests.event("[\(groups)]"), rules: WholeListTests.rules)
        let shortError = try #require(short, "\(groups) was accepted")
        let generalError = try #require(general, "[\(groups)] was accepted")
        #expect(shortError.offset + 1 == generalError.offset, "\(groups)")
        #expect(
            shortError.message == generalError.message.replacingOccurrences(of: "groups[0]", with: "groups"),
            "\(groups)")
    }

    /// A list cut off by the end of the event, at each place the short path can meet it.
    @Test(arguments: [
        (#"["#, "unexpected end of input, expected `]` or a value"), (#"["a"#, "unterminated string"),
        (#"["a""#, "unexpected end of input, expected `,` or `]`"),
        (#"["a","#, "unexpected end of input, expected a value"),
    ])
    func truncatedLists(groups: String, message: String) throws {
        let event = Array(#"{"user":{"app_metadata":{"groups":\#(groups)"#.utf8)
        let error = try #require(try rejection(event, rules: WholeListTests.rules))
        #expect(error.message == message)
    }
}
