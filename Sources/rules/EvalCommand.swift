import ArgumentParser
import RolecallEngine
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
            blank lines are skipped. The exit code is 2 when any event was invalid.
            """
    )

    @Argument(help: "Rule files or directories (default: rules/).")
    var paths: [String] = []

    @Option(help: "A JSON event file, or `-` for standard input.")
    var event: String?

    @Option(help: "A file of JSON events, one per line, or `-` for standard input.")
    var events: String?

    @Flag(help: "Print a trace of every rule: whether it fired and the value of each comparison.")
    var explain = false

    @Option(help: "Refuse events larger than this many bytes.")
    var maxEventBytes: Int = 1 << 20

    @OptionGroup var diagnostics: DiagnosticOptions

    func validate() throws {
        guard (event == nil) != (events == nil) else {
            throw ValidationError("give exactly one of --event FILE or --events FILE.jsonl")
        }
        guard maxEventBytes > 0 else { throw ValidationError("--max-event-bytes must be positive") }
    }

    func run() throws {
        let evaluator = Evaluator(program: try RuleFiles.compile(paths, diagnostics: diagnostics))
        if let event {
            try evaluateOne(event, evaluator)
        } else if let events {
            try evaluateStream(events, evaluator)
        }
    }

    func evaluateOne(_ path: String, _ evaluator: Evaluator) throws {
        let bytes: [UInt8]
        do {
            bytes = try readFile(path, limit: maxEventBytes)
        } catch let error as CLIError {
            Output.standardError("rules: error: \(error)\n")
            throw ExitStatus.badInput
        }
        do {
            if explain {
                Output.standardOutput(try evaluator.explain(bytes).text)
            } else {
                Output.standardOutput(try evaluator.evaluate(bytes).json + "\n")
            }
        } catch {
            Output.standardError("rules: error: \(path): invalid event: \(error)\n")
            throw ExitStatus.badInput
        }
    }

    func evaluateStream(_ path: String, _ evaluator: Evaluator) throws {
        let fd = path == "-" ? 0 : open(path, O_RDONLY)
        guard fd >= 0 else {
            Output.standardError("rules: error: cannot open \(path): \(String(cString: strerror(errno)))\n")
            throw ExitStatus.badInput
        }
        defer { if fd != 0 { close(fd) } }
        let reader = LineReader(fd: fd, maxLine: maxEventBytes)
        var output: [UInt8] = []
        output.reserveCapacity(1 << 17)
        var lineNumber = 0
        var invalid = 0
        func fail(_ message: String) {
            invalid += 1
            output += Array("{\"error\":{\"line\":\(lineNumber),\"message\":\(JSONText.quote(message))}}\n".utf8)
            Output.standardError("rules: \(path):\(lineNumber): \(message)\n")
        }
        do {
            while let line = try reader.next() {
                lineNumber += 1
                switch line {
                case .oversized(let size):
                    fail("event is \(size) bytes, more than --max-event-bytes \(maxEventBytes)")
                case .line(let bytes):
                    if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
                    do {
                        if explain {
                            output += Array(try evaluator.explain(Array(bytes)).text.utf8)
                        } else {
                            try evaluator.evaluate(bytes, writingTo: &output)
                        }
                    } catch {
                        fail("invalid event: \(error)")
                    }
                }
                if output.count >= 1 << 16 {
                    Output.write(fd: 1, output)
                    output.removeAll(keepingCapacity: true)
                }
            }
        } catch let error as CLIError {
            Output.write(fd: 1, output)
            Output.standardError("rules: error: \(error)\n")
            throw ExitStatus.badInput
        }
        Output.write(fd: 1, output)
        if invalid > 0 {
            Output.standardError("rules: \(invalid) of \(lineNumber) lines were not valid events\n")
            throw ExitStatus.badInput
        }
    }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif
