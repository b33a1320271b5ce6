import ArgumentParser
import RolecallDiff
import RolecallEngine
import RolecallFiles
import RolecallLanguage

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// `rules diff`: what a rule change does to recorded logins.
package struct DiffCommand: ParsableCommand {
    package init() {}

    package static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Show what a rule change does to recorded logins, before it ships.",
        discussion: """
            Replays the events of --events (JSON lines, such as `rules log export` writes) through the old rule \
            set (--base REV: the same paths at a git revision, read with git without a checkout; or --base-path \
            DIR: the rule files under DIR) and the new one (PATH..., default rules/), each event read once per \
            rule set, in constant memory. Prints how many decisions changed, which roles users gain and lose, \
            which rules fire more or less often, and up to --examples changed events per kind of change with the \
            lines of the two traces that differ. Both rule sets are checked first; errors in either stop the \
            command. An invalid line is reported on standard error and skipped. Exit code: 0, or 3 with \
            --exit-code when a decision changed; 1 for rule errors; 2 for unreadable input, or with --exit-code \
            an input that holds no valid event.
            """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case human, json, markdown
    }

    @Argument(help: "The new rule set: rule files or directories (default: rules/).")
    var paths: [String] = []

    @OptionGroup var input: EventInput

    @Option(help: "The old rule set: the same paths at this git revision (a commit, branch or tag).")
    var base: String?

    @Option(help: "The old rule set: the rule files under this directory.")
    var basePath: String?

    @Option(help: "human, json (the shape in DESIGN.md) or markdown (for a pull request comment).")
    var format: Format = .human

    @Option(help: "How many changed events to show per kind of change.")
    var examples: Int = 3

    @Flag(help: "Exit with 3 when any decision changed, like `git diff --exit-code`.")
    var exitCode = false

    @OptionGroup var clock: ClockOption

    @OptionGroup var parallel: JobsOption

    /// Diagnostics of either rule set print as `rules eval` prints them, with the default options (`--format`
    /// is the report's here).
    static let diagnostics = (try? DiagnosticOptions.parse([])) ?? DiagnosticOptions()

    package func validate() throws {
        guard (base == nil) != (basePath == nil) else {
            throw ValidationError("give exactly one of --base REV or --base-path DIR")
        }
        guard input.isBatch else {
            throw ValidationError("rules diff reads --events FILE.jsonl (or - for standard input)")
        }
        guard examples >= 0, examples <= 1000 else { throw ValidationError("--examples must be between 0 and 1000") }
    }

    package func run() throws {
        let head = try RuleFiles.compile(paths, diagnostics: DiffCommand.diagnostics)
        let old = try baseProgram()
        let jobs = parallel.jobs
        let signals = SignalWatch.install()
        // One clock for the whole replay: were each rule set to read the wall clock itself, an event whose
        // `days_since` crosses a threshold between the two readings would show as a change. A line's own
        // `rolecall_now` still comes first, and `--now` before both.
        let now = clock.seconds ?? Evaluator.wallClock()
        func differ() -> DecisionDiffer {
            let differ = DecisionDiffer(
                base: old, head: head, examplesPerKind: examples, now: now, clockFromEvent: clock.seconds == nil)
            differ.before.timeBudget = EvalCommand.batchTimeBudget
            differ.after.timeBudget = EvalCommand.batchTimeBudget
            return differ
        }
        var report = DiffReport(beforeRules: old.ruleCount, afterRules: head.ruleCount, examplesPerKind: examples)
        var errors = ""
        func add(_ differ: DecisionDiffer, _ number: Int, _ item: EventInput.Item, _ errors: inout String) {
            switch item {
            case .oversized(let size):
                differ.report.invalid += 1
                errors +=
                    "rules: \(FileName.visible(input.source)):\(number): event is \(size) bytes, more than --max-event-bytes "
                    + "\(input.maxEventBytes)\n"
            case .event(let bytes):
                do throws(DecisionDiffer.InvalidEvent) {
                    try differ.add(line: number, bytes)
                } catch {
                    errors += "rules: \(FileName.visible(input.source)):\(number): invalid event: \(error)\n"
                }
            }
        }
        do {
            if jobs > 1 {
                var batches = BatchedInput(input: input.plain)
                let workers = OrderedWorkers<DecisionDiffer, (DiffReport, String)>(
                    states: (0..<jobs).map { _ in differ() }
                ) { differ, batch in
                    differ.report = DiffReport(
                        beforeRules: old.ruleCount, afterRules: head.ruleCount, examplesPerKind: examples, part: true)
                    var errors = ""
                    batch.forEach { number, item in add(differ, number, item, &errors) }
                    return (differ.report, errors)
                }
                defer { workers.close() }
                try batches.run(workers, signals: signals) { part, messages in
                    report.merge(part)
                    Output.standardError(messages)
                }
            } else {
                let one = differ()
                try input.forEach(signals: signals) { number, item in
                    add(one, number, item, &errors)
                    if !errors.isEmpty {
                        Output.standardError(errors)
                        errors = ""
                    }
                }
                report = one.report
            }
        } catch let interrupted as SignalWatch.Interrupted {
            SignalWatch.end(by: interrupted.signal)
        }
        let renderer = DiffRenderer(report: report, beforeRules: old.ruleNames, afterRules: head.ruleNames)
        switch format {
        case .human: Output.write(fd: 1, Array(renderer.human.utf8))
        case .json: Output.write(fd: 1, Array(renderer.json.utf8))
        case .markdown: Output.write(fd: 1, Array(renderer.markdown.utf8))
        }
        if report.invalid > 0 {
            let verb = report.invalid == 1 ? " was not a valid event" : "s were not valid events"
            Output.standardError("rules: \(report.invalid) line\(verb)\n")
        }
        // A gate that passes on an empty or unreadable log would pass every change.
        if report.events == 0 {
            Output.standardError(
                "rules: warning: \(FileName.visible(input.source)) holds no valid event: nothing was compared\n")
            if exitCode { throw ExitStatus.badInput }
        }
        if exitCode && report.changed > 0 { throw ExitCode(3) }
    }

    /// The old rule set, compiled; its errors are printed and end the command.
    func baseProgram() throws -> Program {
        let files: [SourceFile]
        let origin: String
        if let base {
            files = try BaseRevision.files(paths.isEmpty ? ["rules"] : paths, at: base)
            origin = "the base rule set (\(base))"
        } else {
            files = try RuleFiles.loadOrExit([basePath ?? "rules"])
            origin = "the base rule set (\(basePath ?? ""))"
        }
        let (program, found) = RuleEngine.compile(files)
        let shown = found.filter { DiffCommand.diagnostics.denyWarnings || $0.severity == .error }
        if !shown.isEmpty { Output.standardError("rules: in \(origin):\n") }
        DiffCommand.diagnostics.print(shown, toStandardError: true)
        guard let program else { throw ExitStatus.ruleErrors }
        return program
    }
}

/// Rule files as they were at a git revision, read with `git ls-tree` and `git cat-file` (no checkout), so
/// `rules diff --base origin/main` works in a pull request's working tree.
enum BaseRevision {
    /// The `.rules` files under `paths` at `revision`, in the order a rule set loads them, with the paths they
    /// have in the working tree (so anonymous rules get the same names in both sets). As in the working tree,
    /// a path named explicitly is read whatever its suffix, a file named twice is read once, and symbolic links
    /// to files or directories are followed (within the repository, at most eight deep).
    static func files(_ paths: [String], at revision: String) throws -> [SourceFile] {
        guard !revision.hasPrefix("-") else { throw fail("--base must be a revision, found `\(revision)`") }
        var files: [SourceFile] = []
        var seen = Set<ExactString>()
        for path in paths {
            let found = try blobs(under: path, shownAs: path, at: revision, depth: 0)
            let named = found.filter { $0.shown == path || $0.shown.hasSuffix(".rules") }
            guard !named.isEmpty else { throw fail("no .rules files in \(FileName.visible(path)) at \(revision)") }
            for blob in named.sorted(by: { $0.shown < $1.shown }) where seen.insert(ExactString(blob.object)).inserted {
                let bytes = try git(["cat-file", "blob", blob.object])
                guard bytes.count <= RuleSetLoader.maxFileBytes else {
                    throw fail(
                        "\(revision):\(FileName.visible(blob.shown)) is larger than \(RuleSetLoader.maxFileBytes) bytes"
                    )
                }
                files.append(SourceFile(path: blob.shown, bytes: bytes))
            }
        }
        return files
    }

    /// The files below `path` at `revision` (or `path` itself): each as the working tree would name it (under
    /// `shown`) and the path it is read from, links followed.
    static func blobs(under path: String, shownAs shown: String, at revision: String, depth: Int) throws -> [(
        shown: String, object: String
    )] {
        guard depth <= 8 else {
            throw fail("\(FileName.visible(shown)) at \(revision): too many levels of symbolic links")
        }
        let listing = try git(["ls-tree", "-r", "-z", revision, "--", path])
        var found: [(shown: String, object: String)] = []
        for record in listing.split(separator: 0) {
            // `MODE TYPE OBJECT\tNAME`, the name as the bytes it has (`-z`: not quoted), read as a file name is
            // read from a directory, so that it names the same file in messages, in rule names and back to git.
            guard let tab = record.firstIndex(of: UInt8(ascii: "\t")) else { continue }
            let fields = String(decoding: record[..<tab], as: UTF8.self).split(separator: " ")
            let name = FileName.decode(Array(record[(tab + 1)...]))
            let below = relative(name, to: path)
            let shownName = below.isEmpty ? shown : shown + "/" + below
            let object = "\(revision):./\(name)"
            if fields.first == "120000" {
                let target = FileName.decode(try git(["cat-file", "blob", object]))
                let directory = name.split(separator: "/").dropLast().joined(separator: "/")
                guard !target.hasPrefix("/"),
                    let resolved = normalized(directory.isEmpty ? target : directory + "/" + target)
                else {
                    throw fail(
                        "\(FileName.visible(shownName)) at \(revision) links outside the repository "
                            + "(\(FileName.visible(target)))")
                }
                found += try blobs(under: resolved, shownAs: shownName, at: revision, depth: depth + 1)
            } else if fields.count >= 2, fields[1] == "blob" {
                found.append((shownName, object))
            }
        }
        return found
    }

    /// The part of `name`, a path as `git ls-tree` prints it (relative to the working directory, without `./`
    /// steps or doubled slashes), below `path` as it was given (`rules`, `rules/`, `./rules`, `.`): `ok.rules` for
    /// `rules/ok.rules`, the same file name the working tree's walk gives it, so its anonymous rules get the same
    /// names. By scalars: a name that only prints like `path` (`cafe\u{301}` for `caf\u{e9}`) is another file.
    static func relative(_ name: String, to path: String) -> String {
        for prefix in [path, normalized(path)].compactMap(\.self)
        where name.unicodeScalars.starts(with: prefix.unicodeScalars) {
            let rest = name.unicodeScalars.dropFirst(prefix.unicodeScalars.count)
            // Whole steps only: `.` is not the start of `.hidden/x.rules`.
            guard prefix.isEmpty || prefix.hasSuffix("/") || rest.isEmpty || rest.first == "/" else { continue }
            return String(String.UnicodeScalarView(rest.drop { $0 == "/" }))
        }
        return name
    }

    /// `path` with `.` and `name/..` steps removed, or nil when it climbs out of the working directory's tree.
    static func normalized(_ path: String) -> String? {
        var parts: [Substring] = []
        for part in path.split(separator: "/") where part != "." {
            if part == ".." {
                guard !parts.isEmpty else { return nil }
                parts.removeLast()
            } else {
                parts.append(part)
            }
        }
        return parts.joined(separator: "/")
    }

    /// Reports `message` and returns the exit status for unreadable input.
    static func fail(_ message: String) -> ExitCode {
        Output.standardError("rules: error: \(message)\n")
        return ExitStatus.badInput
    }

    /// The standard output of `git ARGUMENTS` (git found on `PATH`), or its error message and exit status 2.
    static func git(_ arguments: [String]) throws -> [UInt8] {
        let run: Subprocess.Output
        do {
            run = try Subprocess.run(["git"] + arguments)
        } catch {
            throw fail("cannot run git: \(error)")
        }
        guard run.status == 0 else {
            let text = String(decoding: run.standardError, as: UTF8.self)
            let trimmed = String(text.drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
            throw fail("git \(arguments.first ?? "") failed: \(trimmed)")
        }
        return run.standardOutput
    }
}
