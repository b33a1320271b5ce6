import CPCRE2

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A pattern that is a set of literal strings in disguise, matched without PCRE2: `/@acme\.com$/` is a suffix,
/// `/(iPhone|Android)/` two substrings, `/@(gmail|yahoo)\.com$/` a set of suffixes.
///
/// Recognised from the pattern text when the rule set loads, by a deliberately narrow grammar: an optional `^`,
/// literal text with at most one group of literal alternatives (`(...)` or `(?:...)`) in it, an optional `$`.
/// Anything else, or any doubt, leaves the pattern to PCRE2. Matching keeps PCRE2's meaning exactly:
/// - `$` (no `m` flag) matches at the end of the subject or before a newline that ends it;
/// - with `i`, letters match either ASCII case; a pattern whose letters include `k` or `s` (which PCRE2's Unicode
///   case folding also matches with U+212A KELVIN SIGN and U+017F LONG S) or any non-ASCII character is left to
///   PCRE2;
/// - UTF-8 is self-synchronising, so a byte match of valid UTF-8 in valid UTF-8 is a character match.
public struct LiteralPattern: Sendable, Equatable {
    /// The literals, one per alternative (the text around the group joined to each), as UTF-8 bytes.
    public let literals: [[UInt8]]
    /// `^`: the literal must start the subject.
    public let anchoredAtStart: Bool
    /// `$`: the literal must end the subject, or be followed only by a final newline.
    public let anchoredAtEnd: Bool
    /// `i`: ASCII letters match either case (the literals are stored lower-case).
    public let caseless: Bool

    /// The most literals a pattern may expand to; more is left to PCRE2.
    static let maxLiterals = 64

    /// The literal form of `pattern` under `flags`, or nil when it is not one (or not surely one).
    public static func recognise(_ pattern: String, flags: CompiledRegex.Flags) -> LiteralPattern? {
        // `x` gives whitespace and `#` meaning; `$` must mean "end or before a final LF" (PCRE2's default newline).
        guard !flags.contains(.extended), newlineIsLF else { return nil }
        var bytes = Array(pattern.utf8)[...]
        var atStart = false
        var atEnd = false
        if bytes.first == UInt8(ascii: "^") {
            atStart = true
            bytes = bytes.dropFirst()
        }
        if bytes.last == UInt8(ascii: "$"), !isEscaped(bytes, at: bytes.endIndex - 1) {
            atEnd = true
            bytes = bytes.dropLast()
        }
        // With `m`, `^` and `$` also match at line breaks.
        if flags.contains(.multiline), atStart || atEnd { return nil }
        var prefix: [UInt8] = []
        var alternatives: [[UInt8]]?
        var suffix: [UInt8] = []
        var index = bytes.startIndex
        // Reads literal text up to a `(`, `|`, `)` or the end; nil on any other metacharacter.
        func literal() -> [UInt8]? {
            var text: [UInt8] = []
            while index < bytes.endIndex {
                let byte = bytes[index]
                switch byte {
                case UInt8(ascii: "("), UInt8(ascii: "|"), UInt8(ascii: ")"):
                    return text
                case UInt8(ascii: "\\"):
                    // `\` before ASCII punctuation is that character; before a letter, digit or anything else it
                    // is a class, an assertion, a back reference or an escape: left to PCRE2.
                    guard index + 1 < bytes.endIndex, isPunctuation(bytes[index + 1]) else { return nil }
                    text.append(bytes[index + 1])
                    index += 2
                case UInt8(ascii: "^"), UInt8(ascii: "$"), UInt8(ascii: "."), UInt8(ascii: "["), UInt8(ascii: "]"),
                    UInt8(ascii: "?"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "{"), UInt8(ascii: "}"):
                    return nil
                default:
                    // A quantifier after the text applies to its last character only: refused above, as `?*+{`.
                    text.append(byte)
                    index += 1
                }
            }
            return text
        }
        guard let head = literal() else { return nil }
        prefix = head
        if index < bytes.endIndex, bytes[index] == UInt8(ascii: "|") {
            // A top-level alternation: `^` and `$` would bind to one branch only; without them it is a set.
            guard !atStart, !atEnd else { return nil }
            var items = [head]
            while index < bytes.endIndex, bytes[index] == UInt8(ascii: "|") {
                index += 1
                guard let next = literal() else { return nil }
                items.append(next)
            }
            guard index == bytes.endIndex else { return nil }
            alternatives = items
            prefix = []
        } else if index < bytes.endIndex, bytes[index] == UInt8(ascii: "(") {
            index += 1
            if index + 1 < bytes.endIndex, bytes[index] == UInt8(ascii: "?"), bytes[index + 1] == UInt8(ascii: ":") {
                index += 2
            }
            var items: [[UInt8]] = []
            while true {
                guard let next = literal(), index < bytes.endIndex else { return nil }
                items.append(next)
                if bytes[index] == UInt8(ascii: ")") { break }
                guard bytes[index] == UInt8(ascii: "|") else { return nil }
                index += 1
            }
            index += 1
            // A quantifier after the group, or a second group, is left to PCRE2.
            guard let tail = literal(), index == bytes.endIndex else { return nil }
            alternatives = items
            suffix = tail
        } else if index != bytes.endIndex {
            return nil
        }
        let literals = (alternatives ?? [[]]).map { prefix + $0 + suffix }
        // An empty literal matches everywhere (or needs a special case): left to PCRE2, as are large sets.
        guard literals.count <= maxLiterals, literals.allSatisfy({ !$0.isEmpty }) else { return nil }
        let caseless = flags.contains(.caseInsensitive)
        if caseless {
            for literal in literals {
                for byte in literal where byte >= 0x80 || "ksKS".utf8.contains(byte) { return nil }
            }
        }
        return LiteralPattern(
            literals: caseless ? literals.map { $0.map(lowerASCII) } : literals, anchoredAtStart: atStart,
            anchoredAtEnd: atEnd, caseless: caseless)
    }

    /// Whether `subject` (valid UTF-8) matches, as PCRE2 would decide it.
    public func matches(_ subject: UnsafeRawBufferPointer) -> Bool {
        for literal in literals {
            let found = literal.withUnsafeBytes {
                LiteralPattern.matches(
                    subject, $0, anchoredAtStart: anchoredAtStart, anchoredAtEnd: anchoredAtEnd, caseless: caseless)
            }
            if found { return true }
        }
        return false
    }

    /// Whether `subject` (valid UTF-8) matches one literal `needle` (not empty; lower-case when `caseless`) with
    /// these anchors, as PCRE2 would decide it. The one implementation of the matching, for callers that keep the
    /// literals in their own buffers.
    @inline(__always)
    public static func matches(
        _ subject: UnsafeRawBufferPointer, _ needle: UnsafeRawBufferPointer, anchoredAtStart: Bool,
        anchoredAtEnd: Bool, caseless: Bool
    ) -> Bool {
        let count = subject.count
        let length = needle.count
        switch (anchoredAtStart, anchoredAtEnd) {
        case (false, false):
            return find(needle, in: subject, caseless: caseless)
        case (true, false):
            return length <= count && equal(subject, at: 0, needle, caseless: caseless)
        case (false, true):
            if length <= count, equal(subject, at: count - length, needle, caseless: caseless) { return true }
            return length < count && subject[count - 1] == 0x0A
                && equal(subject, at: count - 1 - length, needle, caseless: caseless)
        case (true, true):
            return (length == count || (length == count - 1 && subject[count - 1] == 0x0A))
                && equal(subject, at: 0, needle, caseless: caseless)
        }
    }

    /// Whether `subject` holds `needle` at `offset` (which must fit).
    @inline(__always)
    static func equal(
        _ subject: UnsafeRawBufferPointer, at offset: Int, _ needle: UnsafeRawBufferPointer, caseless: Bool
    ) -> Bool {
        if !caseless { return bytesEqual(subject.baseAddress! + offset, needle.baseAddress!, needle.count) }
        for position in 0..<needle.count where lowerASCII(subject[offset + position]) != needle[position] {
            return false
        }
        return true
    }

    /// Whether `needle` (not empty) occurs in `subject`.
    static func find(_ needle: UnsafeRawBufferPointer, in subject: UnsafeRawBufferPointer, caseless: Bool) -> Bool {
        guard needle.count <= subject.count else { return false }
        let last = subject.count - needle.count
        if caseless {
            let first = needle[0]
            for offset in 0...last
            where lowerASCII(subject[offset]) == first && equal(subject, at: offset, needle, caseless: true) {
                return true
            }
            return false
        }
        // Sixteen start positions at a time: a candidate has the needle's first two bytes (or its only byte); each
        // is then compared whole.
        let base = subject.baseAddress!
        let first = SIMD16<UInt8>(repeating: needle[0])
        let second = SIMD16<UInt8>(repeating: needle.count > 1 ? needle[1] : needle[0])
        let pair = needle.count > 1
        var offset = 0
        // The blocks at `offset` and `offset + 1` must lie inside the subject.
        while offset + 17 <= subject.count {
            var hits = base.loadUnaligned(fromByteOffset: offset, as: SIMD16<UInt8>.self) .== first
            if pair { hits .&= base.loadUnaligned(fromByteOffset: offset + 1, as: SIMD16<UInt8>.self) .== second }
            if any(hits) {
                for lane in 0..<16 where hits[lane] {
                    let candidate = offset + lane
                    if candidate <= last, bytesEqual(base + candidate, needle.baseAddress!, needle.count) {
                        return true
                    }
                }
            }
            offset += 16
        }
        while offset <= last {
            if base.load(fromByteOffset: offset, as: UInt8.self) == needle[0],
                bytesEqual(base + offset, needle.baseAddress!, needle.count)
            {
                return true
            }
            offset += 1
        }
        return false
    }

    /// Whether `count` bytes at `a` and `b` are equal. Up to 16 bytes (rule literals and the strings they are
    /// compared with, mostly) take two overlapping loads from each side, so no call and no loop: the first and the
    /// last 8 (or 4, or single) bytes cover every byte. Reads only the `count` bytes.
    @inlinable @inline(__always)
    public static func bytesEqual(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, _ count: Int) -> Bool {
        if count >= 8 {
            if count > 16 { return memcmp(a, b, count) == 0 }
            let head = a.loadUnaligned(as: UInt64.self) ^ b.loadUnaligned(as: UInt64.self)
            let tail =
                a.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self)
                ^ b.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self)
            return head | tail == 0
        }
        if count >= 4 {
            let head = a.loadUnaligned(as: UInt32.self) ^ b.loadUnaligned(as: UInt32.self)
            let tail =
                a.loadUnaligned(fromByteOffset: count - 4, as: UInt32.self)
                ^ b.loadUnaligned(fromByteOffset: count - 4, as: UInt32.self)
            return head | tail == 0
        }
        if count == 0 { return true }
        let first = a.load(as: UInt8.self) ^ b.load(as: UInt8.self)
        let middle =
            a.load(fromByteOffset: count >> 1, as: UInt8.self) ^ b.load(fromByteOffset: count >> 1, as: UInt8.self)
        let last = a.load(fromByteOffset: count - 1, as: UInt8.self) ^ b.load(fromByteOffset: count - 1, as: UInt8.self)
        return first | middle | last == 0
    }

    /// Whether the byte before `index` is an unpaired backslash (so the byte at `index` is escaped).
    static func isEscaped(_ bytes: ArraySlice<UInt8>, at index: Int) -> Bool {
        var backslashes = 0
        var position = index - 1
        while position >= bytes.startIndex, bytes[position] == UInt8(ascii: "\\") {
            backslashes += 1
            position -= 1
        }
        return backslashes % 2 == 1
    }

    /// ASCII punctuation, which PCRE2 reads as itself after a backslash.
    static func isPunctuation(_ byte: UInt8) -> Bool {
        (0x21...0x2F).contains(byte) || (0x3A...0x40).contains(byte) || (0x5B...0x60).contains(byte)
            || (0x7B...0x7E).contains(byte)
    }

    /// Whether this PCRE2 was built with LF as its newline, so that `$` means "end, or before a final LF".
    static let newlineIsLF: Bool = {
        var value: UInt32 = 0
        return pcre2_config_8(UInt32(PCRE2_CONFIG_NEWLINE), &value) >= 0 && value == UInt32(PCRE2_NEWLINE_LF)
    }()
}

@inline(__always)
func lowerASCII(_ byte: UInt8) -> UInt8 {
    byte &- 0x41 < 26 ? byte | 0x20 : byte
}
