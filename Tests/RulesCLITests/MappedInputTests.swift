import Foundation
import Testing

/// `rules eval --events FILE` maps a regular file and reads its lines in place, a window at a time; a pipe is
/// read into a buffer. Whatever the input, both must give the same decisions, errors and exit code.
@Suite struct MappedInputTests {
    static let rules = "rules/default-roles.rules"

    /// The runs of `--events FILE` and of the same bytes through a pipe (`--events -`), with `options`, and the
    /// file's path.
    static func fileAndPipe(_ input: String, _ options: [String]) throws -> (
        file: CLITests.Run, pipe: CLITests.Run, path: String
    ) {
        let path = try CLITests.temporary("events.jsonl", input)
        return (
            try CLITests.rules(["eval", rules, "--events", path] + options),
            try CLITests.rules(["eval", rules, "--events", "-"] + options, input: Data(input.utf8)), path
        )
    }

    /// The same decisions, the same messages (but for the input's name) and the same exit code.
    static func expectSame(_ runs: (file: CLITests.Run, pipe: CLITests.Run, path: String), _ what: String) {
        #expect(runs.file.stdout == runs.pipe.stdout, "\(what)")
        #expect(runs.file.stderr.replacingOccurrences(of: runs.path, with: "-") == runs.pipe.stderr, "\(what)")
        #expect(runs.file.status == runs.pipe.status, "\(what)")
    }

    static let event = BatchLimitTests.event(bytes:)

    @Test(arguments: ["1", "2"])
    func theEdgesOfLinesReadTheSameFromAFileAndAPipe(jobs: String) throws {
        let limit = ["--max-event-bytes", "100", "--jobs", jobs]
        let cases: [(String, String)] = [
            ("no final newline", [Self.event(100), Self.event(101), Self.event(100)].joined(separator: "\n")),
            ("CRLF", [Self.event(100), Self.event(101), Self.event(100)].joined(separator: "\r\n") + "\r\n"),
            ("blank lines", "\n\n" + Self.event(60) + "\n \t\r\n\n" + Self.event(70) + "\n\n"),
            ("an oversized last line without a newline", Self.event(100) + "\n" + String(repeating: "a", count: 5000)),
            ("an oversized last line of exactly the limit plus CR", Self.event(100) + "\n" + Self.event(100) + "\r"),
            ("only a newline", "\n"),
        ]
        for (name, input) in cases {
            let runs = try Self.fileAndPipe(input, limit)
            Self.expectSame(runs, name)
            #expect(!runs.file.stdout.isEmpty || name == "only a newline", "\(name)")
        }
    }

    /// More than two windows of the mapping (4 MiB each), with oversized lines among them, cut nowhere near a
    /// window's edge.
    @Test func aFileOfSeveralWindowsReadsAsAPipeDoes() throws {
        var lines: [String] = []
        for index in 0..<3300 {
            lines.append(index % 500 == 7 ? String(repeating: "b", count: 6000) : Self.event(2000 + index % 977))
        }
        let runs = try Self.fileAndPipe(lines.joined(separator: "\n") + "\n", ["--max-event-bytes", "4000"])
        Self.expectSame(runs, "large")
        let decisions = runs.file.stdout.split(separator: "\n")
        #expect(decisions.count == 3300)
        #expect(decisions.filter { $0.hasPrefix(#"{"error""#) }.count == 7)
        #expect(runs.file.status == 2)
    }

    /// Lines longer than what a pipe hands over in one read (64 KiB): an event of exactly the limit with a CRLF
    /// line end, one a byte over it, one with no final newline, and an oversized last line with none.
    @Test(arguments: ["1", "2"])
    func linesLongerThanAPipesReadReadTheSameFromAFileAndAPipe(jobs: String) throws {
        let limit = 300_000
        let options = ["--max-event-bytes", String(limit), "--jobs", jobs]
        let cases: [(String, String, Int)] = [
            ("CRLF at the limit", Self.event(limit) + "\r\n" + Self.event(200_000) + "\r\n", 0),
            ("a byte over", Self.event(limit + 1) + "\n" + Self.event(140_000) + "\n", 1),
            ("no final newline", Self.event(131_073) + "\n" + Self.event(limit), 0),
            (
                "an oversized last line without a newline",
                Self.event(100) + "\n" + String(repeating: "a", count: 700_000), 1
            ),
        ]
        for (name, input, errors) in cases {
            let runs = try Self.fileAndPipe(input, options)
            Self.expectSame(runs, name)
            let decisions = runs.file.stdout.split(separator: "\n")
            #expect(decisions.count == 2, "\(name)")
            #expect(decisions.filter { $0.hasPrefix(#"{"error""#) }.count == errors, "\(name)")
            #expect(decisions.filter { $0.hasPrefix(#"{"assign":["member"]"#) }.count == 2 - errors, "\(name)")
        }
    }

    /// Standard input redirected from a file (`< events.jsonl`) is mapped too, from where its offset stands.
    @Test func standardInputFromAFileStartsAtItsOffset() throws {
        let first = Self.event(1234)
        let rest = [Self.event(100), Self.event(101), Self.event(100)].joined(separator: "\n") + "\n"
        let path = try CLITests.temporary("events.jsonl", first + "\n" + rest)
        let handle = try #require(FileHandle(forReadingAtPath: path))
        try handle.seek(toOffset: UInt64(first.utf8.count + 1))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CLITests.binary)
        process.arguments = ["eval", Self.rules, "--events", "-", "--max-event-bytes", "100"]
        process.currentDirectoryURL = URL(fileURLWithPath: CLITests.root)
        process.standardInput = handle
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let stdout = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let piped = try CLITests.rules(
            ["eval", Self.rules, "--events", "-", "--max-event-bytes", "100"], input: Data(rest.utf8))
        #expect(stdout == piped.stdout)
        #expect(stdout.split(separator: "\n").count == 3)
    }

    /// A mapped file cut short under its reader (as `logrotate`'s copytruncate does) ends the input with an error
    /// and exit code 2, every decision made before it written; it does not kill the process with SIGBUS.
    @Test func aFileTruncatedWhileItIsReadIsAnErrorNotACrash() throws {
        let line = Self.event(1000)
        let path = try CLITests.temporary("events.jsonl", String(repeating: line + "\n", count: 20000))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CLITests.binary)
        process.arguments = ["eval", Self.rules, "--events", path, "--jobs", "1"]
        process.currentDirectoryURL = URL(fileURLWithPath: CLITests.root)
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        // The first decisions arrive after about 600 of the 20,000 lines: stop the reader there and cut the file
        // in half under it.
        var stdout = output.fileHandleForReading.availableData
        kill(process.processIdentifier, SIGSTOP)
        #expect(truncate(path, off_t(10000 * (line.utf8.count + 1) + 123)) == 0)
        kill(process.processIdentifier, SIGCONT)
        stdout += output.fileHandleForReading.readDataToEndOfFile()
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationReason == .exit)
        #expect(process.terminationStatus == 2)
        #expect(stderr.contains("rules: error: the input file was truncated while it was being read"), "\(stderr)")
        let decisions = String(decoding: stdout, as: UTF8.self).split(separator: "\n")
        #expect(decisions.count >= 10000 && decisions.count <= 10001)
        #expect(decisions.prefix(10000).allSatisfy { $0.hasPrefix(#"{"assign":["member"]"#) })
    }
}
