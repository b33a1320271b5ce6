/// The `--tenant-file` format: `KEY=VALUE` lines, as a shell would source them.
///
/// Lines end with LF or CRLF (a file saved on Windows reads the same); blank lines and lines starting with `#`
/// are skipped, an `export ` prefix is allowed, and spaces around the key and value are trimmed. A value in
/// quotes is unquoted as a shell would: `'...'` is taken literally, and in `"..."` a backslash before `"`, `\`,
/// `$` or a backquote stands for that character (nothing is expanded: `$HOME` stays as written).
public enum TenantFile {
    /// The largest tenant file read, in bytes: a handful of settings fits in a few hundred.
    public static let maxBytes = 64 << 10

    /// The settings in `bytes`, the last one winning when a key repeats.
    public static func settings(_ bytes: [UInt8]) -> [String: String] {
        var settings: [String: String] = [:]
        let text = String(decoding: bytes, as: UTF8.self)
        for rawLine in text.unicodeScalars.split(whereSeparator: { $0 == "\n" || $0 == "\r" }) {
            var line = String(String.UnicodeScalarView(rawLine)).trimmingCharacters(in: " \t")
            guard !line.isEmpty, !line.hasPrefix("#") else { continue }
            if line.hasPrefix("export ") { line = String(line.dropFirst(7)) }
            guard let equals = line.firstIndex(of: "=") else { continue }
            let key = line[..<equals].trimmingCharacters(in: " \t")
            guard !key.isEmpty else { continue }
            settings[key] = unquoted(line[line.index(after: equals)...].trimmingCharacters(in: " \t"))
        }
        return settings
    }

    /// `value` without its surrounding single or double quotes, if it has a matching pair.
    static func unquoted(_ value: String) -> String {
        guard value.count >= 2, let quote = value.first, quote == "'" || quote == "\"", value.last == quote else {
            return value
        }
        let inner = value.dropFirst().dropLast()
        guard quote == "\"" else { return String(inner) }
        var out = ""
        var escaping = false
        for character in inner {
            if escaping {
                if !"\"\\$`".contains(character) { out.append("\\") }
                out.append(character)
                escaping = false
            } else if character == "\\" {
                escaping = true
            } else {
                out.append(character)
            }
        }
        if escaping { out.append("\\") }
        return out
    }
}
