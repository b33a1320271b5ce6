import ArgumentParser
import RolecallEngine
import RolecallJSON

/// `--now`: the evaluation clock of `days_since`, shared by `rules eval`, `rules test` and `rules apply`.
package struct ClockOption: ParsableArguments {
    package init() {}

    @Option(
        name: .customLong("now"),
        help: ArgumentHelp(
            "Decide as if it were this moment, an RFC 3339 timestamp such as 2026-11-30T09:15:00Z.",
            discussion: """
                Without it the wall clock is used. A suite's or case's `now:` comes before it; with --events and \
                without it, each line's own `rolecall_now` (as `rules log export` writes it) is that line's clock.
                """,
            valueName: "RFC3339"))
    var now: String?

    package func validate() throws {
        guard let now, Timestamp.seconds(now) == nil else { return }
        throw ValidationError(
            "--now must be an RFC 3339 timestamp such as 2026-11-30T09:15:00Z (or with an offset, +01:00), "
                + "found `\(now)`")
    }

    /// The clock given, in seconds since the Unix epoch.
    package var seconds: Double? { now.flatMap { Timestamp.seconds($0) } }

    /// Sets `evaluator`'s clock: `--now` when given; otherwise, for a stream of events (`--events`, such as
    /// `rules log export` writes), each event's own `rolecall_now`, so a replayed login decides as it did.
    package func configure(_ evaluator: Evaluator, batch: Bool) {
        ClockOption.configure(evaluator, seconds: seconds, batch: batch)
    }

    /// ``configure(_:batch:)`` with `--now` as a plain value, in seconds.
    static func configure(_ evaluator: Evaluator, seconds: Double?, batch: Bool) {
        evaluator.now = seconds
        evaluator.clockFromEvent = batch && seconds == nil
    }
}
