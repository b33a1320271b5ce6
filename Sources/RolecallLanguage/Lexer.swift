import RolecallRegex

/// Turns rule-file bytes into tokens, recording every lexical error and carrying on.
///
/// A value type over the file's bytes; tokens hold byte spans. Errors never stop the scan: an unterminated
/// string ends at the line break, an invalid byte is skipped, a lone `=` is read as `==` after reporting it.
public struct Lexer {
    let file: SourceFile
    let bytes: [UInt8]
    var offset = 0
    /// Diagnostics found so far.
    public private(set) var diagnostics: [Diagnostic] = []
    /// The comments skipped so far (`#` to the end of the line), for the formatter.
    public private(set) var comments: [Span] = []

    /// A lexer at the start of `file`.
    public init(file: SourceFile) {
        self.file = file
        self.bytes = file.bytes
        // A UTF-8 byte order mark some editors write is not text, as for swiftc and rustc.
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { offset = 3 }
    }

    /// Every token in the file, ending with `.endOfFile`.
    public static func tokenize(_ file: SourceFile) -> (tokens: [Token], diagnostics: [Diagnostic]) {
        var lexer = Lexer(file: file)
        var tokens: [Token] = []
        // Rules average four or five bytes a token: room for that many up front spares a large file the copies
        // (and fresh pages) of growing the array by doubling.
        tokens.reserveCapacity(file.bytes.count / 4 + 16)
        while true {
            let token = lexer.next()
            tokens.append(token)
            if token.kind == .endOfFile { break }
        }
        return (tokens, lexer.diagnostics)
    }

    mutating func report(_ diagnostic: Diagnostic) { diagnostics.append(diagnostic) }

    func peek(_ ahead: Int = 0) -> UInt8? {
        offset + ahead < bytes.count ? bytes[offset + ahead] : nil
    }

    /// The next token. A run of characters that cannot start a token is reported once and skipped (a loop, not
    /// recursion, so 200,000 of them cost one diagnostic and no stack).
    public mutating func next() -> Token {
        while true {
            skipTrivia()
            guard let byte = peek() else { return Token(.endOfFile, Span(bytes.count, bytes.count)) }
            if let token = token(startingWith: byte) { return token }
            skipBadRun()
        }
    }

    /// The token that starts with `byte` at the current offset, or nil when no token starts with it.
    mutating func token(startingWith byte: UInt8) -> Token? {
        let start = offset
        func single(_ kind: Token.Kind) -> Token {
            offset += 1
            return Token(kind, Span(start, offset))
        }
        switch byte {
        case UInt8(ascii: "("): return single(.leftParen)
        case UInt8(ascii: ")"): return single(.rightParen)
        case UInt8(ascii: "["): return single(.leftBracket)
        case UInt8(ascii: "]"): return single(.rightBracket)
        case UInt8(ascii: ","): return single(.comma)
        case UInt8(ascii: "."): return single(.dot)
        case UInt8(ascii: "-"): return single(.minus)
        case UInt8(ascii: "\""): return string()
        case UInt8(ascii: "/"): return regex()
        case UInt8(ascii: "="):
            if peek(1) == UInt8(ascii: "=") {
                offset += 2
                return Token(.equal, Span(start, offset))
            }
            return single(.bind)
        case UInt8(ascii: "!"):
            if peek(1) == UInt8(ascii: "=") {
                offset += 2
                return Token(.notEqual, Span(start, offset))
            }
            offset += 1
            report(.bangNotOperator(file, Span(start, offset)))
            return Token(.keyword(.not), Span(start, offset))
        case UInt8(ascii: "&"), UInt8(ascii: "|"):
            // `&&` and `||` from other languages: reported once and read as `and` / `or`, so the rest of the
            // condition still parses and gives no cascade of errors.
            offset += peek(1) == byte ? 2 : 1
            let isAnd = byte == UInt8(ascii: "&")
            report(.symbolicLogicalOperator(isAnd ? "and" : "or", file, Span(start, offset)))
            return Token(.keyword(isAnd ? .and : .or), Span(start, offset), text: isAnd ? "and" : "or")
        case UInt8(ascii: "'"): return string(quote: byte)
        case UInt8(ascii: "<"), UInt8(ascii: ">"):
            let isLess = byte == UInt8(ascii: "<")
            if peek(1) == UInt8(ascii: "=") {
                offset += 2
                return Token(isLess ? .lessEqual : .greaterEqual, Span(start, offset))
            }
            offset += 1
            return Token(isLess ? .less : .greater, Span(start, offset))
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return number()
        case _ where Lexer.isIdentifierStart(byte): return identifier()
        default: return nil
        }
    }

    /// Whether a token can start with `byte` (the cases of ``token(startingWith:)``, plus trivia).
    static func startsTokenOrTrivia(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: ","),
            UInt8(ascii: "."), UInt8(ascii: "-"), UInt8(ascii: "\""), UInt8(ascii: "/"), UInt8(ascii: "="),
            UInt8(ascii: "!"), UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "&"), UInt8(ascii: "|"), UInt8(ascii: "'"),
            UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "#"):
            true
        default: isIdentifierStart(byte)
        }
    }

    /// Skips a run of bytes that start no token and reports it once: invalid UTF-8, or unexpected characters.
    mutating func skipBadRun() {
        let start = offset
        let invalid = peek()! >= 0x80 && Lexer.utf8SequenceLength(bytes, at: offset) == nil
        while let byte = peek(), !Lexer.startsTokenOrTrivia(byte) {
            let length = byte < 0x80 ? 1 : Lexer.utf8SequenceLength(bytes, at: offset)
            guard (length == nil) == invalid else { break }
            offset += length ?? 1
        }
        report(invalid ? .invalidUTF8(file, Span(start, offset)) : .unexpectedCharacter(file, Span(start, offset)))
    }

    static func isIdentifierStart(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
            || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
            || byte == UInt8(ascii: "_")
    }

    static func isIdentifierContinue(_ byte: UInt8) -> Bool {
        isIdentifierStart(byte) || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
    }

    /// The length of the valid UTF-8 sequence at `index`, or nil when it is not valid UTF-8.
    static func utf8SequenceLength(_ bytes: [UInt8], at index: Int) -> Int? {
        bytes.withUnsafeBufferPointer { wellFormedUTF8Length($0.baseAddress!, count: $0.count, at: index) }
    }

    /// The length of the line end at `index` (`\n`, `\r`, U+2028, U+2029, U+0085), or 0.
    func lineEndLength(at index: Int) -> Int {
        guard index < bytes.count else { return 0 }
        switch bytes[index] {
        case UInt8(ascii: "\n"): return 1
        case UInt8(ascii: "\r"): return index + 1 < bytes.count && bytes[index + 1] == UInt8(ascii: "\n") ? 2 : 1
        case 0xC2 where index + 1 < bytes.count && bytes[index + 1] == 0x85: return 2
        case 0xE2 where index + 2 < bytes.count && bytes[index + 1] == 0x80 && (bytes[index + 2] & 0xFE) == 0xA8:
            return 3
        default: return 0
        }
    }

    /// Skips one valid UTF-8 character at the offset, reporting a bidirectional control character (the "Trojan
    /// source" trick: text that reads differently than it runs), or a run of invalid bytes reported once.
    mutating func skipNonASCII(in place: String) {
        let start = offset
        if let length = Lexer.utf8SequenceLength(bytes, at: offset) {
            offset += length
            if length == 3, bytes[start] == 0xE2,
                (bytes[start + 1] == 0x80 && (0xAA...0xAE).contains(bytes[start + 2]))
                    || (bytes[start + 1] == 0x81 && (0xA6...0xA9).contains(bytes[start + 2]))
            {
                report(.bidiControl(in: place, file, Span(start, offset)))
            } else if place == "a string" || place == "a regex", let scalar = Lexer.hiddenScalar(bytes[start..<offset])
            {
                report(.hiddenCharacter(scalar, in: place, file, Span(start, offset)))
            }
            return
        }
        offset += 1
        while let next = peek(), next >= 0x80, Lexer.utf8SequenceLength(bytes, at: offset) == nil { offset += 1 }
        report(.invalidUTF8(file, Span(start, offset)))
    }

    /// The scalar of one valid UTF-8 sequence when a string may not hold it as itself (``Unicode/Scalar/isHiddenInText``,
    /// but for private-use and unassigned code points, which print as a visible box or a character newer than
    /// this build, not as nothing).
    static func hiddenScalar(_ sequence: ArraySlice<UInt8>) -> Unicode.Scalar? {
        guard let scalar = String(decoding: sequence, as: UTF8.self).unicodeScalars.first, scalar.isHiddenInText
        else { return nil }
        switch scalar.properties.generalCategory {
        case .privateUse, .unassigned: return nil
        default: return scalar
        }
    }

    mutating func skipTrivia() {
        while let byte = peek() {
            switch byte {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"):
                offset += 1
            case UInt8(ascii: "#"):
                // A comment ends at any line end an editor shows as one (a lone `\r`, U+2028, U+2029, U+0085 too),
                // so no rule can hide in what looks like the line after a comment.
                let start = offset
                while peek() != nil, lineEndLength(at: offset) == 0 {
                    if peek()! >= 0x80 {
                        skipNonASCII(in: "a comment")
                    } else {
                        offset += 1
                    }
                }
                comments.append(Span(start, offset))
                offset += lineEndLength(at: offset)
            default:
                return
            }
        }
    }

    mutating func identifier() -> Token {
        let start = offset
        while let byte = peek(), Lexer.isIdentifierContinue(byte) { offset += 1 }
        let text = String(decoding: bytes[start..<offset], as: UTF8.self)
        if let keyword = Keyword(spelling: bytes[start..<offset]) {
            return Token(.keyword(keyword), Span(start, offset), text: text)
        }
        return Token(.identifier, Span(start, offset), text: text)
    }

    mutating func number() -> Token {
        let start = offset
        func digits() { while let byte = peek(), byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") { offset += 1 } }
        digits()
        if peek() == UInt8(ascii: "."), let after = peek(1), after >= UInt8(ascii: "0"), after <= UInt8(ascii: "9") {
            offset += 1
            digits()
        }
        if let e = peek(), e == UInt8(ascii: "e") || e == UInt8(ascii: "E") {
            var ahead = 1
            if let sign = peek(1), sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") { ahead = 2 }
            if let digit = peek(ahead), digit >= UInt8(ascii: "0"), digit <= UInt8(ascii: "9") {
                offset += ahead
                digits()
            }
        }
        let text = String(decoding: bytes[start..<offset], as: UTF8.self)
        var value = Double(text) ?? 0
        if let byte = peek(), Lexer.isIdentifierStart(byte) {
            // `1st` or `10days`: one bad token, not a number followed by a field name.
            while let next = peek(), Lexer.isIdentifierContinue(next) { offset += 1 }
            report(.invalidNumber(file, Span(start, offset)))
            value = 0
        } else if !value.isFinite {
            report(.numberOutOfRange(file, Span(start, offset)))
            value = 0
        }
        return Token(.number, Span(start, offset), text: text, number: value)
    }

    /// A string literal; an unterminated one ends at the line break so the next line still lexes. A string in
    /// single quotes (`'admin'`) is reported once, with its double-quoted form, and read as that string.
    mutating func string(quote: UInt8 = UInt8(ascii: "\"")) -> Token {
        let start = offset
        if quote == UInt8(ascii: "\""), let end = plainStringEnd(from: start + 1) {
            // Nearly every string: its contents are its bytes.
            offset = end + 1
            return Token(
                .string, Span(start, offset), text: String(decoding: bytes[(start + 1)..<end], as: UTF8.self),
                contentStart: start + 1)
        }
        offset += 1
        var value: [UInt8] = []
        var terminated = false
        while true {
            guard let byte = peek(), byte != UInt8(ascii: "\n") else {
                report(.unterminatedString(file, Span(start, offset)))
                break
            }
            if byte == quote {
                offset += 1
                terminated = true
                break
            }
            if quote == UInt8(ascii: "'"), byte == UInt8(ascii: "\\"), peek(1) == quote {
                value.append(quote)
                offset += 2
                continue
            }
            if byte == UInt8(ascii: "\\") {
                escape(into: &value)
                continue
            }
            if byte >= 0x80 {
                let from = offset
                skipNonASCII(in: "a string")
                value.append(contentsOf: bytes[from..<offset])
                continue
            }
            // A tab stands as itself, as in Swift, Go and Rust; any other control character is an error.
            if (byte < 0x20 && byte != UInt8(ascii: "\t")) || byte == 0x7F {
                report(.hiddenCharacter(Unicode.Scalar(byte), in: "a string", file, Span(offset, offset + 1)))
            }
            value.append(byte)
            offset += 1
        }
        if quote != UInt8(ascii: "\""), terminated {
            report(.singleQuotedString(String(decoding: value, as: UTF8.self), file, Span(start, offset)))
        }
        return Token(
            .string, Span(start, offset), text: String(decoding: value, as: UTF8.self), contentStart: start + 1)
    }

    /// Where the closing `"` is when the string contents from `from` are plain printable ASCII up to it: no
    /// escape, no control character or line break, nothing to validate. Nil otherwise (the general path in ``string(quote:)`` reads it).
    func plainStringEnd(from: Int) -> Int? {
        var end = from
        while end < bytes.count {
            switch bytes[end] {
            case UInt8(ascii: "\""): return end
            case UInt8(ascii: "\t"): end += 1
            case UInt8(ascii: "\\"), 0..<0x20, 0x7F...: return nil
            default: end += 1
            }
        }
        return nil
    }

    /// One escape sequence inside a string: `\" \\ \n \t \r \u{...}`.
    mutating func escape(into value: inout [UInt8]) {
        let start = offset
        offset += 1
        guard let byte = peek(), byte != UInt8(ascii: "\n") else {
            report(.invalidEscape(file, Span(start, offset)))
            return
        }
        offset += 1
        switch byte {
        case UInt8(ascii: "\""): value.append(byte)
        case UInt8(ascii: "\\"): value.append(byte)
        case UInt8(ascii: "n"): value.append(UInt8(ascii: "\n"))
        case UInt8(ascii: "t"): value.append(UInt8(ascii: "\t"))
        case UInt8(ascii: "r"): value.append(UInt8(ascii: "\r"))
        case UInt8(ascii: "u"):
            guard peek() == UInt8(ascii: "{") else {
                report(.invalidEscape(file, Span(start, offset)))
                return
            }
            offset += 1
            var scalarValue: UInt32 = 0
            var digits = 0
            while let hex = peek(), let digit = Lexer.hexValue(hex) {
                scalarValue = scalarValue &* 16 &+ UInt32(digit)
                digits += 1
                offset += 1
            }
            let closed = peek() == UInt8(ascii: "}")
            if closed { offset += 1 }
            guard closed, (1...6).contains(digits), let scalar = Unicode.Scalar(scalarValue) else {
                report(.invalidUnicodeEscape(file, Span(start, offset)))
                return
            }
            value.append(contentsOf: Array(String(Character(scalar)).utf8))
        default:
            report(.invalidEscape(file, Span(start, offset)))
        }
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// A regex literal `/pattern/flags`. The pattern is kept exactly as written (`\/` included, which PCRE2
    /// reads as a literal slash), so PCRE2's error offsets map straight back onto the source.
    mutating func regex() -> Token {
        let start = offset
        offset += 1
        let patternStart = offset
        var terminated = false
        while let byte = peek(), byte != UInt8(ascii: "\n") {
            if byte == UInt8(ascii: "\\"), let next = peek(1), next != UInt8(ascii: "\n") {
                offset += 2
                continue
            }
            if byte == UInt8(ascii: "/") {
                terminated = true
                break
            }
            if byte >= 0x80 {
                skipNonASCII(in: "a regex")
                continue
            }
            if (byte < 0x20 && byte != UInt8(ascii: "\t")) || byte == 0x7F {
                report(.hiddenCharacter(Unicode.Scalar(byte), in: "a regex", file, Span(offset, offset + 1)))
            }
            offset += 1
        }
        let patternEnd = offset
        if terminated {
            offset += 1
        } else {
            report(.unterminatedRegex(file, Span(start, offset)))
        }
        var flags: CompiledRegex.Flags = []
        while terminated, let byte = peek(), Lexer.isIdentifierContinue(byte) {
            if let flag = CompiledRegex.Flags(letter: byte), !flags.contains(flag) {
                flags.insert(flag)
            } else {
                report(.invalidRegexFlag(file, Span(offset, offset + 1), flag: Character(Unicode.Scalar(byte))))
            }
            offset += 1
        }
        let pattern = String(decoding: bytes[patternStart..<patternEnd], as: UTF8.self)
        return Token(.regex, Span(start, offset), text: pattern, flags: flags, contentStart: patternStart)
    }
}
