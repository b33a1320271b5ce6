import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Issue 7, item 10: `rules eval --events -` streams. A decision appears as soon as its line is read when the
/// writer is slow, and SIGTERM or SIGINT end the command with every decision made written.
@Suite struct StreamingTests {
    static let event = Data(#"{"stats":{"logins_count":1}}"#.utf8 + [0x0A])

    /// The built binary reading events from a pipe we write to, its decisions on a pipe we read from.
    final class Session {
        let process = Process()
        let input = Pipe()
        let output = Pipe()
        var received: [UInt8] = []

        /// Reads from `producer`'s output when given, else from ``input``; `options` follow the usual arguments.
        init(producer: Pipe? = nil, options: [String] = []) throws {
            process.executableURL = URL(fileURLWithPath: CLITests.binary)
            process.arguments = ["eval", "rules/default-roles.rules", "--events", "-"] + options
            process.currentDirectoryURL = URL(fileURLWithPath: CLITests.root)
            process.standardInput = producer ?? input
            process.standardOutput = output
            process.standardError = FileHandle.nullDevice
            try process.run()
        }

        deinit { if process.isRunning { process.terminate() } }

        func write(_ data: Data) throws { try input.fileHandleForWriting.write(contentsOf: data) }

        /// Reads until `lines` decision lines have arrived in all, or `seconds` pass; returns the lines so far.
        func lines(_ lines: Int, within seconds: Double) -> [String] {
            let deadline = Date().addingTimeInterval(seconds)
            let fd = output.fileHandleForReading.fileDescriptor
            while received.filter({ $0 == 0x0A }).count < lines {
                let left = Int32(max(0, deadline.timeIntervalSinceNow) * 1000)
                var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                guard left > 0, poll(&descriptor, 1, left) > 0 else { break }
                var chunk = [UInt8](repeating: 0, count: 65536)
                let count = read(fd, &chunk, chunk.count)
                guard count > 0 else { break }
                received += chunk[0..<count]
            }
            return String(decoding: received, as: UTF8.self).split(separator: "\n").map(String.init)
        }
    }

    @Test func eachDecisionAppearsWhileTheWriterIsStillWriting() throws {
        let session = try Session()
        for line in 1...3 {
            try session.write(Self.event)
            let decisions = session.lines(line, within: 10)
            #expect(decisions.count == line, "decision \(line) did not appear while the input stayed open")
            #expect(decisions.last?.hasPrefix(#"{"assign":["member"]"#) == true)
            Thread.sleep(forTimeInterval: 0.05)
        }
        try session.input.fileHandleForWriting.close()
        session.process.waitUntilExit()
        #expect(session.process.terminationStatus == 0)
    }

    @Test(arguments: [SIGTERM, SIGINT])
    func aSignalEndsTheCommandWithEveryDecisionWritten(signal: Int32) throws {
        let session = try Session()
        // A burst the command reads at once, then a pause, as a slow producer would send them.
        try session.write(Data(repeating: 0, count: 0) + Array(repeating: Self.event, count: 100).reduce(Data(), +))
        #expect(session.lines(100, within: 10).count == 100)
        try session.write(Self.event)
        #expect(session.lines(101, within: 10).count == 101)
        kill(session.process.processIdentifier, signal)
        session.process.waitUntilExit()
        #expect(session.process.terminationReason == .uncaughtSignal)
        #expect(session.process.terminationStatus == signal)
        let all = session.lines(102, within: 1)
        #expect(all.count == 101)
        #expect(all.allSatisfy { $0.hasPrefix(#"{"assign":["member"]"#) })
    }

    /// An attacker's producer that never blocks: one event, then a line that never ends (`tr` turning /dev/zero
    /// into an endless run of `a`, no newline). The command skips the oversized line without buffering it; the
    /// decision made before the skip is written, and SIGTERM or SIGINT still end the command promptly by the signal.
    @Test(arguments: [SIGTERM, SIGINT])
    func aSignalEndsTheSkipOfAnEndlessOversizedLine(signal: Int32) throws {
        let producer = Process()
        let pipe = Pipe()
        producer.executableURL = URL(fileURLWithPath: "/bin/sh")
        producer.arguments = [
            "-c", #"printf '%s\n' "$1"; exec tr '\0' a < /dev/zero"#, "sh", #"{"stats":{"logins_count":1}}"#,
        ]
        producer.standardOutput = pipe
        try producer.run()
        defer {
            producer.terminate()
            producer.waitUntilExit()
        }
        // A small limit, and a pause once the decision is out, so the signal comes well into the skip.
        let session = try Session(producer: pipe, options: ["--max-event-bytes", "4096"])
        let decisions = session.lines(1, within: 10)
        #expect(decisions.count == 1, "the decision before the endless line was not written")
        Thread.sleep(forTimeInterval: 0.5)
        kill(session.process.processIdentifier, signal)
        let deadline = Date().addingTimeInterval(5)
        while session.process.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        guard !session.process.isRunning else {
            kill(session.process.processIdentifier, SIGKILL)
            session.process.waitUntilExit()
            Issue.record("still running 5 s after signal \(signal) while skipping an oversized line")
            return
        }
        #expect(session.process.terminationReason == .uncaughtSignal)
        #expect(session.process.terminationStatus == signal)
        let all = session.lines(2, within: 1)
        #expect(all.count == 1)
        #expect(all.first?.hasPrefix(#"{"assign":["member"]"#) == true)
    }
}
