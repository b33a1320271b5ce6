import RolecallEngine
import Synchronization

/// Evaluators for one program, lent to one request at a time.
///
/// ``Evaluator`` keeps per-evaluation state and is not thread-safe; a free list under a lock gives each
/// concurrent request its own and keeps them for the next (a pool grows to the peak number of requests in flight).
final class EvaluatorPool: Sendable {
    /// An evaluator on the free list.
    ///
    /// @unchecked Sendable: an evaluator is only ever used by the one caller of ``EvaluatorPool/withEvaluator(_:)``
    /// that took it off the list, and goes back on the list (under the lock) when that caller is done.
    struct Lent: @unchecked Sendable {
        let evaluator: Evaluator
    }

    let program: Program
    let free = Mutex<[Lent]>([])

    init(program: Program) {
        self.program = program
    }

    /// Runs `body` with an evaluator no one else is using.
    func withEvaluator<Result, Failure: Error>(_ body: (Evaluator) throws(Failure) -> Result) throws(Failure)
        -> Result
    {
        let lent = free.withLock { $0.popLast() } ?? Lent(evaluator: Evaluator(program: program))
        defer { free.withLock { $0.append(lent) } }
        return try body(lent.evaluator)
    }

    /// How many evaluators are idle (for tests).
    var idleCount: Int { free.withLock { $0.count } }
}
