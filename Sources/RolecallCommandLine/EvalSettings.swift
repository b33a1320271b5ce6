import RolecallEngine
import RolecallLanguage

/// What `rules eval` runs with, as plain values: ``EvalCommand``'s options once ArgumentParser has parsed them, or
/// what the lean `rules` read from the everyday forms of its arguments itself (``EvalCommand/plainInvocation(_:)``).
/// Plain values rather than the property wrappers, because the wrappers are slow to make and to read: making them
/// costs the Swift runtime generic-type and protocol-conformance lookups at start-up, and each read is a generic
/// call (reading `--explain` once a line was 0.5 ms of 20,000 events).
package struct EvalSettings {
    var paths: [String]
    var input: EventSource
    var explain: Bool
    /// `--now`, in seconds since the Unix epoch.
    var now: Double?
    var diagnostics: DiagnosticSettings
    /// `--jobs` as given.
    var jobs: Int?

    /// Loads the rules and decides every event, as `rules eval` does.
    package func run() throws {
        let program = try RuleFiles.compile(paths, diagnostics: diagnostics)
        let jobs = input.isBatch ? JobsOption.jobs(jobs) : 1
        var report = LineReport(source: FileName.visible(input.source), isBatch: input.isBatch)
        let signals = input.isBatch ? SignalWatch.install() : nil
        if jobs > 1 {
            let evaluators = (0..<jobs).map { _ in self.evaluator(program) }
            var batches = BatchedInput(input: input)
            let workers = OrderedWorkers<Evaluator, LineReport>(states: evaluators) { evaluator, batch in
                var part = LineReport(source: FileName.visible(input.source), isBatch: true)
                batch.forEach { number, item in self.decide(evaluator, number, item, &part) }
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
                    // Output that can no longer be written ends the reading: the exit handler reports it.
                    if Output.hasFailed { throw ExitStatus.badInput }
                    decide(evaluator, number, item, &report)
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
        ClockOption.configure(evaluator, seconds: now, batch: input.isBatch)
        evaluator.timeBudget = EvalCommand.batchTimeBudget
        return evaluator
    }

    /// Decides one input line (or the one event) into `report`: the decision or trace, or the line's error.
    func decide(_ evaluator: Evaluator, _ number: Int, _ item: EventInput.Item, _ report: inout LineReport) {
        report.lines = number
        switch item {
        case .oversized(let size):
            report.fail(number, "event is \(size) bytes, more than --max-event-bytes \(input.maxEventBytes)")
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
