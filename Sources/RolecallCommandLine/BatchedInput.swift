import ArgumentParser
import RolecallEngine

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// `--jobs N`, shared by `rules eval --events` and `rules diff`.
package struct JobsOption: ParsableArguments {
    package init() {}

    @Option(
        name: .customLong("jobs"),
        help: ArgumentHelp(
            "Evaluate --events on this many threads (default: the number of processors it may run on).",
            discussion: "The input is cut into batches of lines; the output is in input order whatever the number."))
    var requested: Int?

    /// The most threads accepted.
    static let maxJobs = 256

    package func validate() throws {
        if let problem = JobsOption.problem(requested) { throw ValidationError(problem) }
    }

    /// What is wrong with `--jobs` given as `requested`; nil when nothing is.
    static func problem(_ requested: Int?) -> String? {
        guard let requested else { return nil }
        guard requested >= 1, requested <= JobsOption.maxJobs else {
            return "--jobs must be between 1 and \(JobsOption.maxJobs), found \(requested)"
        }
        return nil
    }

    /// The number of threads to use.
    package var jobs: Int { JobsOption.jobs(requested) }

    /// The number of threads to use for `--jobs` given as `requested`.
    static func jobs(_ requested: Int?) -> Int { requested ?? JobsOption.availableProcessors() }

    /// The processors this process may run on: those of its CPU affinity (`taskset`, a container's cpuset),
    /// fewer when its cgroup (v2) allows less CPU time than that (`cpu.max`, as `docker --cpus` sets it).
    /// Threads beyond these would only take turns, and the reading thread with them.
    static func availableProcessors() -> Int {
        var count = affinityCount() ?? Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        if let quota = cgroupQuota() { count = min(count, quota) }
        return max(1, count)
    }

    /// How many processors `sched_getaffinity` allows this process (up to 8192), or nil. Looked up at run time:
    /// Swift's Glibc module declares only what glibc declares without `_GNU_SOURCE`, and it is not among that.
    static func affinityCount() -> Int? {
        typealias GetAffinity = @convention(c) (pid_t, Int, UnsafeMutableRawPointer) -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "sched_getaffinity") else { return nil }
        let getAffinity = unsafeBitCast(symbol, to: GetAffinity.self)
        var mask = [UInt64](repeating: 0, count: 128)
        let status = mask.withUnsafeMutableBytes { getAffinity(0, $0.count, $0.baseAddress!) }
        let count = mask.reduce(0) { $0 + $1.nonzeroBitCount }
        return status == 0 && count > 0 ? count : nil
    }

    /// `quota period` of the cgroup's `cpu.max`, rounded up to whole processors; nil for `max` or no cgroup v2.
    static func cgroupQuota() -> Int? {
        guard let groups = try? readFile("/proc/self/cgroup", limit: 1 << 16) else { return nil }
        let lines = String(decoding: groups, as: UTF8.self).split(separator: "\n")
        guard let line = lines.first(where: { $0.hasPrefix("0::") }),
            let limits = try? readFile("/sys/fs/cgroup" + line.dropFirst(3) + "/cpu.max", limit: 1 << 10)
        else { return nil }
        let fields = String(decoding: limits, as: UTF8.self).split { $0 == " " || $0 == "\n" }
        guard fields.count == 2, let quota = Int(fields[0]), let period = Int(fields[1]), period > 0 else {
            return nil
        }
        return max(1, (quota + period - 1) / period)
    }
}

/// The lines of `--events`, cut into batches for ``OrderedWorkers``.
struct BatchedInput {
    let input: EventSource
    /// A batch is sent to a worker when it holds this many bytes or lines.
    static let batchBytes = 4 << 20
    static let batchLines = 8192

    init(input: EventSource) { self.input = input }

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
            // Output that can no longer be written ends the reading; what is in flight is still emitted (to
            // nowhere) by the `defer` above, and the exit handler reports the failure (``Output``).
            if Output.hasFailed { throw ExitStatus.badInput }
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
