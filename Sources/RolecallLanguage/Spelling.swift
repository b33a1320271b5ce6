extension Unicode.Scalar {
    /// Whether the scalar shows as nothing, or as something it is not, in a terminal or an editor: controls, format
    /// characters (bidi controls, zero-width spaces and joiners, the byte order mark, soft hyphens, tags), line and
    /// paragraph separators, spaces other than U+0020, private-use and unassigned code points, and noncharacters.
    /// Messages and the formatter write these as escapes (`\u{202e}`) rather than as themselves.
    public var isHiddenInText: Bool {
        if isASCII { return value < 0x20 || value == 0x7F }
        switch properties.generalCategory {
        case .control, .format, .lineSeparator, .paragraphSeparator, .spaceSeparator, .privateUse, .unassigned,
            .surrogate:
            return true
        default:
            return properties.isNoncharacterCodePoint
        }
    }
}

/// How messages spell text from rules and events so that what a reader sees is what the bytes are.
public enum Spelling {
    /// `text` with every scalar that ``Unicode/Scalar/isHiddenInText`` written as the rule language's escape
    /// (`\u{200b}`), and everything else as itself.
    public static func visible(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: \.isHiddenInText) else { return text }
        var out = ""
        for scalar in text.unicodeScalars {
            if scalar.isHiddenInText { out += escape(scalar) } else { out.unicodeScalars.append(scalar) }
        }
        return out
    }

    /// `text` as a rule-language string literal with every scalar outside printable ASCII escaped (`"caf\u{e9}"`),
    /// for two spellings that print alike (`caf\u{e9}` and `cafe\u{301}`): the reader sees their bytes apart, and
    /// can paste either into a rule file.
    public static func literal(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where scalar.isASCII && !scalar.isHiddenInText: out.unicodeScalars.append(scalar)
            default: out += escape(scalar)
            }
        }
        return out + "\""
    }

    static func escape(_ scalar: Unicode.Scalar) -> String { "\\u{" + String(scalar.value, radix: 16) + "}" }
}
