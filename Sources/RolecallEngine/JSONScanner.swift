import CJSONIndex
import RolecallLanguage

/// Why an event is not acceptable JSON, and the byte offset where that was found.
public struct JSONError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong, e.g. "unterminated string".
    public var message: String
    /// Byte offset into the input.
    public var offset: Int
    /// A number the grammar allows that a double cannot hold (`1e999`): the reader, which knows the path being
    /// read, says which (``JSONScanner/outOfRange(_:path:)``).
    var isNumberOutOfRange = false

    /// Creates an error.
    public init(_ message: String, at offset: Int) {
        self.message = message
        self.offset = offset
    }

    public var description: String { "\(message) at byte \(offset)" }

    /// Two errors are equal when they say the same thing at the same place.
    public static func == (lhs: JSONError, rhs: JSONError) -> Bool {
        lhs.message == rhs.message && lhs.offset == rhs.offset
    }
}

/// A validating, byte-level JSON scanner over a borrowed buffer.
///
/// It never builds a document: callers ask it to skip a value (validating it) or to read a scalar. Strings
/// are scanned eight bytes at a time and checked for UTF-8 validity, escapes and control characters; nesting
/// deeper than `maxDepth` is an error, so hostile input cannot exhaust the stack.
struct JSONScanner {
    let base: UnsafePointer<UInt8>
    let count: Int
    var position: Int
    let maxDepth: Int
    /// One bit per byte of the whole buffer from `base` (see `rolecall_json_specials`): the bytes a string scan
    /// must look at. With it a string's end is found by a bit scan; without it, eight bytes at a time.
    let specials: UnsafePointer<UInt64>?
    /// The word of ``specials`` the string scan is in, and its special bytes not yet passed: the scan takes a
    /// string's quotes off `cursorBits` as it passes them, so where a string ends comes from the bits, not from a
    /// load at the position just computed, and one string's scan does not wait on the one before. Checked
    /// against ``position`` before each use and placed again when they disagree (after anything but a plain
    /// string moved the position), so nothing else has to keep it up to date.
    var cursorWord = 0
    var cursorBits: UInt64 = 0

    init(
        base: UnsafePointer<UInt8>, count: Int, position: Int = 0, maxDepth: Int,
        specials: UnsafePointer<UInt64>? = nil
    ) {
        self.base = base
        self.count = count
        self.position = position
        self.maxDepth = maxDepth
        self.specials = specials
    }

    static let quote = UInt8(ascii: "\"")
    static let backslash = UInt8(ascii: "\\")

    @inline(__always)
    mutating func skipWhitespace() {
        // Compact JSON has none: one comparison in the common case.
        while position < count, base[position] <= 0x20 {
            let byte = base[position]
            guard byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 else { return }
            position += 1
        }
    }

    /// The current byte after whitespace, or an error at the end of input.
    @inline(__always)
    mutating func peekToken(_ expecting: StaticString) throws(JSONError) -> UInt8 {
        if position < count, base[position] > 0x20 { return base[position] }
        return try peekTokenAfterWhitespace(expecting)
    }

    /// ``peekToken(_:)`` when there is whitespace or the input ends: kept out of line, so the common path stays
    /// small where it is inlined.
    @inline(never)
    mutating func peekTokenAfterWhitespace(_ expecting: StaticString) throws(JSONError) -> UInt8 {
        skipWhitespace()
        guard position < count else { throw JSONError("unexpected end of input, expected \(expecting)", at: position) }
        return base[position]
    }

    @inline(never)
    func unexpected(_ expecting: StaticString) -> JSONError {
        let byte = base[position]
        let shown =
            byte >= 0x20 && byte < 0x7F ? "`\(Character(Unicode.Scalar(byte)))`" : "byte 0x\(String(byte, radix: 16))"
        return JSONError("unexpected \(shown), expected \(expecting)", at: position)
    }

    /// Scans a string whose opening quote is at `position`; returns the contents' range and whether it has escapes.
    ///
    /// The common string (ASCII, no escapes) costs one bit scan of ``specials`` here, inlined; the first
    /// escape, non-ASCII byte or control character hands over to ``scanStringSlowly(from:at:specials:)``.
    @inline(__always)
    mutating func scanString() throws(JSONError) -> (start: Int, end: Int, escaped: Bool) {
        let start = position &+ 1
        guard let specials else { return try scanStringByWords(from: start) }
        // The opening quote must be the next special byte the cursor has; if not, the cursor is placed there.
        if cursorBits == 0 || cursorWord &<< 6 | cursorBits.trailingZeroBitCount != position {
            cursorWord = position &>> 6
            cursorBits = specials[cursorWord] & (~0 &<< UInt64(position & 63))
        }
        cursorBits &= cursorBits &- 1
        while cursorBits == 0 {
            cursorWord &+= 1
            guard cursorWord &<< 6 < count else {
                return try scanStringSlowly(from: start, at: count, specials: specials)
            }
            cursorBits = specials[cursorWord]
        }
        let index = cursorWord &<< 6 | cursorBits.trailingZeroBitCount
        if index < count, base[index] == JSONScanner.quote {
            cursorBits &= cursorBits &- 1
            position = index &+ 1
            return (start, index, false)
        }
        return try scanStringSlowly(from: start, at: index, specials: specials)
    }

    /// The offset of the first special byte at or after `index` (see ``specials``), or `count` or more when
    /// there is none before the end.
    @inline(__always)
    func nextSpecial(from index: Int, _ specials: UnsafePointer<UInt64>) -> Int {
        guard index < count else { return count }
        var word = index &>> 6
        var bits = specials[word] & (~0 &<< UInt64(index & 63))
        while bits == 0 {
            word &+= 1
            guard word &<< 6 < count else { return count }
            bits = specials[word]
        }
        return word &<< 6 | bits.trailingZeroBitCount
    }

    /// The rest of ``scanString()`` from the special byte at `first`: escapes, non-ASCII characters, errors.
    @inline(never)
    mutating func scanStringSlowly(from start: Int, at first: Int, specials: UnsafePointer<UInt64>) throws(JSONError)
        -> (start: Int, end: Int, escaped: Bool)
    {
        var index = first
        var escaped = false
        while true {
            if try stringStep(&index, opened: start - 1, escaped: &escaped) {
                position = index &+ 1
                return (start, index, escaped)
            }
            index = nextSpecial(from: index, specials)
        }
    }

    /// One step of a string scan at `index`, inside the string whose quote is at `opened`: true at the closing
    /// quote; past an escape (setting `escaped`) or a character otherwise. Throws at a control character, a bad
    /// escape, invalid UTF-8 or the end of the input.
    @inline(__always)
    func stringStep(_ index: inout Int, opened: Int, escaped: inout Bool) throws(JSONError) -> Bool {
        guard index < count else { throw JSONError("unterminated string", at: opened) }
        let byte = base[index]
        if byte == JSONScanner.quote { return true }
        if byte == JSONScanner.backslash {
            escaped = true
            index = try validateEscape(at: index)
        } else if byte < 0x20 {
            throw JSONScanner.controlCharacter(byte, at: index)
        } else if byte >= 0x80 {
            index &+= try utf8Length(at: index)
        } else {
            index &+= 1
        }
        return false
    }

    /// ``scanString()`` without the bitmap: eight bytes at a time.
    @inline(never)
    mutating func scanStringByWords(from start: Int) throws(JSONError) -> (start: Int, end: Int, escaped: Bool) {
        var index = start
        var escaped = false
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        while true {
            // Eight bytes at a time (SWAR) until one needs a closer look: a quote, a backslash, a control
            // character or a non-ASCII byte. The lowest flagged byte is exact (borrows only run upwards from a
            // real match), so the scan jumps straight to it.
            while index &+ 8 <= count {
                let word = UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self)
                let quotes = word ^ (ones &* 0x22)
                let slashes = word ^ (ones &* 0x5C)
                let special =
                    (((quotes &- ones) & ~quotes) | ((slashes &- ones) & ~slashes) | ((word &- ones &* 0x20) & ~word)
                        | word) & highs
                if special != 0 {
                    index &+= special.trailingZeroBitCount &>> 3
                    break
                }
                index &+= 8
            }
            if try stringStep(&index, opened: start - 1, escaped: &escaped) {
                position = index &+ 1
                return (start, index, escaped)
            }
        }
    }

    @inline(never)
    static func controlCharacter(_ byte: UInt8, at index: Int) -> JSONError {
        JSONError("control character 0x\(String(byte, radix: 16)) in string (escape it)", at: index)
    }

    /// Validates the escape at `index` (the backslash) and returns the offset after it.
    func validateEscape(at index: Int) throws(JSONError) -> Int {
        guard index + 1 < count else { throw JSONError("unterminated string", at: index) }
        switch base[index + 1] {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
            UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
            return index + 2
        case UInt8(ascii: "u"):
            guard index + 6 <= count, (2..<6).allSatisfy({ JSONScanner.hex(base[index + $0]) != nil }) else {
                throw JSONError("invalid \\u escape in string", at: index)
            }
            return index + 6
        default:
            throw JSONError("invalid escape in string", at: index)
        }
    }

    static func hex(_ byte: UInt8) -> UInt32? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt32(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): UInt32(byte - UInt8(ascii: "A") + 10)
        default: nil
        }
    }

    /// The length of the valid UTF-8 sequence at `index` (lead byte >= 0x80), or an error. Kept out of line: it
    /// is the string scanner's cold path, taken only for non-ASCII bytes.
    @inline(never)
    func utf8Length(at index: Int) throws(JSONError) -> Int {
        guard let length = wellFormedUTF8Length(base, count: count, at: index) else {
            throw JSONError("invalid UTF-8", at: index)
        }
        return length
    }

    /// Scans a number at `position` per RFC 8259 and returns its value (0 when `parse` is false: skipping).
    mutating func scanNumber(parse: Bool = true) throws(JSONError) -> Double {
        let start = position
        var index = position
        var negative = false
        if base[index] == UInt8(ascii: "-") {
            negative = true
            index += 1
        }
        func isDigit(_ i: Int) -> Bool { i < count && base[i] >= UInt8(ascii: "0") && base[i] <= UInt8(ascii: "9") }
        guard isDigit(index) else { throw JSONError("invalid number", at: start) }
        var integer: UInt64 = 0
        var digits = 0
        if base[index] == UInt8(ascii: "0") {
            index += 1
            digits = 1
        } else {
            while isDigit(index) {
                integer = integer &* 10 &+ UInt64(base[index] - UInt8(ascii: "0"))
                digits += 1
                index += 1
            }
        }
        var simple = digits <= 15
        if index < count, base[index] == UInt8(ascii: ".") {
            index += 1
            guard isDigit(index) else { throw JSONError("invalid number: digits expected after `.`", at: index) }
            while isDigit(index) { index += 1 }
            simple = false
        }
        if index < count, base[index] == UInt8(ascii: "e") || base[index] == UInt8(ascii: "E") {
            index += 1
            if index < count, base[index] == UInt8(ascii: "+") || base[index] == UInt8(ascii: "-") { index += 1 }
            guard isDigit(index) else { throw JSONError("invalid number: digits expected in exponent", at: index) }
            while isDigit(index) { index += 1 }
            simple = false
        }
        position = index
        if !parse { return 0 }
        if simple {
            let value = Double(integer)
            return negative ? -value : value
        }
        let text = String(decoding: UnsafeBufferPointer(start: base + start, count: index - start), as: UTF8.self)
        guard let value = Double(text), value.isFinite else {
            var error = JSONError("number out of range", at: start)
            error.isNumberOutOfRange = true
            throw error
        }
        return value
    }

    /// `error` naming the path of the number it is about, when it is a number out of range for a double; any
    /// other error as it is.
    static func outOfRange(_ error: JSONError, path: () -> String) -> JSONError {
        guard error.isNumberOutOfRange else { return error }
        return JSONError("`\(path())` holds a number out of range for a double, which I-JSON forbids", at: error.offset)
    }

    /// Checks that `literal` (`true`, `false`, `null`) is at `position` and moves past it.
    @inline(__always)
    mutating func scanLiteral(_ literal: StaticString) throws(JSONError) {
        let length = literal.utf8CodeUnitCount
        guard position + length <= count else { throw JSONError("invalid literal", at: position) }
        let expected = UnsafeRawPointer(literal.utf8Start)
        // Four bytes at once (and the `e` of `false`), not a loop.
        let head = UnsafeRawPointer(base + position).loadUnaligned(as: UInt32.self)
        guard head == expected.loadUnaligned(as: UInt32.self),
            length == 4 || base[position + 4] == expected.load(fromByteOffset: 4, as: UInt8.self)
        else { throw JSONError("invalid literal", at: position) }
        position += length
    }

    /// Scans `true`, `false` or `null` (chosen by the byte at `position`): the boolean, or nil for `null`.
    mutating func scanKeywordLiteral() throws(JSONError) -> Bool? {
        switch base[position] {
        case UInt8(ascii: "t"):
            try scanLiteral("true")
            return true
        case UInt8(ascii: "f"):
            try scanLiteral("false")
            return false
        default:
            try scanLiteral("null")
            return nil
        }
    }

    /// Skips one value at `position` (after whitespace), validating it.
    ///
    /// Containers are walked iteratively, not recursively: one loop with a bit stack of open containers (1 for
    /// an object, 0 for a list) handles 64 levels; deeper subtrees continue in a nested call, bounded by
    /// `maxDepth`.
    mutating func skipValue(depth: Int) throws(JSONError) {
        if let specials {
            // The C walker (CJSONIndex) checks the same grammar in a tighter loop; when it finds the value
            // invalid, the walk below runs from the same place to say where and why.
            let end = rolecall_json_skip(base, count, position, specials, maxDepth - depth)
            if end >= 0 {
                position = end
                return
            }
        }
        try walkValue(depth: depth)
    }

    /// ``skipValue(depth:)`` in Swift: the reference walk, and the one that reports errors.
    mutating func walkValue(depth: Int) throws(JSONError) {
        var byte = try peekToken("a value")
        guard byte == UInt8(ascii: "{") || byte == UInt8(ascii: "[") else {
            try skipScalar(byte)
            return
        }
        var open: UInt64 = 0  // bit i: container i levels below the top is an object
        var level = 0
        while true {
            // `byte` starts a value at `position`.
            if byte == UInt8(ascii: "{") || byte == UInt8(ascii: "[") {
                if level == 63 {
                    try skipNested(depth: depth &+ level)
                } else {
                    guard depth &+ level < maxDepth else {
                        throw JSONError("nesting deeper than \(maxDepth) levels", at: position)
                    }
                    let isObject = byte == UInt8(ascii: "{")
                    open = open &<< 1 | (isObject ? 1 : 0)
                    level &+= 1
                    position &+= 1
                    let next = try peekToken(isObject ? "`}` or a key" : "`]` or a value")
                    if next == (isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")) {
                        position &+= 1
                        open &>>= 1
                        level &-= 1
                    } else {
                        if isObject { _ = try skipKeyAndColon() }
                        byte = try peekToken("a value")
                        continue
                    }
                }
            } else {
                try skipScalar(byte)
            }
            // A value just ended inside the container on top: close containers until a `,` continues one.
            while true {
                if level == 0 { return }
                let isObject = open & 1 == 1
                let close = isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")
                let next = try peekToken(isObject ? "`,` or `}`" : "`,` or `]`")
                if next == UInt8(ascii: ",") {
                    position &+= 1
                    if isObject { _ = try skipKeyAndColon() }
                    byte = try peekToken("a value")
                    break
                }
                guard next == close else { throw unexpected(isObject ? "`,` or `}`" : "`,` or `]`") }
                position &+= 1
                open &>>= 1
                level &-= 1
            }
        }
    }

    /// Skips one value like ``skipValue(depth:)``, with the common case, a string, inlined at the caller.
    @inline(__always)
    mutating func skipMember(depth: Int) throws(JSONError) {
        if position < count, base[position] == JSONScanner.quote {
            _ = try scanString()
        } else {
            try skipValue(depth: depth)
        }
    }

    /// Skips a container more than 63 levels below where ``skipValue(depth:)`` started.
    mutating func skipNested(depth: Int) throws(JSONError) {
        try skipValue(depth: depth)
    }

    /// Skips a string, number or literal starting with `byte`.
    @inline(__always)
    mutating func skipScalar(_ byte: UInt8) throws(JSONError) {
        if byte == JSONScanner.quote {
            _ = try scanString()
        } else {
            try skipNumberOrLiteral(byte)
        }
    }

    /// Skips a number or literal starting with `byte` (out of line: strings are the common scalar).
    @inline(never)
    mutating func skipNumberOrLiteral(_ byte: UInt8) throws(JSONError) {
        switch byte {
        case UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"): _ = try scanKeywordLiteral()
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): _ = try scanNumber(parse: false)
        default: throw unexpected("a value")
        }
    }

    /// Reads an object key and the colon after it; returns the key's range.
    @inline(__always)
    mutating func skipKeyAndColon() throws(JSONError) -> (start: Int, end: Int, escaped: Bool) {
        guard try peekToken("a key") == JSONScanner.quote else { throw unexpected("a key in quotes") }
        let key = try scanString()
        guard try peekToken("`:`") == UInt8(ascii: ":") else { throw unexpected("`:`") }
        position += 1
        return key
    }

    /// After a member or element: consumes `,` (returns false) or the closing bracket (returns true).
    @inline(__always)
    mutating func endOfMember(close: UInt8) throws(JSONError) -> Bool {
        let expecting: StaticString = close == UInt8(ascii: "}") ? "`,` or `}`" : "`,` or `]`"
        let byte = try peekToken(expecting)
        position += 1
        if byte == UInt8(ascii: ",") { return false }
        if byte == close { return true }
        position -= 1
        throw unexpected(expecting)
    }

    /// The value of the four hex digits at `index` (already validated by ``validateEscape(at:)``).
    func hexValue(at index: Int) -> UInt32 {
        (0..<4).reduce(0) { $0 << 4 | (JSONScanner.hex(base[index + $1]) ?? 0) }
    }

    /// The offset of the first `\u` escape in the string contents `start..<end` that is half of a surrogate
    /// pair without its other half, or nil when there is none.
    func loneSurrogate(start: Int, end: Int) -> Int? {
        var index = start
        while index < end {
            guard base[index] == JSONScanner.backslash else {
                index += 1
                continue
            }
            guard base[index + 1] == UInt8(ascii: "u") else {
                index += 2
                continue
            }
            let value = hexValue(at: index + 2)
            if (0xD800...0xDBFF).contains(value) {
                guard index + 12 <= end, base[index + 6] == JSONScanner.backslash,
                    base[index + 7] == UInt8(ascii: "u"), (0xDC00...0xDFFF).contains(hexValue(at: index + 8))
                else { return index }
                index += 12
            } else if (0xDC00...0xDFFF).contains(value) {
                return index
            } else {
                index += 6
            }
        }
        return nil
    }

    /// Decodes the string contents `start..<end` like ``decodeString(start:end:)``, but refuses a lone surrogate:
    /// I-JSON (RFC 7493) forbids them, and a value the rules or the planner read must not silently become U+FFFD.
    /// `path` names the value in the error.
    func decodeStringStrictly(start: Int, end: Int, path: () -> String) throws(JSONError) -> String {
        if let offset = loneSurrogate(start: start, end: end) {
            let escape = String(decoding: UnsafeBufferPointer(start: base + offset, count: 6), as: UTF8.self)
            throw JSONError("`\(path())` holds a lone surrogate `\(escape)`, which I-JSON forbids", at: offset)
        }
        return decodeString(start: start, end: end)
    }

    /// Skips one value like ``skipValue(depth:)``, also checking what I-JSON (RFC 7493) requires of a value the
    /// rules or the planner read as a whole: no key twice in one object, numbers within the range of a double, no
    /// lone surrogates. `path` gives the value's path in the event, for errors only: it is called only to build
    /// a message, so the common case builds no path at all.
    ///
    /// Recursive, bounded by `maxDepth` like the rest of the reader.
    mutating func skipValueStrictly(depth: Int, path: () -> [PathSegment]) throws(JSONError) {
        let byte = try peekToken("a value")
        switch byte {
        case UInt8(ascii: "{"):
            guard depth < maxDepth else { throw JSONError("nesting deeper than \(maxDepth) levels", at: position) }
            position += 1
            if try peekToken("`}` or a key") == UInt8(ascii: "}") {
                position += 1
                return
            }
            var keys = Set<[UInt8]>()
            repeat {
                let key = try skipKeyAndColon()
                let name =
                    key.escaped
                    ? Array(
                        try decodeStringStrictly(start: key.start, end: key.end) { path().dotted + " (a key)" }.utf8)
                    : Array(UnsafeBufferPointer(start: base + key.start, count: key.end - key.start))
                func member() -> [PathSegment] {
                    path() + [.key(String(decoding: name, as: UTF8.self), span: Span(0, 0))]
                }
                guard keys.insert(name).inserted else {
                    throw JSONError("the key `\(member().dotted)` appears twice in the event", at: key.start - 1)
                }
                try skipValueStrictly(depth: depth + 1, path: member)
            } while try !endOfMember(close: UInt8(ascii: "}"))
        case UInt8(ascii: "["):
            guard depth < maxDepth else { throw JSONError("nesting deeper than \(maxDepth) levels", at: position) }
            position += 1
            if try peekToken("`]` or a value") == UInt8(ascii: "]") {
                position += 1
                return
            }
            var index = 0
            repeat {
                let element = index
                func elementPath() -> [PathSegment] { path() + [.index(element, span: Span(0, 0))] }
                if try peekToken("a value") == JSONScanner.quote {
                    // Lists of strings (roles, groups) are the common case: checked here, without a call.
                    let string = try scanString()
                    if string.escaped, loneSurrogate(start: string.start, end: string.end) != nil {
                        _ = try decodeStringStrictly(start: string.start, end: string.end) { elementPath().dotted }
                    }
                } else {
                    try skipValueStrictly(depth: depth + 1, path: elementPath)
                }
                index += 1
            } while try !endOfMember(close: UInt8(ascii: "]"))
        case JSONScanner.quote:
            let string = try scanString()
            if string.escaped, loneSurrogate(start: string.start, end: string.end) != nil {
                _ = try decodeStringStrictly(start: string.start, end: string.end) { path().dotted }
            }
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            do { _ = try scanNumber() } catch { throw JSONScanner.outOfRange(error) { path().dotted } }
        default:
            try skipScalar(byte)
        }
    }

    /// The common list read as a whole, a list of strings without escapes (roles, groups), checked without the
    /// closures of ``skipValueStrictly(depth:path:)``: true past its `]`. False, at an element that is not such a
    /// string; the caller then checks the list from its start with ``skipValueStrictly(depth:path:)``, which meets
    /// the same strings in the same order (so any error is found here exactly as it would be there). The caller
    /// checks the nesting limit first, as that function does.
    mutating func skipPlainStringList() throws(JSONError) -> Bool {
        position += 1
        if try peekToken("`]` or a value") == UInt8(ascii: "]") {
            position += 1
            return true
        }
        repeat {
            guard try peekToken("a value") == JSONScanner.quote else { return false }
            guard try !scanString().escaped else { return false }
        } while try !endOfMember(close: UInt8(ascii: "]"))
        return true
    }

    /// Decodes the string contents `start..<end`, resolving escapes (lone surrogates become U+FFFD: this is for
    /// strings already checked, or where no meaning depends on them; see ``decodeStringStrictly(start:end:path:)``).
    func decodeString(start: Int, end: Int) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(end - start)
        var index = start
        func appendScalar(_ value: UInt32) {
            let scalar = Unicode.Scalar(value) ?? "\u{FFFD}"
            bytes.append(contentsOf: String(Character(scalar)).utf8)
        }
        func hex4(_ at: Int) -> UInt32 {
            (0..<4).reduce(0) { $0 << 4 | (JSONScanner.hex(base[at + $1]) ?? 0) }
        }
        while index < end {
            let byte = base[index]
            guard byte == JSONScanner.backslash else {
                bytes.append(byte)
                index += 1
                continue
            }
            let kind = base[index + 1]
            index += 2
            switch kind {
            case UInt8(ascii: "b"): bytes.append(0x08)
            case UInt8(ascii: "f"): bytes.append(0x0C)
            case UInt8(ascii: "n"): bytes.append(0x0A)
            case UInt8(ascii: "r"): bytes.append(0x0D)
            case UInt8(ascii: "t"): bytes.append(0x09)
            case UInt8(ascii: "u"):
                var value = hex4(index)
                index += 4
                if (0xD800...0xDBFF).contains(value), index + 6 <= end, base[index] == JSONScanner.backslash,
                    base[index + 1] == UInt8(ascii: "u")
                {
                    let low = hex4(index + 2)
                    if (0xDC00...0xDFFF).contains(low) {
                        value = 0x10000 + ((value - 0xD800) << 10) + (low - 0xDC00)
                        index += 6
                    }
                }
                appendScalar(value)
            default: bytes.append(kind)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
