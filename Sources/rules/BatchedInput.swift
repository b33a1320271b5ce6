import ArgumentParser
import Foundation
import RolecallEngine

/// `--jobs N`, shared by `rules eval --events` and `rules diff`.
struct JobsOption: ParsableArguments {
    @Option(
        name: .customLong("jobs"),
        help: ArgumentHelp(
            "Evaluate --events on this many threads (default: the number of processors).",
            discussion: "The input is cut into batches of lines; the output is in input order whatever the number."))
    var requested: Int?

    /// The most threads accepted.
    static let maxJobs = 256

    func validate() throws {
        guard let requested else { return }
        guard requested >= 1, requested <= JobsOption.maxJobs else {
            throw ValidationError("--jobs must be between 1 and \(JobsOption.maxJobs), found \(requested)")
        }
    }

    /// The number of threads to use.
    var jobs: Int { requested ?? max(1, ProcessInfo.processInfo.activeProcessorCount) }
}

/// The lines of `--events`, cut into batches for ``OrderedWorkers``.
struct BatchedInput {
    let input: EventInput
    /// A batch is sent to a worker when it holds this many bytes or lines.
    static let batchBytes = 4 << 20
    static let batchLines = 8192

    init(input: EventInput) { self.input = input }

    /// Reads every line, hands batches to `workers` and passes each result to `emit` in input order. When
    /// reading would block (a slow producer), what was read so far is decided and emitted first, as
    /// `--jobs 1` does.
    mutating func run<State, Result>(
        _ workers: OrderedWorkers<State, Result>, signals: SignalWatch?, emit: (Result) -> Void
    ) throws {
        let capacity = BatchedInput.batchBytes + (1 << 16)
        var batch = workers.emptyBatch(capacity: capacity)
        func send() {
            guard !batch.isEmpty else { return }
            workers.submit(batch, emit: emit)
            batch = workers.emptyBatch(capacity: capacity)
        }
        // Whatever ends the input (its end, a read error, a signal), every line read is decided and emitted
        // first, as `--jobs 1` does.
        defer {
            send()
            workers.flush(emit: emit)
        }
        try input.forEach(
            idle: {
                send()
                workers.flush(emit: emit)
            }, signals: signals
        ) { number, item in
            switch item {
            case .oversized(let size): batch.lines.append((number, .oversized(size)))
            case .event(let bytes):
                let start = batch.bytes.count
                batch.bytes += bytes
                batch.lines.append((number, .event(start..<batch.bytes.count)))
            }
            if batch.bytes.count >= BatchedInput.batchBytes || batch.lines.count >= BatchedInput.batchLines { send() }
        }
    }
}

extension OrderedWorkers.Batch {
    /// Calls `body` with each line as ``EventInput`` hands it out.
    func forEach(_ body: (Int, EventInput.Item) -> Void) {
        bytes.withUnsafeBytes { buffer in
            for (number, item) in lines {
                switch item {
                case .oversized(let size): body(number, .oversized(size))
                case .event(let range): body(number, .event(UnsafeRawBufferPointer(rebasing: buffer[range])))
                }
            }
        }
    }
}
