import ArgumentParser

extension EvalCommand {
    /// `rules eval` for `arguments` (those after `eval`) when every one of them is of a plain form: a rule path,
    /// one of eval's options given once as `--name value` or `--name=value`, or one of its flags; nil for
    /// anything else (help, `--version`, a repeated or unknown option, a missing or invalid value, `--`), which
    /// ArgumentParser then parses and reports as it always has.
    ///
    /// Why: ArgumentParser builds its picture of a command by reflecting on it, which at start-up costs the Swift
    /// runtime about 1.1 ms of looking up generic types and protocol conformances, a third of what `rules eval
    /// --events` takes on one event. The values are converted and validated by the same code ArgumentParser
    /// would use (`init(argument:)`, each group's `validate()`), and every property of the command and of its
    /// option groups is set here, so a new option must be added here too (reading one left unset would stop
    /// the process).
    package static func plainInvocation(_ arguments: ArraySlice<String>) -> EvalCommand? {
        var paths: [String] = []
        var values: [String: String] = [:]
        var flags: Set<String> = []
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
            if plainFlags.contains(name) {
                guard equals == nil, flags.insert(name).inserted else { return nil }
                continue
            }
            guard plainOptions.contains(name), values[name] == nil else { return nil }
            if let equals {
                let value = String(argument[argument.index(after: equals)...])
                guard !value.isEmpty else { return nil }  // `--name=` takes the next argument
                values[name] = value
            } else {
                // A lone `-` (standard input) is a value; anything else beginning with `-` is not.
                guard let value = rest.popFirst(), value == "-" || !(value.isEmpty || value.hasPrefix("-")) else {
                    return nil
                }
                values[name] = value
            }
        }
        return plainCommand(paths: paths, values: values, flags: flags)
    }

    /// The options and flags ``plainInvocation(_:)`` knows.
    static let plainOptions: Set<String> = [
        "--event", "--events", "--max-event-bytes", "--now", "--format", "--max-diagnostics", "--jobs",
    ]
    static let plainFlags: Set<String> = ["--explain", "--deny-warnings", "--no-color"]

    /// The command with these values, each converted as ArgumentParser converts it, and validated; nil when a
    /// value does not convert or validate.
    static func plainCommand(paths: [String], values: [String: String], flags: Set<String>) -> EvalCommand? {
        func integer(_ name: String, default value: Int) -> Int? {
            guard let text = values[name] else { return value }
            return Int(argument: text)
        }
        var input = EventInput()
        input.event = values["--event"]
        input.events = values["--events"]
        guard let maxEventBytes = integer("--max-event-bytes", default: EventInput.defaultMaxEventBytes) else {
            return nil
        }
        input.maxEventBytes = maxEventBytes
        var clock = ClockOption()
        clock.now = values["--now"]
        var diagnostics = DiagnosticOptions()
        var format = DiagnosticOptions.defaultFormat
        if let text = values["--format"] {
            guard let given = DiagnosticOptions.Format(argument: text) else { return nil }
            format = given
        }
        guard let maxDiagnostics = integer("--max-diagnostics", default: DiagnosticOptions.defaultMaxDiagnostics)
        else { return nil }
        diagnostics.format = format
        diagnostics.maxDiagnostics = maxDiagnostics
        diagnostics.denyWarnings = flags.contains("--deny-warnings")
        diagnostics.noColor = flags.contains("--no-color")
        var parallel = JobsOption()
        if let jobs = values["--jobs"] {
            guard let requested = Int(argument: jobs) else { return nil }
            parallel.requested = requested
        } else {
            parallel.requested = nil
        }
        var command = EvalCommand()
        command.paths = paths
        command.input = input
        command.explain = flags.contains("--explain")
        command.clock = clock
        command.diagnostics = diagnostics
        command.parallel = parallel
        do {
            try input.validate()
            try clock.validate()
            try diagnostics.validate()
            try parallel.validate()
            try command.validate()
        } catch {
            return nil
        }
        return command
    }
}
