import Foundation
import RolecallEngine
import RolecallLanguage
import Testing

/// Every rule file the fuzz targets ever crashed on (`fuzz/crashes-found/`) runs through every stage here, so a
/// crash found once stays fixed without the fuzz build: check, compile, evaluate, explain (the same decision),
/// and the formatter's round trip.
@Suite struct CrashReproducerTests {
    static let root = String(#filePath[..<#filePath.range(of: "/Tests/")!.lowerBound])

    static var reproducers: [String] {
        let base = root + "/fuzz/crashes-found"
        let targets = (try? FileManager.default.contentsOfDirectory(atPath: base)) ?? []
        return targets.sorted().flatMap { target in
            ((try? FileManager.default.contentsOfDirectory(atPath: base + "/" + target)) ?? [])
                .filter { $0.hasSuffix(".rules") }.sorted().map { base + "/" + target + "/" + $0 }
        }
    }

    @Test func thereAreReproducers() {
        #expect(Self.reproducers.count >= 6)
    }

    @Test(arguments: reproducers)
    func aReproducerPassesEveryStage(path: String) throws {
        let bytes = try #require(FileManager.default.contents(atPath: path))
        let file = SourceFile(path: "r.rules", bytes: Array(bytes))
        let checked = Checker.check([file])
        if !checked.hasErrors {
            let evaluator = Evaluator(program: Program(checked))
            let event = Array(#"{"user":{"email":"a@acme.com","app_metadata":{}},"authorization":{"roles":[]}}"#.utf8)
            let decision = try evaluator.evaluate(event)
            #expect(try evaluator.explain(event).decision == decision)
        }
        if case .success(let formatted) = Formatter.format(file) {
            let again = SourceFile(path: "r.rules", text: formatted)
            #expect(Parser.parse(again).rules == Parser.parse(file).rules)
            #expect(try Formatter.format(again).get() == formatted)
        }
    }
}
