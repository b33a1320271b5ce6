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
    // (``plainInvocation(_:)``, EvalCommand+PlainArguments.swift): an option added here must be added there.
    @Argument(help: "Rule files or directories (default: rules/).")
    var paths: [String] = []

    @OptionGroup var input: EventInput

    @Flag(help: "Print a trace of every rule: whether it fired and the value of each comparison.")
    var explain = false

    @OptionGroup var clock: ClockOption

    @OptionGroup var diagnostics: DiagnosticOptions

    @OptionGroup var parallel: JobsOption

    package func run() throws {
        let program = try RuleFiles.compile(paths, diagnostics: diagnostics)
        let jobs = input.isBatch ? parallel.jobs : 1
        var report = LineReport(source: input.source, isBatch: input.isBatch)
        let signals = input.isBatch ? SignalWatch.install() : nil
        // Read once: each read of an ArgumentParser property is a generic call (0.5 ms over 20,000 events).
        let lines = LineDecider(explain: explain, maxEventBytes: input.maxEventBytes)
        if jobs > 1 {
            let evaluators = (0..<jobs).map { _ in self.evaluator(program) }
            var batches = BatchedInput(input: input)
            let workers = OrderedWorkers<Evaluator, LineReport>(states: evaluators) { evaluator, batch in
                var part = LineReport(source: input.source, isBatch: true)
                batch.forEach { number, item in lines.decide(evaluator, number, item, &part) }
                return part
            }
            defer { workers.close() }
            do {
                try batches.run(workers, signals: signals) { report.take($0) }
            } catch let interrupted as SignalWatch.Interrupted {
                workers.flush { report.take($0) }
                SignalWatch.end(by: interrupted.signal)
            }
        } else {
            let evaluator = self.evaluator(program)
            do {
                try input.forEach(idle: { report.flush() }, signals: signals) { number, item in
                    lines.decide(evaluator, number, item, &report)
                    if report.output.count >= 1 << 16 { report.flush() }
                }
            } catch let interrupted as SignalWatch.Interrupted {
                report.flush()
                SignalWatch.end(by: interrupted.signal)
            } catch {
                report.flush()
                throw error
            }
        }
        report.flush()
        guard report.invalid > 0 else { return }
        if input.isBatch {
            Output.standardError("rules: \(report.invalid) of \(report.lines) lines were not valid events\n")
        }
        throw ExitStatus.badInput
    }

    /// An evaluator of `program` on this command's clock.
    func evaluator(_ program: Program) -> Evaluator {
        let evaluator = Evaluator(program: program)
        clock.configure(evaluator, batch: input.isBatch)
        evaluator.timeBudget = EvalCommand.batchTimeBudget
        return evaluator
    }

    /// The time budget of one event in the batch commands (`eval`, `diff`): longer than the server's 0.25 s,
    /// since a replay's decisions should not depend on how busy the machine is (with `--jobs`, a second
    /// thread on the same cores), yet bounded, since recorded logins can be hostile.
    static let batchTimeBudget = 5.0
}

/// Decides lines with what that needs of `rules eval`'s options, as plain values.
struct LineDecider {
    let explain: Bool
    let maxEventBytes: Int

    /// Decides one input line (or the one event) into `report`: the decision or trace, or the line's error.
    func decide(_ evaluator: Evaluator, _ number: Int, _ item: EventInput.Item, _ report: inout LineReport) {
        report.lines = number
        switch item {
        case .oversized(let size):
            report.fail(number, "event is \(size) bytes, more than --max-event-bytes \(maxEventBytes)")
        case .event(let bytes):
            do {
                if explain {
                    report.output += Array(try evaluator.explain(Array(bytes)).text.utf8)
                } else {
                    try evaluator.evaluate(bytes, writingTo: &report.output)
                }
            } catch {
                report.fail(number, "invalid event: \(error)")
            }
        }
    }
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
