import RolecallRegex

/// A reserved word of the rule language.
public enum Keyword: String, Sendable, CaseIterable {
    case rule, when, assign, revoke, stop, `let`
    case and, or, not, `in`, contains
    case startsWith = "starts_with"
    case endsWith = "ends_with"
    case matches
    case `true`, `false`, null

    /// Keywords that begin or continue a rule's structure, used for did-you-mean on misspellings.
    static let structural: [Keyword] = [.rule, .when, .assign, .revoke, .stop, .let]
    /// Keywords that can stand between two operands.
    static let infix: [Keyword] = [.and, .or, .in, .contains, .startsWith, .endsWith, .matches, .not]

    /// The keywords by the first letter of their spelling (`a` is 0), each with its bytes.
    static let byInitial: [[(bytes: [UInt8], keyword: Keyword)]] = {
        var table = [[(bytes: [UInt8], keyword: Keyword)]](repeating: [], count: 26)
        for keyword in allCases {
            let bytes = Array(keyword.rawValue.utf8)
            table[Int(bytes[0] - UInt8(ascii: "a"))].append((bytes, keyword))
        }
        return table
    }()

    /// The keyword spelt `bytes`, if any: what `Keyword(rawValue:)` finds, without making a string and hashing
    /// it (the lexer asks this of every identifier).
    init?<Bytes: Collection<UInt8>>(spelling bytes: Bytes) {
        guard let initial = bytes.first, initial >= UInt8(ascii: "a"), initial <= UInt8(ascii: "z") else {
            return nil
        }
        for candidate in Keyword.byInitial[Int(initial - UInt8(ascii: "a"))]
        where candidate.bytes.count == bytes.count && candidate.bytes.elementsEqual(bytes) {
            self = candidate.keyword
            return
        }
        return nil
    }
}

/// A lexical token: its kind, the bytes it covers, and its decoded value where it has one.
public struct Token: Sendable, Equatable {
    /// What sort of token this is.
    public enum Kind: Sendable, Equatable {
        case identifier
        case keyword(Keyword)
        case string
        case number
        case regex
        case leftParen, rightParen, leftBracket, rightBracket
        case comma, dot, minus
        case equal, notEqual, less, lessEqual, greater, greaterEqual
        /// `=`, in `let NAME = EXPR` (elsewhere the parser reports it as a mistaken `==`).
        case bind
        case endOfFile
    }

    /// The token's kind.
    public var kind: Kind
    /// Where it is in the source.
    public var span: Span
    /// The identifier's name, the string's decoded contents, the regex pattern as written, or the number's text.
    public var text: String
    /// For a number: its value.
    public var number: Double
    /// For a regex: its flags.
    public var flags: CompiledRegex.Flags
    /// Where the pattern of a regex (or the contents of a string) begins, for errors that point inside it.
    public var contentStart: Int

    init(
        _ kind: Kind, _ span: Span, text: String = "", number: Double = 0, flags: CompiledRegex.Flags = [],
        contentStart: Int = 0
    ) {
        self.kind = kind
        self.span = span
        self.text = text
        self.number = number
        self.flags = flags
        self.contentStart = contentStart
    }

    /// How the token reads in a message: `"` quoted for literals, the spelling for punctuation.
    var display: String {
        switch kind {
        case .identifier: "`\(text)`"
        case .keyword(let keyword): "`\(keyword.rawValue)`"
        case .string: "string"
        case .number: "number `\(text)`"
        case .regex: "regex"
        case .endOfFile: "end of file"
        default: "`\(Token.spelling(kind))`"
        }
    }

    /// How a token of `kind` is written (`==`, `(`), or its category's name for tokens with contents.
    public static func spelling(_ kind: Kind) -> String {
        switch kind {
        case .leftParen: "("
        case .rightParen: ")"
        case .leftBracket: "["
        case .rightBracket: "]"
        case .comma: ","
        case .dot: "."
        case .minus: "-"
        case .equal: "=="
        case .bind: "="
        case .notEqual: "!="
        case .less: "<"
        case .lessEqual: "<="
        case .greater: ">"
        case .greaterEqual: ">="
        case .keyword(let keyword): keyword.rawValue
        case .identifier: "identifier"
        case .string: "string"
        case .number: "number"
        case .regex: "regex"
        case .endOfFile: "end of file"
        }
    }
}
