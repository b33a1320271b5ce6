import ArgumentParser
import RolecallLanguage

#if canImport(Glibc)
    import Glibc
#endif

/// Where events come from, shared by `rules eval` and `rules apply`: one file, or a stream of JSON lines.
package struct EventInput: ParsableArguments {
    package init() {}

    @Option(help: "A JSON event file, or `-` for standard input.")
    package var event: String?

    @Option(help: "A file of JSON events, one per line, or `-` for standard input.")
    package var events: String?

    @Option(help: "Refuse events (with --events: lines) larger than this many bytes, at most 1 GiB.")
    package var maxEventBytes: Int = EventInput.defaultMaxEventBytes

    /// `--max-event-bytes` when it is not given.
    package static let defaultMaxEventBytes = 1 << 20

    /// The largest `--max-event-bytes` accepted: the batch reader buffers one line of this size.
    package static let maxEventBytesLimit = 1 << 30

    package func validate() throws {
        if let problem = plain.problem { throw ValidationError(problem) }
    }

    /// These options as plain values.
    package var plain: EventSource { EventSource(event: event, events: events, maxEventBytes: maxEventBytes) }

    /// Whether events come one per line.
    package var isBatch: Bool { plain.isBatch }

    /// The file named, for messages.
    package var source: String { plain.source }

    /// One event of the input.
    package enum Item {
        /// The event's bytes, valid during the call only.
        case event(UnsafeRawBufferPointer)
        /// A line longer than `--max-event-bytes`, skipped without being buffered; its length.
        case oversized(Int)
    }

    /// ``EventSource/forEach(idle:signals:_:)`` on these options.
    package func forEach(
        idle: () -> Void = {}, signals: SignalWatch? = nil, _ body: (Int, Item) throws -> Void
    ) throws {
        try plain.forEach(idle: idle, signals: signals, body)
    }
}

/// ``EventInput``'s values, as plain values rather than ArgumentParser's property wrappers: what a command reads
/// once its options are parsed, and what the lean `rules` makes from `rules eval`'s everyday arguments without
/// making the wrappers (their first use costs the Swift runtime generic-type and conformance lookups at start-up).
package struct EventSource {
    /// `--event`: one JSON event file, or `-`.
    package var event: String?
    /// `--events`: a file of JSON events, one per line, or `-`.
    package var events: String?
    /// `--max-event-bytes`.
    package var maxEventBytes: Int

    package init(event: String?, events: String?, maxEventBytes: Int) {
        self.event = event
        self.events = events
        self.maxEventBytes = maxEventBytes
    }

    /// What is wrong with these values, as ``EventInput/validate()`` says it; nil when nothing is.
    package var problem: String? {
        guard (event == nil) != (events == nil) else {
            return "give exactly one of --event FILE or --events FILE.jsonl"
        }
        guard maxEventBytes > 0, maxEventBytes <= EventInput.maxEventBytesLimit else {
            return "--max-event-bytes must be between 1 and \(EventInput.maxEventBytesLimit)"
        }
        return nil
    }

    /// Whether events come one per line.
    package var isBatch: Bool { events != nil }

    /// The file named, for messages.
    package var source: String { event ?? events ?? "-" }

    /// Calls `body` with each event and its number (the line number with `--events`; blank lines are skipped).
    /// An input that cannot be opened or read ends the command with exit code 2. With `--events`, `idle` runs
    /// whenever reading more would block (a slow writer), and a signal seen by `signals` ends the loop by throwing
    /// ``SignalWatch/Interrupted``.
    package func forEach(
        idle: () -> Void = {}, signals: SignalWatch? = nil, _ body: (Int, EventInput.Item) throws -> Void
    ) throws {
        do {
            if let event {
                // The file's final line end is not part of the event: an event of exactly the limit passes with
                // or without it, as the same event does as a line of --events.
                var bytes = try readFile(event, limit: maxEventBytes + 2, reportedLimit: maxEventBytes)
                if bytes.last == 0x0A { bytes.removeLast() }
                if bytes.last == 0x0D { bytes.removeLast() }
                guard bytes.count <= maxEventBytes else {
                    throw CLIError("\(FileName.visible(source)) is larger than \(maxEventBytes) bytes")
                }
                try bytes.withUnsafeBytes { try body(1, .event($0)) }
                return
            }
            let fd = source == "-" ? 0 : open(FileName.cString(source), O_RDONLY)
            guard fd >= 0 else {
                throw CLIError("cannot open \(FileName.visible(source)): \(String(cString: strerror(errno)))")
            }
            defer { if fd != 0 { close(fd) } }
            let reader = LineReader(
                fd: fd, maxLine: maxEventBytes, name: source == "-" ? "standard input" : FileName.visible(source))
            var number = 0
            while let line = try reader.next(idle: idle, signals: signals) {
                number += 1
                switch line {
                case .oversized(let size):
                    try body(number, .oversized(size))
                case .line(let bytes):
                    if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
                    try body(number, .event(bytes))
                }
            }
        } catch let error as CLIError {
            Output.standardError("rules: error: \(error)\n")
            throw ExitStatus.badInput
        }
    }
}
