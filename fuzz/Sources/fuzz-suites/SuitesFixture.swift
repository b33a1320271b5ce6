import FuzzSupport
import RolecallEngine

/// The suite's directory and one evaluator reused for every input.
enum SuitesFixture {
    /// The example rules' directory, where the example suites and their events are.
    static let directory = FixedRules.repositoryRoot + "/rules"

    /// Safe without isolation: libFuzzer runs the target on one thread (-jobs=1 -workers=1; a job is a process).
    nonisolated(unsafe) static let evaluator = Evaluator(program: FixedRules.program)
}

extension [UInt8] {
    /// Whether `needle` occurs in these bytes.
    func contains(subsequence needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, needle.count <= count else { return needle.isEmpty }
        return (0...(count - needle.count)).contains { start in self[start..<start + needle.count].elementsEqual(needle)
        }
    }
}
