/// Runs batches of input lines on worker threads and hands their results back in input order (`--jobs`).
///
/// The reading thread cuts the input into batches of whole lines and submits them; each worker owns its own
/// state (an evaluator, or a pair of them: evaluators are not thread-safe) and turns a batch into a result;
/// results are emitted on the submitting thread in the order their batches were submitted, so the output of
/// `--jobs N` is the output of `--jobs 1`. At most two batches per worker are in flight, so memory stays
/// constant however long the input.
final class OrderedWorkers<State, Result>: @unchecked Sendable {
    // @unchecked: every mutable property is read and written only with `condition` locked; each `State` is used
    // by its one worker thread only, and results cross from a worker to the emitter under the lock.

    /// A run of consecutive input lines.
    struct Batch {
        /// The lines' bytes, back to back.
        var bytes: [UInt8] = []
        /// Each line: its number and where its bytes are, or how long it was if it was too long to keep.
        var lines: [(number: Int, item: Item)] = []

        enum Item {
            case event(Range<Int>)
            case oversized(Int)
        }

        var isEmpty: Bool { lines.isEmpty }
    }

    let condition = ConditionLock()
    var pending: [(sequence: Int, batch: Batch)] = []
    var results: [Int: Result] = [:]
    var submitted = 0
    var emitted = 0
    var closing = false
    var running = 0
    /// Byte buffers of finished batches, emptied, for the next batches: fresh megabytes would each cost the
    /// reading thread a page fault per page.
    var spare: [[UInt8]] = []
    let limit: Int
    let work: (inout State, Batch) -> Result

    /// Starts `states.count` workers; worker `i` runs `work(&states[i], batch)` for the batches it takes.
    init(states: [State], work: @escaping (inout State, Batch) -> Result) {
        limit = 2 * states.count
        running = states.count
        self.work = work
        for state in states {
            let box = StateBox(state)
            ConditionLock.detachThread(stackSize: 8 << 20) { [self] in
                while let (sequence, batch) = take() {
                    let result = self.work(&box.state, batch)
                    var bytes = batch.bytes
                    bytes.removeAll(keepingCapacity: true)
                    condition.lock()
                    spare.append(bytes)
                    results[sequence] = result
                    condition.broadcast()
                    condition.unlock()
                }
                condition.lock()
                running -= 1
                condition.broadcast()
                condition.unlock()
            }
        }
    }

    /// Holds a worker's state so the thread's closure can mutate it.
    final class StateBox: @unchecked Sendable {
        // @unchecked: only the one worker thread it is handed to uses it.
        var state: State
        init(_ state: State) { self.state = state }
    }

    /// The next batch for a worker, or nil when the workers are being shut down.
    func take() -> (Int, Batch)? {
        condition.lock()
        defer { condition.unlock() }
        while pending.isEmpty && !closing { condition.wait() }
        return pending.isEmpty ? nil : pending.removeFirst()
    }

    /// An empty batch, reusing the buffer of a finished one when there is one.
    func emptyBatch(capacity: Int) -> Batch {
        condition.lock()
        var bytes = spare.popLast() ?? []
        condition.unlock()
        bytes.reserveCapacity(capacity)
        return Batch(bytes: bytes, lines: [])
    }

    /// Queues `batch`, emitting finished results in order while too many batches are in flight.
    func submit(_ batch: Batch, emit: (Result) -> Void) {
        guard !batch.isEmpty else { return }
        condition.lock()
        emitInOrder(while: { submitted - emitted >= limit }, emit: emit)
        pending.append((submitted, batch))
        submitted += 1
        condition.broadcast()
        condition.unlock()
    }

    /// Waits for every submitted batch and emits the results not emitted yet, in order.
    func flush(emit: (Result) -> Void) {
        condition.lock()
        emitInOrder(while: { emitted < submitted }, emit: emit)
        condition.unlock()
    }

    /// With `condition` locked: while `waiting` holds, emits the next result in order (unlocked while `emit`
    /// runs) or waits for it.
    func emitInOrder(while waiting: () -> Bool, emit: (Result) -> Void) {
        while waiting() {
            if let result = results.removeValue(forKey: emitted) {
                emitted += 1
                condition.unlock()
                emit(result)
                condition.lock()
            } else {
                condition.wait()
            }
        }
    }

    /// Stops the workers once the queue is empty and waits for them to end.
    func close() {
        condition.lock()
        closing = true
        condition.broadcast()
        while running > 0 { condition.wait() }
        condition.unlock()
    }
}
