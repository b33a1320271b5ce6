import Foundation
import Testing

/// `rules eval --events` writes, byte for byte, what it wrote before the start-up and output work of issue 10
/// (the expected text below was produced by the binary before it): on odd lines (blank, whitespace, CRLF, cut
/// short, invalid, oversized, two values, the last one without a line end), from a mapped file, from standard
/// input and with `--jobs 2`, with and without `--explain`.
@Suite struct EvalOutputTests {
    static let rules = """
        rule "staff" when user.email ends_with "@acme.com" assign "staff"
        rule "eu" when request.geoip.countryCode in ["DE", "FR"] assign "eu"

        """

    /// One event per kind of line; the last line has no line end.
    static let events = [
        #"{"user":{"email":"a@acme.com"},"request":{"geoip":{"countryCode":"DE"}}}"#,
        "",
        "   \t",
        #"{"user":{"email":"b@gmail.com"}}"# + "\r",
        #"{"user":{"email":"c@acme.com""#,
        #"{"user":{"email":"d@acme.com\nx"}}"#,
        #"{"user":{"email":""# + String(repeating: "x", count: 300) + #""}}"#,
        "not json",
        #"{"user":{"email":"e@acme.com"}} {}"#,
        #"{"request":{"geoip":{"countryCode":"FR"}}}"#,
    ].joined(separator: "\n")

    static let decisions = #"""
        {"assign":["staff","eu"],"revoke":[],"roles":["staff","eu"],"matched":["staff","eu"],"errors":[]}
        {"assign":[],"revoke":[],"roles":[],"matched":[],"errors":[]}
        {"error":{"line":5,"message":"invalid event: unexpected end of input, expected `,` or `}` at byte 29"}}
        {"assign":[],"revoke":[],"roles":[],"matched":[],"errors":[]}
        {"error":{"line":7,"message":"event is 321 bytes, more than --max-event-bytes 200"}}
        {"error":{"line":8,"message":"invalid event: unexpected `n`, expected a JSON object (the event) at byte 0"}}
        {"error":{"line":9,"message":"invalid event: unexpected `{`, expected the end of the event at byte 32"}}
        {"assign":["eu"],"revoke":[],"roles":["eu"],"matched":["eu"],"errors":[]}

        """#

    static let trace = #"""
        rule "staff" at g.rules:1: fired
          true   user.email ends_with "@acme.com"
                 user.email = "a@acme.com"
        rule "eu" at g.rules:2: fired
          true   request.geoip.countryCode in ["DE", "FR"]
                 request.geoip.countryCode = "DE"
        decision: {"assign":["staff","eu"],"revoke":[],"roles":["staff","eu"],"matched":["staff","eu"],"errors":[]}
        rule "staff" at g.rules:1: not fired
          false  user.email ends_with "@acme.com"
                 user.email = "b@gmail.com"
        rule "eu" at g.rules:2: not fired
          false  request.geoip.countryCode in ["DE", "FR"]
                 request.geoip.countryCode = null
        decision: {"assign":[],"revoke":[],"roles":[],"matched":[],"errors":[]}
        {"error":{"line":5,"message":"invalid event: unexpected end of input, expected `,` or `}` at byte 29"}}
        rule "staff" at g.rules:1: not fired
          false  user.email ends_with "@acme.com"
                 user.email = "d@acme.com\nx"
        rule "eu" at g.rules:2: not fired
          false  request.geoip.countryCode in ["DE", "FR"]
                 request.geoip.countryCode = null
        decision: {"assign":[],"revoke":[],"roles":[],"matched":[],"errors":[]}
        {"error":{"line":7,"message":"event is 321 bytes, more than --max-event-bytes 200"}}
        {"error":{"line":8,"message":"invalid event: unexpected `n`, expected a JSON object (the event) at byte 0"}}
        {"error":{"line":9,"message":"invalid event: unexpected `{`, expected the end of the event at byte 32"}}
        rule "staff" at g.rules:1: not fired
          false  user.email ends_with "@acme.com"
                 user.email = null
        rule "eu" at g.rules:2: fired
          true   request.geoip.countryCode in ["DE", "FR"]
                 request.geoip.countryCode = "FR"
        decision: {"assign":["eu"],"revoke":[],"roles":["eu"],"matched":["eu"],"errors":[]}

        """#

    /// What standard error says, for input named `source`.
    static func messages(_ source: String) -> String {
        #"""
        rules: \#(source):5: invalid event: unexpected end of input, expected `,` or `}` at byte 29
        rules: \#(source):7: event is 321 bytes, more than --max-event-bytes 200
        rules: \#(source):8: invalid event: unexpected `n`, expected a JSON object (the event) at byte 0
        rules: \#(source):9: invalid event: unexpected `{`, expected the end of the event at byte 32
        rules: 4 of 10 lines were not valid events

        """#
    }

    /// Runs `rules eval` on the events in a directory of its own, as a file or (`-`) on standard input.
    static func eval(_ source: String, _ extra: [String]) throws -> CLITests.Run {
        let rules = try CLITests.temporary("g.rules", Self.rules)
        let directory = URL(fileURLWithPath: rules).deletingLastPathComponent().path
        try Self.events.write(toFile: directory + "/odd.jsonl", atomically: true, encoding: .utf8)
        let arguments = ["eval", "g.rules", "--events", source, "--max-event-bytes", "200", "--now", CLITests.now]
        return try CLITests.rules(
            arguments + extra, input: source == "-" ? Data(Self.events.utf8) : nil, directory: directory)
    }

    @Test(arguments: ["odd.jsonl", "-"], [[], ["--jobs", "2"], ["--jobs", "1"]])
    func decisionsAreUnchanged(source: String, jobs: [String]) throws {
        let run = try Self.eval(source, jobs)
        #expect(run.stdout == Self.decisions)
        #expect(run.stderr == Self.messages(source))
        #expect(run.status == 2)
    }

    @Test(arguments: ["odd.jsonl", "-"], [[], ["--jobs", "2"], ["--jobs", "1"]])
    func tracesAreUnchanged(source: String, jobs: [String]) throws {
        let run = try Self.eval(source, ["--explain"] + jobs)
        #expect(run.stdout == Self.trace)
        #expect(run.stderr == Self.messages(source))
        #expect(run.status == 2)
    }
}
