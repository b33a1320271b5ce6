// In-process benchmark of the engine: `rolecall-bench RULES EVENTS.jsonl EXPECTED.txt`.
//
// Loads every event into memory, checks every decision against the oracle, then measures
//   - full:       read the event JSON + run the rules + write the decision line (what `rules eval --events` does)
//   - decide:     read the event JSON + run the rules, the decision left in the evaluator's role table (what the
//                 simdjson floor in bench/floor does: it builds the list of roles and writes nothing)
//   - pre-parsed: run the rules on fields already read (the figure peers quote for "pre-parsed")
// and prints one JSON object with the numbers. Timing is the best of several passes.
import BenchSupport
@_spi(Benchmark) import RolecallEngine
import RolecallLanguage

#if canImport(Glibc)
    import Glibc
#endif

let arguments = CommandLine.arguments
guard arguments.count >= 4 else {
    complain("usage: rolecall-bench RULES... EVENTS.jsonl EXPECTED.txt\n")
    exit(2)
}
// Every argument but the last two is a rule file, in order: one rule set.
let ruleFiles = arguments[1..<(arguments.count - 2)].map { SourceFile(path: $0, bytes: readAll($0)) }
let (program, diagnostics) = RuleEngine.compile(ruleFiles)
guard let program else {
    complain(DiagnosticRenderer.human(diagnostics))
    exit(1)
}
let data = readAll(arguments[arguments.count - 2])
let expected = String(decoding: readAll(arguments[arguments.count - 1]), as: UTF8.self).split(
    separator: "\n", omittingEmptySubsequences: false)
var lines: [Range<Int>] = []
var lineStart = 0
for (index, byte) in data.enumerated() where byte == 0x0A {
    lines.append(lineStart..<index)
    lineStart = index + 1
}
let evaluator = Evaluator(program: program)
if getenv("ROLECALL_BENCH_SWAR") != nil { evaluator.indexesStrings = false }

// Correctness first: every decision must match the oracle.
var mismatches = 0
data.withUnsafeBytes { buffer in
    for (index, range) in lines.enumerated() {
        guard let decision = try? evaluator.evaluate(UnsafeRawBufferPointer(rebasing: buffer[range])) else {
            mismatches += 1
            continue
        }
        if decision.assign.sorted().joined(separator: ",") != expected[index] { mismatches += 1 }
    }
}

func best(_ passes: Int, _ body: () -> Void) -> Double {
    var best = Double.infinity
    for _ in 0..<passes {
        let start = ContinuousClock.now
        body()
        let elapsed = ContinuousClock.now - start
        best = min(best, seconds(elapsed))
    }
    return best
}

var sink = 0
// Profiling aid: `ROLECALL_BENCH_PROFILE=read` (or `rules`, or `decide`: read and run) loops over that part only,
// for `perf record` (`setup` stops before the loop, for subtracting).
if let part = getenv("ROLECALL_BENCH_PROFILE").map({ String(cString: $0) }) {
    data.withUnsafeBytes { buffer in
        for _ in 0..<(part == "setup" ? 0 : 50) {
            for range in lines {
                let range = part == "read-first" ? lines[0] : range
                if part == "decide" {
                    sink &+= (try? evaluator.benchmarkDecide(UnsafeRawBufferPointer(rebasing: buffer[range]))) ?? 0
                    continue
                }
                try? evaluator.benchmarkRead(UnsafeRawBufferPointer(rebasing: buffer[range]))
                if part == "rules" { for _ in 0..<20 { sink &+= evaluator.benchmarkRunRules() } }
            }
        }
    }
    exit(0)
}
var output: [UInt8] = []
output.reserveCapacity(1 << 16)
let full = data.withUnsafeBytes { buffer in
    best(7) {
        for range in lines {
            try? evaluator.evaluate(UnsafeRawBufferPointer(rebasing: buffer[range]), writingTo: &output)
            if output.count > 1 << 15 { output.removeAll(keepingCapacity: true) }
        }
    }
}
let decide = data.withUnsafeBytes { buffer in
    best(7) {
        for range in lines {
            sink &+= (try? evaluator.benchmarkDecide(UnsafeRawBufferPointer(rebasing: buffer[range]))) ?? 0
        }
    }
}
let repeats = 20
let readOnly = data.withUnsafeBytes { buffer in
    best(7) {
        for range in lines { try? evaluator.benchmarkRead(UnsafeRawBufferPointer(rebasing: buffer[range])) }
    }
}
let readAndRepeat = data.withUnsafeBytes { buffer in
    best(7) {
        for range in lines {
            try? evaluator.benchmarkRead(UnsafeRawBufferPointer(rebasing: buffer[range]))
            for _ in 0..<repeats { sink &+= evaluator.benchmarkRunRules() }
        }
    }
}
let count = Double(lines.count)
let preParsed = (readAndRepeat - readOnly) / (count * Double(repeats))
print(
    """
    {"events":\(lines.count),"bytes":\(data.count),"mismatches":\(mismatches),\
    "full_us_per_event":\(full / count * 1e6),"full_events_per_s":\(count / full),\
    "full_mb_per_s":\(Double(data.count) / full / 1e6),"decide_us_per_event":\(decide / count * 1e6),\
    "read_us_per_event":\(readOnly / count * 1e6),\
    "preparsed_us_per_event":\(preParsed * 1e6),"sink":\(sink % 2)}
    """)
exit(mismatches == 0 ? 0 : 1)
