/// Values from events and servers made safe to print in a human report or a log line.
///
/// A user id or a server's message can hold a newline, a carriage return, an escape sequence or a bidi override;
/// printed raw it could start a line that looks like the report's own (`done     assign admin to ...`). These
/// functions keep every such value on its line and visibly apart.
public enum HumanText {
    /// `text` as it is when it is one plain word (printable, no spaces, quotes or backslashes), else quoted with
    /// JSON-style escapes. `auth0|123` stays `auth0|123`; `a\nb` becomes `"a\nb"`.
    public static func word(_ text: String) -> String {
        let plain =
            !text.isEmpty
            && text.unicodeScalars.allSatisfy { scalar in
                scalar.isASCII
                    ? scalar.value > 0x20 && scalar.value < 0x7F && scalar != "\"" && scalar != "\\"
                    : isVisible(scalar) && !scalar.properties.isWhitespace
            }
        return plain ? text : quoted(text)
    }

    /// `text` in double quotes with `"`, `\` and every invisible or line-breaking character escaped.
    public static func quoted(_ text: String) -> String { quoted(text, escaping: \.isHiddenInText) }

    /// `text` in double quotes with `"`, `\` and every scalar `escaping` picks written as `spelling` writes it
    /// (by default its ``escape(_:)``): the rule language's string literal, for any choice of what to spell out.
    public static func quoted(
        _ text: String, escaping: (Unicode.Scalar) -> Bool, as spelling: (Unicode.Scalar) -> String = escape
    ) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where escaping(scalar): out += spelling(scalar)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// `text` on one line: newlines, other control characters and invisible formatting characters escaped
    /// (`\n`, `\u{1b}`), everything else as it is. For messages at the end of a line.
    public static func line(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars { out += escaped(scalar) }
        return out
    }

    static func escaped(_ scalar: Unicode.Scalar) -> String { scalar.isHiddenInText ? escape(scalar) : String(scalar) }

    /// The escape for `scalar` in a quoted string, the rule language's and these functions' alike: `\n`, `\t`
    /// and `\r` for the three that have a short one, `\u{…}` for any other.
    public static func escape(_ scalar: Unicode.Scalar) -> String {
        switch scalar {
        case "\n": "\\n"
        case "\t": "\\t"
        case "\r": "\\r"
        default: "\\u{" + String(scalar.value, radix: 16) + "}"
        }
    }

    static func isVisible(_ scalar: Unicode.Scalar) -> Bool { !scalar.isHiddenInText }
}

extension Unicode.Scalar {
    /// Whether the scalar shows as nothing, or as something it is not, in a terminal or an editor: controls, format
    /// characters (bidi controls, zero-width spaces and joiners, the byte order mark, soft hyphens, tags), line and
    /// paragraph separators, spaces other than U+0020, private-use and unassigned code points, and noncharacters.
    /// Reports, messages, traces and the formatter write these as escapes (`\u{202e}`) rather than as themselves.
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
