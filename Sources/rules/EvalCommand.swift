import ArgumentParser
import RolecallEngine
import RolecallJSON
import RolecallLanguage

/// `rules eval`: evaluate rules on one event or a stream of events and print decisions.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
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

    @Argument(help: "Rule files or directories (default: rules/).")
    var paths: [String] = []

    @OptionGroup var input: EventInput

    @Flag(help: "Print a trace of every rule: whether it fired and the value of each comparison.")
    var explain = false

    @OptionGroup var clock: ClockOption

    @OptionGroup var diagnostics: DiagnosticOptions

    func run() throws {
        let evaluator = Evaluator(program: try RuleFiles.compile(paths, diagnostics: diagnostics))
        clock.configure(evaluator, batch: input.isBatch)
        var output: [UInt8] = []
        output.reserveCapacity(1 << 17)
        var lines = 0
        var invalid = 0
        func fail(_ number: Int, _ message: String) {
            invalid += 1
            guard input.isBatch else {
                Output.standardError("rules: error: \(input.source): \(message)\n")
                return
            }
            output += Array("{\"error\":{\"line\":\(number),\"message\":\(JSONText.quote(message))}}\n".utf8)
            Output.standardError("rules: \(input.source):\(number): \(message)\n")
        }
        func flush() {
            guard !output.isEmpty else { return }
            Output.write(fd: 1, output)
            output.removeAll(keepingCapacity: true)
        }
        let signals = input.isBatch ? SignalWatch.install() : nil
        do {
            try input.forEach(idle: flush, signals: signals) { number, item in
                lines = number
                switch item {
                case .oversized(let size):
                    fail(number, "event is \(size) bytes, more than --max-event-bytes \(input.maxEventBytes)")
                case .event(let bytes):
                    do {
                        if explain {
                            output += Array(try evaluator.explain(Array(bytes)).text.utf8)
                        } else {
                            try evaluator.evaluate(bytes, writingTo: &output)
                        }
                    } catch {
                        fail(number, "invalid event: \(error)")
                    }
                }
                if output.count >= 1 << 16 { flush() }
            }
        } catch let interrupted as SignalWatch.Interrupted {
            flush()
            SignalWatch.end(by: interrupted.signal)
        } catch {
            flush()
            throw error
        }
        Output.write(fd: 1, output)
        guard invalid > 0 else { return }
        if input.isBatch { Output.standardError("rules: \(invalid) of \(lines) lines were not valid events\n") }
        throw ExitStatus.badInput
    }
}
