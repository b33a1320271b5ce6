import ArgumentParser
import RolecallEngine
import RolecallJSON
import RolecallLanguage

/// `rules eval`: evaluate rules on one event or a stream of events and print decisions.
package struct EvalCommand: ParsableCommand {
    package init() {}

    package static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Evaluate rules on login events and print the decisions as JSON.",
        discussion: """
            With --event, prints one decision. With --events, reads one JSON event per line (a file or `-` for \
            standard input) and prints one compact decision per line, in order, in constant memory. A line that \
            is not a valid event gets an error line `{"error":{"line":N,"message":...}}` and the rest go on; \
            blank lines are skipped. Decisions are written whenever the input has nothing more to read yet, so a \
            slow producer sees each one at once; on SIGTERM or SIGINT every decision made is written before the \
            command ends. The exit code is 2 when any event was invalid. The rules' warnings go to standard \
            error, and the decisions are made all the same.

            `days_since` counts to the wall clock, or to --now. With --events and no --now, an event's own \
            top-level `rolecall_now` (as `rules log export` writes it) is its clock, so a replayed login decides \
            with the clock it was decided with; one that is not an RFC 3339 timestamp makes the line invalid.
            """
    )

    // The lean `rules` parses these options, and those of the groups below, itself in their everyday forms
    // (``plainInvocation(_:)``, EvalCommand+PlainArguments.swift): an option added here must be added there, and
    // to ``EvalSettings``, which both paths run.
    @Argument(help: "Rule files or directories (default: rules/).")
    var paths: [String] = []

    @OptionGroup var input: EventInput

    @Flag(help: "Print a trace of every rule: whether it fired and the value of each comparison.")
    var explain = false

    @OptionGroup var clock: ClockOption

    @OptionGroup var diagnostics: DiagnosticOptions

    @OptionGroup var parallel: JobsOption

    package func run() throws { try settings.run() }

    /// This command's values, read out of ArgumentParser's property wrappers once.
    var settings: EvalSettings {
        EvalSettings(
            paths: paths, input: input.plain, explain: explain, now: clock.seconds, diagnostics: diagnostics.plain,
            jobs: parallel.requested)
    }

    /// The time budget of one event in the batch commands (`eval`, `diff`): longer than the server's 0.25 s,
    /// since a replay's decisions should not depend on how busy the machine is (with `--jobs`, a second
    /// thread on the same cores), yet bounded, since recorded logins can be hostile.
    static let batchTimeBudget = 5.0
}

/// What evaluating a run of lines printed: decisions for standard output, messages for standard error, and
/// counts. A worker of `--jobs` fills one per batch; they are written in input order.
struct LineReport {
    let source: String
    let isBatch: Bool
    var output: [UInt8] = []
    var errors = ""
    var lines = 0
    var invalid = 0

    init(source: String, isBatch: Bool) {
        self.source = source
        self.isBatch = isBatch
        output.reserveCapacity(1 << 17)
    }

    /// Records an invalid line: an error line in the output (with `--events`) and a message.
    mutating func fail(_ number: Int, _ message: String) {
        invalid += 1
        guard isBatch else {
            errors += "rules: error: \(source): \(message)\n"
            return
        }
        output += Array("{\"error\":{\"line\":\(number),\"message\":\(JSONText.quote(message))}}\n".utf8)
        errors += "rules: \(source):\(number): \(message)\n"
    }

    /// Writes what is buffered.
    mutating func flush() {
        if !output.isEmpty {
            Output.write(fd: 1, output)
            output.removeAll(keepingCapacity: true)
        }
        if !errors.isEmpty {
            Output.standardError(errors)
            errors = ""
        }
    }

    /// Writes a later batch's report and adds its counts.
    mutating func take(_ later: LineReport) {
        var later = later
        lines = max(lines, later.lines)
        invalid += later.invalid
        later.flush()
    }
}
