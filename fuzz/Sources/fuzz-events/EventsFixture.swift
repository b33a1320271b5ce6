import FuzzSupport
@_spi(Benchmark) import RolecallEngine

/// One evaluator reused for every input, as a server's worker thread would reuse it, so state left behind by one
/// event can show up in the next.
enum EventsFixture {
    /// Safe without isolation: libFuzzer runs the target on one thread (the targets are run with -jobs=1 and
    /// -workers=1, and each job is a process of its own).
    nonisolated(unsafe) static let evaluator: Evaluator = {
        let evaluator = Evaluator(program: FixedRules.program)
        // A fixed clock, so that the three ways of evaluating one input see the same `days_since`; the event's
        // own `rolecall_now` is honoured, so the fuzzer reaches the replay clock too.
        evaluator.now = FixedRules.clock
        evaluator.clockFromEvent = true
        return evaluator
    }()

    /// The same rules read by the reference path (strings eight bytes at a time, every skipped value walked in
    /// Swift), which must accept, decide and refuse exactly as the fast path does.
    nonisolated(unsafe) static let reference: Evaluator = {
        let evaluator = Evaluator(program: FixedRules.program)
        evaluator.now = FixedRules.clock
        evaluator.clockFromEvent = true
        evaluator.indexesStrings = false
        return evaluator
    }()
}
