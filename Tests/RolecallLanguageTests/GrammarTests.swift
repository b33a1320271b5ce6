import Foundation
import RolecallLanguage
import Testing

/// The grammar in `grammar/rolecall.ebnf` is authoritative: each of its `example:` blocks must parse and check
/// without errors.
@Suite struct GrammarTests {
    static let examples: [String] = {
        let file = #filePath
        let root = String(file[..<file.range(of: "/Tests/")!.lowerBound])
        guard let text = try? String(contentsOfFile: root + "/grammar/rolecall.ebnf", encoding: .utf8) else {
            return []
        }
        return text.components(separatedBy: "(* example:").dropFirst().map {
            String($0[..<$0.range(of: "*)")!.lowerBound])
        }
    }()

    @Test func theGrammarHasExamples() { #expect(Self.examples.count >= 3) }

    @Test(arguments: examples)
    func everyExampleParsesAndChecks(example: String) {
        let result = check(example, path: "grammar.ebnf")
        #expect(result.diagnostics.filter { $0.severity == .error }.map(\.message) == [])
        #expect(!result.rules.isEmpty)
    }
}
