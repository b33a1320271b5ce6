/// The one place JSON text is written: string literals and numbers, for every module that writes JSON
/// (decisions, diagnostics, traces, suites, the Management API client, the sandbox).
///
/// A module of its own with no dependencies, so that every writer agrees on one escaping and one number form.
public enum JSONText {
    /// `text` as a JSON string literal: quotes, backslashes and control characters escaped (`\n`, `\r`, `\t`,
    /// else `\u00XX`), everything else as UTF-8.
    public static func quote(_ text: String) -> String {
        var out = "\""
        out.reserveCapacity(text.utf8.count + 2)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// A number as JSON (and rule-language) text: an integral value below 10^15 in magnitude without a
    /// fraction (`1`, not `1.0`), `-0.0` keeping its sign, anything else in Swift's shortest round-tripping
    /// form (`1.5`, `1e+20`). JSON has no infinities or NaN: they are written `null`.
    public static func number(_ value: Double) -> String {
        guard value.isFinite else { return "null" }
        if value == value.rounded(), abs(value) < 1e15, !(value == 0 && value.sign == .minus) {
            return String(Int64(value))
        }
        return String(value)
    }
}
