import FuzzSupport
import RolecallEngine

// Arbitrary bytes as one event, read and evaluated against a fixed rule set three ways: the decision, the batch
// output line and the explanation. An error is a fine answer; a crash, a hang, a memory error, or the three ways
// disagreeing (whether the event is valid, or what was decided) is the finding.
runFuzzer { data, size in
    let event = inputBytes(data, size)
    let evaluator = EventsFixture.evaluator
    let decision = Result { () throws(JSONError) in try evaluator.evaluate(event) }
    var line: [UInt8] = []
    let written = event.withUnsafeBytes { bytes in
        Result { () throws(JSONError) in try evaluator.evaluate(bytes, writingTo: &line) }
    }
    let explained = Result { () throws(JSONError) in try evaluator.explain(event) }
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
