import FuzzSupport
import RolecallEngine
import RolecallSuites

// Arbitrary bytes as a YAML test suite beside the example rules (so `event: events/acme-admin.json` resolves),
// then each loaded case's event explained against the fixed rule set, as `rules test` does. Problems are fine
// answers; a crash, a hang or running out of memory (an alias bomb) is the finding.
runFuzzer { data, size in
    let bytes = inputBytes(data, size)
    // A suite names event files, and the loader reads whatever it names: keep the fuzzer away from devices and
    // kernel files, where a read never ends (/dev/zero) or has effects. Bypassing this takes a YAML escape.
    for forbidden in ["dev/", "proc/", "sys/", "fd/"] where bytes.contains(subsequence: Array(forbidden.utf8)) {
        return -1
    }
    let suite = SuiteLoader.parse(
        String(decoding: bytes, as: UTF8.self), path: SuitesFixture.directory + "/fuzz.test.yaml",
        directory: SuitesFixture.directory)
    for testCase in suite.cases {
        _ = try? SuitesFixture.evaluator.explain(Array(testCase.event.serialized.utf8))
    }
    _ = suite.problems.map(\.description)
    return 0
}
