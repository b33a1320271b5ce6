import ArgumentParser
import RolecallJSON

extension EvalCommand {
    /// `rules eval` for `arguments` (those after `eval`) when every one of them is of a plain form: a rule path,
    /// one of eval's options given once as `--name value` or `--name=value`, or one of its flags; nil for
    /// anything else (help, `--version`, a repeated or unknown option, a missing or invalid value, `--`), which
    /// ArgumentParser then parses and reports as it always has.
    ///
    /// Why: ArgumentParser builds its picture of a command by reflecting on it, which at start-up costs the Swift
    /// runtime about 1.1 ms of looking up generic types and protocol conformances, a third of what `rules eval
    /// --events` takes on one event. Making the command's property wrappers without parsing cost another 0.2 ms
    /// of the same, and so did a `Set` and a `Dictionary` of strings (each generic type's first use looks up its
    /// `Hashable` conformance through every conformance record in the binary): so the values go straight into
    /// ``EvalSettings``, held in arrays. The values are converted and validated by the same code ArgumentParser
    /// would use (`init(argument:)`, and the checks each group's `validate()` makes), so a new option must be
    /// added here too.
    package static func plainInvocation(_ arguments: ArraySlice<String>) -> EvalSettings? {
        var paths: [String] = []
        var values = [String?](repeating: nil, count: plainOptions.count)
        var flags = [Bool](repeating: false, count: plainFlags.count)
        var rest = arguments
        while let argument = rest.popFirst() {
            guard argument.hasPrefix("-") else {
                // A path; `help` is left to ArgumentParser, which knows it as a command elsewhere.
                guard !argument.isEmpty, argument != "help" else { return nil }
                paths.append(argument)
                continue
            }
            let equals = argument.firstIndex(of: "=")
            let name = String(argument[..<(equals ?? argument.endIndex)])
            if let flag = plainFlags.firstIndex(of: name) {
                guard equals == nil, !flags[flag] else { return nil }
                flags[flag] = true
                continue
            }
            guard let option = plainOptions.firstIndex(of: name), values[option] == nil else { return nil }
            if let equals {
                let value = String(argument[argument.index(after: equals)...])
                guard !value.isEmpty else { return nil }  // `--name=` takes the next argument
                values[option] = value
            } else {
                // A lone `-` (standard input) is a value; anything else beginning with `-` is not.
                guard let value = rest.popFirst(), value == "-" || !(value.isEmpty || value.hasPrefix("-")) else {
                    return nil
                }
                values[option] = value
            }
        }
        return plainSettings(
            paths: paths,
            value: { name in plainOptions.firstIndex(of: name).flatMap { values[$0] } },
            flag: { name in plainFlags.firstIndex(of: name).map { flags[$0] } ?? false })
    }

    /// The options and flags ``plainInvocation(_:)`` knows.
    static let plainOptions = [
        "--event", "--events", "--max-event-bytes", "--now", "--format", "--max-diagnostics", "--jobs",
    ]
    static let plainFlags = ["--explain", "--deny-warnings", "--no-color"]

    /// The settings for these values, each converted as ArgumentParser converts it, and validated; nil when a
    /// value does not convert or validate.
    static func plainSettings(
        paths: [String], value: (String) -> String?, flag: (String) -> Bool
    ) -> EvalSettings? {
        func integer(_ name: String, default fallback: Int) -> Int? {
            guard let text = value(name) else { return fallback }
            return Int(argument: text)
        }
        guard let maxEventBytes = integer("--max-event-bytes", default: EventInput.defaultMaxEventBytes) else {
            return nil
        }
        let input = EventSource(event: value("--event"), events: value("--events"), maxEventBytes: maxEventBytes)
        guard input.problem == nil else { return nil }
        // ClockOption.validate(): a `--now` that is not an RFC 3339 timestamp is an error.
        var now: Double?
        if let text = value("--now") {
            guard let seconds = Timestamp.seconds(text) else { return nil }
            now = seconds
        }
        var format = DiagnosticOptions.defaultFormat
        if let text = value("--format") {
            guard let given = DiagnosticOptions.Format(argument: text) else { return nil }
            format = given
        }
        guard let maxDiagnostics = integer("--max-diagnostics", default: DiagnosticOptions.defaultMaxDiagnostics)
        else { return nil }
        var jobs: Int?
        if let text = value("--jobs") {
            guard let requested = Int(argument: text) else { return nil }
            jobs = requested
        }
        guard JobsOption.problem(jobs) == nil else { return nil }
        let diagnostics = DiagnosticSettings(
            format: format, maxDiagnostics: maxDiagnostics, denyWarnings: flag("--deny-warnings"),
            noColor: flag("--no-color"))
        return EvalSettings(
            paths: paths, input: input, explain: flag("--explain"), now: now, diagnostics: diagnostics, jobs: jobs)
    }
}
