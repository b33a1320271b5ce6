import RolecallJSON
import RolecallLanguage

/// JUnit XML for CI systems: one `<testsuite>` per suite file, one `<testcase>` per case; unreadable suites and
/// cases appear as cases with an `<error>`.
///
/// A CI page shows these names to people, so they are spelled as `rules test` prints them: a case name as
/// ``Spelling/visible(_:)`` and a suite path as ``FileName/visible(_:)`` (hidden scalars such as U+202E or ESC as
/// `\u{...}`, a raw byte as `\xe9`), and every other text has its hidden scalars escaped the same way.
public enum JUnitReport {
    /// The report as an XML document.
    public static func xml(_ report: TestReport) -> String {
        var suites: [String] = []
        var order: [String: [String]] = [:]
        var failures: [String: Int] = [:]
        func add(_ suite: String, _ element: String, failed: Bool) {
            if order[suite] == nil { suites.append(suite) }
            order[suite, default: []].append(element)
            if failed { failures[suite, default: 0] += 1 }
        }
        // A suite's path as messages show it (``FileName/visible(_:)``): a raw byte of its name as `\xe9`.
        for result in report.results {
            let suite = FileName.visible(result.suite)
            var element =
                "    <testcase name=\"\(escape(Spelling.visible(result.name)))\" classname=\"\(escape(suite))\" "
                + "file=\"\(escape(suite))\" line=\"\(result.line)\""
            if result.passed {
                element += "/>"
            } else {
                var body = result.mismatches.joined(separator: "\n")
                if let trace = result.explanation?.text { body += "\n\n" + trace }
                element += ">\n      <failure message=\"\(escape(result.mismatches.first ?? "failed"))\">"
                element += escape(body) + "</failure>\n    </testcase>"
            }
            add(suite, element, failed: !result.passed)
        }
        for problem in report.problems {
            let name = problem.caseName.map(Spelling.visible) ?? "(suite)"
            let file = FileName.visible(problem.file)
            add(
                file,
                "    <testcase name=\"\(escape(name))\" classname=\"\(escape(file))\" line=\"\(problem.line)\">\n"
                    + "      <error message=\"\(escape(problem.message))\">\(escape(problem.description))</error>\n"
                    + "    </testcase>",
                failed: true)
        }
        var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        out += "<testsuites name=\"rules test\" tests=\"\(report.results.count + report.problems.count)\" "
        out += "failures=\"\(report.failed)\">\n"
        for suite in suites {
            let cases = order[suite] ?? []
            out +=
                "  <testsuite name=\"\(escape(suite))\" tests=\"\(cases.count)\" failures=\"\(failures[suite] ?? 0)\">\n"
            out += cases.joined(separator: "\n") + "\n  </testsuite>\n"
        }
        return out + "</testsuites>\n"
    }

    /// Text escaped for XML content and attributes: the five markup characters as entities, newlines and tabs as
    /// themselves, and every other hidden scalar (``Unicode/Scalar/isHiddenInText``) as ``HumanText/escape(_:)``
    /// writes it. That covers every character XML 1.0 cannot hold (C0 controls, U+FFFE, U+FFFF), so the document
    /// stays well-formed, and no bidi control or escape sequence reaches a CI page or a terminal as itself.
    static func escape(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "\n", "\t": out.unicodeScalars.append(scalar)
            // XML 1.0 Char: #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]; Swift scalars are
            // never surrogates, so what is left out is C0 controls and U+FFFE, U+FFFF, all of them hidden.
            case _ where scalar.isHiddenInText: out += HumanText.escape(scalar)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
