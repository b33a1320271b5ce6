import FuzzSupport
import RolecallEngine

// Arbitrary bytes as one event, read and evaluated against a fixed rule set three ways: the decision, the batch
// output line and the explanation; and read a fourth way, by the reference reader (no SIMD bitmap, no C walker),
// which must give the same decision or the same error. An error is a fine answer; a crash, a hang, a memory
// error, or the ways disagreeing (whether the event is valid, or what was decided) is the finding.
runFuzzer { data, size in
    let event = inputBytes(data, size)
    let evaluator = EventsFixture.evaluator
    let decision = Result { () throws(JSONError) in try evaluator.evaluate(event) }
    var line: [UInt8] = []
    let written = event.withUnsafeBytes { bytes in
        Result { () throws(JSONError) in try evaluator.evaluate(bytes, writingTo: &line) }
    }
    let explained = Result { () throws(JSONError) in try evaluator.explain(event) }
    let reference = Result { () throws(JSONError) in try EventsFixture.reference.evaluate(event) }
    switch (decision, reference) {
    case (.success(let fast), .success(let slow)):
        precondition(fast == slow, "the reference reader decided differently:\n\(slow.json)\n\(fast.json)")
    case (.failure(let fast), .failure(let slow)):
        precondition(fast == slow, "the reference reader refused differently: \(slow) / \(fast)")
    default:
        preconditionFailure("the fast and reference readers disagree: \(decision) / \(reference)")
    }
    switch (decision, written, explained) {
    case (.success(let decision), .success, .success(let explanation)):
        let text = String(decoding: line, as: UTF8.self)
        precondition(
            text == decision.json || text == decision.json + "\n",
            "the batch line differs from the decision:\n\(text)\n\(decision.json)")
        precondition(
            explanation.decision == decision,
            "--explain decided differently:\n\(explanation.decision.json)\n\(decision.json)")
        _ = explanation.text
    case (.failure, .failure, .failure):
        break
    default:
        preconditionFailure("the event was accepted by some readers and refused by others: \(decision) \(explained)")
    }
    return 0
}
