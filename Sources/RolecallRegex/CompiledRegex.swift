import CPCRE2

/// A compiled PCRE2 pattern, matched against UTF-8 bytes.
///
/// Compiled with `PCRE2_UTF` and `PCRE2_UCP` (Unicode properties for `\w`, `\d`, case folding) and
/// JIT-compiled when the library supports it. The compiled code is immutable after creation, which
/// PCRE2 documents as safe to share between threads; matching needs a ``RegexScratch`` per thread.
public final class CompiledRegex: @unchecked Sendable {
    // @unchecked: `code` is written once in `init` and only read afterwards; PCRE2 allows
    // concurrent matches against one compiled pattern (each with its own match data).

    /// Flags of a regex literal, as written after the closing slash.
    public struct Flags: OptionSet, Sendable, Hashable {
        /// The flags as bits.
        public let rawValue: UInt8
        /// Flags from their bits.
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        /// `i`: case-insensitive (Unicode case folding).
        public static let caseInsensitive = Flags(rawValue: 1)
        /// `m`: `^` and `$` match at line breaks.
        public static let multiline = Flags(rawValue: 2)
        /// `s`: `.` matches a newline.
        public static let dotAll = Flags(rawValue: 4)
        /// `x`: whitespace and `#` comments in the pattern are ignored.
        public static let extended = Flags(rawValue: 8)

        /// Parses one flag letter, or returns nil for a letter that is not a flag.
        public init?(letter: UInt8) {
            switch letter {
            case UInt8(ascii: "i"): self = .caseInsensitive
            case UInt8(ascii: "m"): self = .multiline
            case UInt8(ascii: "s"): self = .dotAll
            case UInt8(ascii: "x"): self = .extended
            default: return nil
            }
        }
    }

    /// Why a pattern failed to compile: PCRE2's message and the byte offset in the pattern it points at.
    public struct CompileError: Error, Sendable, Equatable {
        /// PCRE2's own description of the problem, e.g. "missing closing parenthesis".
        public var message: String
        /// Byte offset into the pattern where PCRE2 detected the problem.
        public var offset: Int
    }

    /// Why a match could not be decided.
    public enum MatchError: Error, Sendable, Equatable {
        /// The pattern backtracked past the match, depth or heap limit: a catastrophic pattern.
        case limitExceeded
        /// Any other PCRE2 failure, with its message.
        case failed(String)
    }

    /// The pattern as written.
    public let pattern: String
    /// The flags it was compiled with.
    public let flags: Flags
    /// Whether PCRE2 JIT-compiled the pattern.
    public let isJITCompiled: Bool
    /// The pattern as a set of literals, when it is one (see ``LiteralPattern``): matched without PCRE2 by a
    /// caller whose ``RegexScratch/allowsLiteralMatching`` is true.
    public let literal: LiteralPattern?
    let code: OpaquePointer

    /// A PCRE2 start-of-pattern option such as `(*NO_JIT)` or `(*LIMIT_MATCH=10)` at the start of `pattern`:
    /// its text (with the brackets) and its byte offset, or nil when the pattern starts with none.
    ///
    /// Such items change how a pattern matches or what it may cost (newline conventions, `\R`, empty matches,
    /// start-up optimisations, the JIT, the backtracking limits), which the engine and its limits decide, so rule
    /// patterns may not contain them. PCRE2 reads them only at the very start, one after another, each an
    /// upper-case name in `(*...)`, with `=digits` for the limits; the first is the one reported. The backtracking
    /// verbs (`(*ACCEPT)`, `(*COMMIT)`, `(*FAIL)`, `(*F)`, `(*PRUNE)`, `(*SKIP)`, `(*THEN)`) are spelt alike but
    /// are ordinary pattern items, and alphabetic assertions (`(*pla:...)`) are lower case. Any other upper-case
    /// name is refused here, so an option a later PCRE2 adds is refused too.
    public static func startOption(in pattern: String) -> (text: String, offset: Int)? {
        // Only the first item matters: if it is an option it is refused, and if it is not, PCRE2 reads no options
        // after it (a later `(*NO_JIT)` is then an unknown verb, which PCRE2 itself rejects).
        let bytes = Array(pattern.utf8)
        guard bytes.count > 3, bytes[0] == UInt8(ascii: "("), bytes[1] == UInt8(ascii: "*") else { return nil }
        var end = 2
        while end < bytes.count, isNameByte(bytes[end]) { end += 1 }
        guard end > 2, end < bytes.count else { return nil }
        let name = String(decoding: bytes[2..<end], as: UTF8.self)
        if bytes[end] == UInt8(ascii: "=") {
            end += 1
            while end < bytes.count, bytes[end] >= UInt8(ascii: "0"), bytes[end] <= UInt8(ascii: "9") { end += 1 }
        }
        // `(*MARK:x)`, `(*pla:...)` or not a verb at all: PCRE2 reads no option here.
        guard end < bytes.count, bytes[end] == UInt8(ascii: ")") else { return nil }
        let verbs: Set<String> = ["ACCEPT", "COMMIT", "FAIL", "F", "PRUNE", "SKIP", "THEN"]
        if verbs.contains(name) { return nil }
        return (String(decoding: bytes[0...end], as: UTF8.self), 0)
    }

    static func isNameByte(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
            || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
            || byte == UInt8(ascii: "_")
    }

    /// Compiles `pattern` with `flags`; throws ``CompileError`` pointing into the pattern.
    ///
    /// Refuses start-of-pattern options (see ``startOption(in:)``) and `\C` (one code unit, which can split a
    /// UTF-8 character), so a pattern that compiles matches by the engine's options and limits.
    public init(_ pattern: String, flags: Flags = []) throws(CompileError) {
        if let option = CompiledRegex.startOption(in: pattern) {
            throw CompileError(
                message: "start-of-pattern option `\(option.text)` is not allowed", offset: option.offset)
        }
        var options = UInt32(PCRE2_UTF | PCRE2_UCP | PCRE2_NEVER_BACKSLASH_C)
        if flags.contains(.caseInsensitive) { options |= UInt32(PCRE2_CASELESS) }
        if flags.contains(.multiline) { options |= UInt32(PCRE2_MULTILINE) }
        if flags.contains(.dotAll) { options |= UInt32(PCRE2_DOTALL) }
        if flags.contains(.extended) { options |= UInt32(PCRE2_EXTENDED) }
        var errorCode: Int32 = 0
        var errorOffset = 0
        var utf8 = Array(pattern.utf8)
        let compiled = utf8.withUnsafeMutableBufferPointer { buffer in
            pcre2_compile_8(buffer.baseAddress, buffer.count, options, &errorCode, &errorOffset, nil)
        }
        guard let compiled else {
            throw CompileError(message: CompiledRegex.message(for: errorCode), offset: errorOffset)
        }
        self.pattern = pattern
        self.flags = flags
        self.code = compiled
        self.literal = LiteralPattern.recognise(pattern, flags: flags)
        // JIT compilation can succeed without producing code (a pattern may forbid it); only code that exists can
        // be run through pcre2_jit_match, so ask PCRE2 whether there is some.
        var jitSize = 0
        self.isJITCompiled =
            pcre2_jit_compile_8(compiled, UInt32(PCRE2_JIT_COMPLETE)) == 0
            && pcre2_pattern_info_8(compiled, UInt32(PCRE2_INFO_JITSIZE), &jitSize) == 0 && jitSize > 0
        utf8.removeAll()
    }

    deinit { pcre2_code_free_8(code) }

    /// Searches `subject` (UTF-8 bytes) for the pattern, unanchored unless the pattern anchors itself.
    ///
    /// PCRE2 checks that the subject is valid UTF-8 first, unless `knownValidUTF8` says the caller already has
    /// (the event reader validates every string it reads); an invalid subject is then undefined behaviour.
    public func matches(
        _ subject: UnsafeRawBufferPointer, scratch: RegexScratch, knownValidUTF8: Bool = false
    ) throws(MatchError) -> Bool {
        let options = knownValidUTF8 ? UInt32(PCRE2_NO_UTF_CHECK) : 0
        let rc: Int32
        if let base = subject.baseAddress?.assumingMemoryBound(to: UInt8.self) {
            // pcre2_jit_match is the JIT's fast path: it skips the checks pcre2_match makes before dispatching to
            // the JIT, and needs a subject known to be valid UTF-8.
            rc =
                isJITCompiled && knownValidUTF8
                ? pcre2_jit_match_8(code, base, subject.count, 0, 0, scratch.matchData, scratch.context)
                : pcre2_match_8(code, base, subject.count, 0, options, scratch.matchData, scratch.context)
        } else {
            // An empty subject still needs a valid pointer.
            let empty: UInt8 = 0
            rc = withUnsafePointer(to: empty) { pcre2_match_8(code, $0, 0, 0, 0, scratch.matchData, scratch.context) }
        }
        if rc >= 0 { return true }
        switch rc {
        case PCRE2_ERROR_NOMATCH: return false
        case PCRE2_ERROR_MATCHLIMIT, PCRE2_ERROR_DEPTHLIMIT, PCRE2_ERROR_HEAPLIMIT, PCRE2_ERROR_JIT_STACKLIMIT:
            throw .limitExceeded
        default: throw .failed(CompiledRegex.message(for: rc))
        }
    }

    /// Searches a Swift string for the pattern.
    public func matches(_ subject: String, scratch: RegexScratch) throws(MatchError) -> Bool {
        var copy = subject
        let result = copy.withUTF8 { buffer in
            Result { () throws(MatchError) -> Bool in try matches(UnsafeRawBufferPointer(buffer), scratch: scratch) }
        }
        return try result.get()
    }

    static func message(for code: Int32) -> String {
        var buffer = [UInt8](repeating: 0, count: 256)
        let length = buffer.withUnsafeMutableBufferPointer { pcre2_get_error_message_8(code, $0.baseAddress, $0.count) }
        guard length > 0 else { return "PCRE2 error \(code)" }
        return String(decoding: buffer[0..<Int(length)], as: UTF8.self)
    }
}

/// Per-thread matching state: PCRE2 match data and a match context carrying the backtracking limits.
///
/// Not `Sendable`: create one per thread or task that matches (the evaluator does this for you).
public final class RegexScratch {
    /// The limits that turn a catastrophic pattern into an error instead of a hang.
    public struct Limits: Sendable {
        /// How many times PCRE2 may call its internal match function (backtracking steps) per match.
        public var matchLimit: UInt32 = 1_000_000
        /// How deep backtracking may nest (interpreter only; JIT is bounded by its stack).
        public var depthLimit: UInt32 = 10_000
        /// Heap PCRE2 may use for backtracking, in KiB.
        public var heapLimitKiB: UInt32 = 20_000
        /// The defaults: generous for real patterns on login data, milliseconds for a hostile one.
        public init() {}
    }

    let matchData: OpaquePointer
    let context: OpaquePointer
    /// The limits matches run under.
    public let limits: Limits
    /// Whether a ``LiteralPattern`` may decide a match instead of PCRE2: PCRE2 spends a handful of steps per
    /// start position on a literal pattern, so only absurdly small limits (under about ten steps, measured) could
    /// make it fail where the literal check succeeds; below these floors every match goes to PCRE2.
    public let allowsLiteralMatching: Bool

    /// Allocates match data and a context with `limits`.
    public init(limits: Limits = Limits()) {
        self.limits = limits
        self.allowsLiteralMatching =
            limits.matchLimit >= 1000 && limits.depthLimit >= 1000 && limits.heapLimitKiB >= 1000
        guard let matchData = pcre2_match_data_create_8(1, nil), let context = pcre2_match_context_create_8(nil)
        else { fatalError("PCRE2 could not allocate match data (out of memory)") }
        pcre2_set_match_limit_8(context, limits.matchLimit)
        pcre2_set_depth_limit_8(context, limits.depthLimit)
        pcre2_set_heap_limit_8(context, limits.heapLimitKiB)
        self.matchData = matchData
        self.context = context
    }

    deinit {
        pcre2_match_data_free_8(matchData)
        pcre2_match_context_free_8(context)
    }
}
