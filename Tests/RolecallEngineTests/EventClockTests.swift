import RolecallEngine
import Testing

/// `rules log export`'s stamp: the clock as the event's first member, every other byte as it was.
@Suite struct EventClockTests {
    static let clock = 1_796_030_100.25
    static let member = #""rolecall_now":"2026-11-30T09:15:00.250Z""#

    @Test(arguments: [
        ("{}", "{\(member)}"),
        (" { } \n", " {\(member) } \n"),
        (#"{"a":1}"#, "{\(member),\"a\":1}"),
        (#"{ "a" : [1, {"b": null}] , "c":"}"}"#, "{\(member), \"a\" : [1, {\"b\": null}] , \"c\":\"}\"}"),
        // A client's own `rolecall_now` is never the clock: it goes, with one comma.
        (#"{"rolecall_now":"2000-01-01T00:00:00Z","a":1}"#, "{\(member),\"a\":1}"),
        (#"{"a":1, "rolecall_now":"x"}"#, "{\(member),\"a\":1}"),
        (#"{"a":1,"rolecall_now":"x","b":2}"#, "{\(member),\"a\":1,\"b\":2}"),
        (#"{ "rolecall_now" : 5 }"#, "{\(member) }"),
        (#"{"rolecall\u005fnow":5,"a":{"rolecall_now":1}}"#, "{\(member),\"a\":{\"rolecall_now\":1}}"),
        (#"{"a":1,"rolecall_now":1,"rolecall_now":2}"#, "{\(member),\"a\":1}"),
        // Not an object, or not JSON: unchanged (the evaluator will say what is wrong).
        ("[1]", "[1]"),
        (#"{"a":"#, #"{"a":"#),
        ("", ""),
    ])
    func stampsTheClockFirst(event: String, stamped: String) {
        let result = EventClock.stamp(Array(event.utf8), clock: Self.clock)
        #expect(String(decoding: result, as: UTF8.self) == stamped)
    }

    /// A stamped event is read back with the clock by a replay (`clockFromEvent`), and is otherwise the event.
    @Test func aStampedEventDecidesTheSame() throws {
        let program = try compile(#"rule "staff" when user.email ends_with "@acme.com" assign "staff""#)
        let evaluator = Evaluator(program: program)
        evaluator.clockFromEvent = true
        let event = Array(#"{"user":{"user_id":"auth0|1","email":"a@acme.com"}}"#.utf8)
        let plain = try evaluator.evaluate(event)
        let stamped = try evaluator.evaluate(EventClock.stamp(event, clock: Self.clock))
        #expect(plain.json == stamped.json)
    }
}
