import CJSONIndex
@_spi(Benchmark) import RolecallEngine
import RolecallLanguage
import Testing

/// The reader has a fast path (the SIMD special-byte bitmap, and the C walker for values no rule reads) and a
/// reference path (strings eight bytes at a time, every value walked in Swift). They must accept the same events,
/// decide the same, and refuse with the same error at the same byte.
@Suite struct ReaderPathTests {
    static let rules = """
        rule "a" when user.email matches /@acme\\.com$/ assign "staff"
        rule "b" when "admin" in user.app_metadata.groups assign "admin"
        rule "c" when any(user.identities, i, i.provider == "google-oauth2") assign "google"
        """

    /// The outcome of one path: the decision's JSON, or the error.
    static func outcome(_ event: [UInt8], fast: Bool, maxDepth: Int = 512) throws -> String {
        let checked = Checker.check([SourceFile(path: "t.rules", text: rules)])
        let evaluator = Evaluator(program: Program(checked, maxDepth: maxDepth))
        evaluator.indexesStrings = fast
        do {
            return try evaluator.evaluate(event).json
        } catch {
            return "error: \(error)"
        }
    }

    static func expectSamePaths(
        _ event: [UInt8], maxDepth: Int = 512, sourceLocation: SourceLocation = #_sourceLocation
    )
        throws
    {
        let fast = try outcome(event, fast: true, maxDepth: maxDepth)
        let reference = try outcome(event, fast: false, maxDepth: maxDepth)
        #expect(fast == reference, "\(String(decoding: event, as: UTF8.self))", sourceLocation: sourceLocation)
    }

    /// Skipped values of every kind, valid and not, placed so that strings, escapes and multibyte characters
    /// straddle 64-byte blocks and the end of the input.
    static let skipped: [String] = [
        #""plain""#, #""es\"caped\\""#, #""\u00e9\ud83d\ude00""#, "\"m\u{00FC}ller \u{1F600}\"", #""bad \x escape""#,
        #""bad \u12 escape""#, "\"raw\ncontrol\"", "\"unterminated", #"{"k":[1,-2.5e+3,0,true,false,null]}"#,
        "[01]", "[1.]", "[-]", "[1e]", "[tru]", "[nul]", "[fals]", "{\"k\" 1}", "{\"k\":1,}", "[1,]", "[1 2]",
        "{\"k\":}", "{1:2}", "[\"\u{7F}\"]", "[[[[[]]]]]", "{}", "[]", " [ 1 , { \"a\" : [ ] } ] ", "[\"a\"]]",
        "\"\u{FFFF}\"",
        // Plain strings after escaped and non-ASCII ones in one skipped value: the C walker takes quotes off a
        // bitmap word it holds, and must pick up again after each string it scanned byte by byte.
        #"["\u00e9","x","m\#u{00FC}ller","y",{"k\"":"v","k2":"\#u{00E9}\#u{00E9}"},"z","",""]"#,
        #"["a","b\\","c","d\x"]"#, #"{"a":"","b":"\#u{1F600}","c":"\"","d":"\#u{7}"}"#,
    ]

    @Test(arguments: skipped)
    func bothPathsAgreeOnSkippedValues(value: String) throws {
        for padding in [0, 1, 7, 30, 31, 32, 33, 60, 61, 62, 63, 64, 65] {
            let filler = String(repeating: "x", count: padding)
            let event = #"{"pad":"\#(filler)","skipped":\#(value),"user":{"email":"a@acme.com"}}"#
            try ReaderPathTests.expectSamePaths(Array(event.utf8))
            // The value at the very end of the input, truncated at every length.
            let tail = Array(#"{"user":{"email":"a@acme.com"},"p":"\#(filler)","skipped":\#(value)}"#.utf8)
            for cut in stride(from: tail.count, to: max(0, tail.count - 12), by: -1) {
                try ReaderPathTests.expectSamePaths(Array(tail[0..<cut]))
            }
        }
    }

    /// The C walker itself, not through the reader (which would hide a walker that gives up on a valid value
    /// behind the Swift walk it falls back to): each valid value, at every offset around a 64-byte block, is
    /// skipped to its last byte.
    @Test func theCWalkerSkipsValidValuesToTheirEnd() {
        let valid =
            ReaderPathTests.skipped.filter { value in
                [#""plain""#, #""es\"caped\\""#, "[[[[[]]]]]", "{}", "[]"].contains(value)
                    || value.hasPrefix("[\"\\u00e9") || value.hasPrefix("\"\\u00e9") || value.hasPrefix("\"m\u{00FC}")
                    || value.hasPrefix("{\"k\":[1,")
            } + [#"{"a" : [ 1 , "x" , { } ] , "b":"\u00e9\n"}"#, #"["\#u{00E9}","\#u{00E9}","a","b"]"#]
        #expect(valid.count == 11)
        for value in valid {
            for padding in 0..<130 {
                let bytes = Array((String(repeating: " ", count: padding) + value + ",\"next\":1}").utf8)
                var specials = [UInt64](repeating: 0, count: (bytes.count + 63) / 64)
                let end = bytes.withUnsafeBufferPointer { input in
                    rolecall_json_specials(input.baseAddress, bytes.count, &specials)
                    return rolecall_json_skip(input.baseAddress, bytes.count, padding, specials, 64)
                }
                #expect(end == padding + value.utf8.count, "\(value) after \(padding) spaces")
            }
        }
    }

    @Test func invalidUTF8InASkippedStringIsRefusedByBothPaths() throws {
        for bad: [UInt8] in [[0xC0, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xE2, 0x82], [0xFF]] {
            for padding in [0, 50, 61, 62, 63, 64] {
                let event =
                    Array(#"{"pad":"\#(String(repeating: "y", count: padding))","skipped":{"s":""#.utf8) + bad
                    + Array(#""},"user":{"email":"a@acme.com"}}"#.utf8)
                let fast = try ReaderPathTests.outcome(event, fast: true)
                #expect(fast.hasPrefix("error: invalid UTF-8"), "\(padding) \(bad): \(fast)")
                try ReaderPathTests.expectSamePaths(event)
            }
        }
    }

    /// Nesting in a skipped value at the limit, one past it and far past it (the C walker holds 1,024 levels:
    /// beyond that the Swift walk decides).
    @Test(arguments: [8, 511, 512, 513, 1_023, 1_024, 1_025, 1_200])
    func bothPathsAgreeOnNestingLimits(maxDepth: Int) throws {
        for levels in [maxDepth - 2, maxDepth - 1, maxDepth, maxDepth + 1] where levels > 0 {
            let nested = String(repeating: "[", count: levels) + String(repeating: "]", count: levels)
            let event = Array(#"{"skipped":{"deep":\#(nested)},"user":{"email":"a@acme.com"}}"#.utf8)
            try ReaderPathTests.expectSamePaths(event, maxDepth: maxDepth)
        }
        // The root and `skipped` are two levels: a value nested to the limit is accepted, one more level is
        // refused (a test that can fail on an off-by-one).
        let depthAccepted = String(repeating: "[", count: maxDepth - 2) + String(repeating: "]", count: maxDepth - 2)
        let accepted = Array(#"{"skipped":{"deep":\#(depthAccepted)}}"#.utf8)
        #expect(try !ReaderPathTests.outcome(accepted, fast: true, maxDepth: maxDepth).hasPrefix("error"))
        let depthRefused = String(repeating: "[", count: maxDepth - 1) + String(repeating: "]", count: maxDepth - 1)
        let refused = Array(#"{"skipped":{"deep":\#(depthRefused)}}"#.utf8)
        #expect(try ReaderPathTests.outcome(refused, fast: true, maxDepth: maxDepth).contains("nesting deeper"))
    }

    /// Every path this CPU has (byte loop, SSE2, AVX2, AVX-512BW) against the byte loop, and the one the reader
    /// uses; lengths around each block edge, where the last partial block is read differently by each path.
    @Test func theSpecialByteBitmapMatchesTheByteLoop() {
        var generator = SystemRandomNumberGenerator()
        let alphabet: [UInt8] = [0x22, 0x5C, 0x00, 0x1F, 0x20, 0x41, 0x7F, 0x80, 0xC3, 0xFF, 0x0A, 0x7B]
        var pathsRun = Set<Int32>()
        for length in Array(0...200) + [1_000, 4_096, 4_097] {
            let bytes = (0..<length).map { _ in alphabet.randomElement(using: &generator)! }
            let words = max(1, (length + 63) / 64)
            var fast = [UInt64](repeating: 0xDEAD, count: words)
            var portable = [UInt64](repeating: 0xBEEF, count: words)
            var byPath: [Int32: [UInt64]] = [:]
            bytes.withUnsafeBufferPointer { input in
                rolecall_json_specials(input.baseAddress, length, &fast)
                rolecall_json_specials_portable(input.baseAddress, length, &portable)
                for path: Int32 in 1...3 {
                    var masks = [UInt64](repeating: 0xF00D, count: words)
                    if rolecall_json_specials_by(path, input.baseAddress, length, &masks) != 0 { byPath[path] = masks }
                }
            }
            if length == 0 { continue }
            #expect(fast == portable, "length \(length)")
            for (path, masks) in byPath {
                pathsRun.insert(path)
                #expect(masks == portable, "path \(path), length \(length)")
            }
            let expected = bytes.indices.filter {
                [0x22, 0x5C].contains(bytes[$0]) || bytes[$0] < 0x20 || bytes[$0] >= 0x80
            }
            let marked = (0..<length).filter { fast[$0 / 64] >> UInt64($0 % 64) & 1 == 1 }
            #expect(marked == expected, "length \(length)")
        }
        #if arch(x86_64)
            #expect(pathsRun.contains(1), "every x86-64 CPU has SSE2")
        #endif
    }
}

/// A value that is not a value gets one error, whether a rule reads it or not (found by attacking the reader:
/// a read field said "invalid number").
@Suite struct NotAValueTests {
    @Test(arguments: ["@", "}", "+1", ".5", "True", "undefined"])
    func readAndSkippedFieldsReportTheSameError(value: String) throws {
        let read = try rejection(Array(#"{"user":{"email":\#(value)}}"#.utf8))
        let skipped = try rejection(Array(#"{"user":{"nickname":\#(value)}}"#.utf8))
        let byte = value.first == "}" ? "`}`" : "`\(value.first!)`"
        #expect(read?.message == "unexpected \(byte), expected a value", "\(String(describing: read))")
        #expect(skipped?.message == read?.message)
        #expect(read?.offset == 17 && skipped?.offset == 20)
    }
}

/// The reader finds a field's key among its object's members by length first (`FieldNode.keyLengths`, one bit per
/// length modulo 64), then by bytes: keys of every length up to 140, beside decoys of the same length, of a length
/// 64 apart (the same bit), and of a neighbouring length, are each found, and a decoy is never taken for one.
@Suite struct KeyLengthTests {
    @Test func keysOfEveryLengthAreFoundAmongDecoys() throws {
        for length in [1, 2, 7, 8, 9, 15, 16, 17, 63, 64, 65, 70, 127, 128, 140] {
            let key = String((0..<length).map { Character(Unicode.Scalar(UInt8(97 + $0 % 26))) })
            let sameLength = String(key.dropLast()) + "Z"
            let sameBit = length > 64 ? String(key.prefix(length - 64)) : key + String(repeating: "q", count: 64)
            let neighbour = key + "x"
            let rules = "when user.app_metadata.\(key) == \"yes\" assign \"found\""
            let program = try compile(rules)
            for (order, expected) in [
                ([sameLength, sameBit, neighbour, key], true), ([key, sameBit, neighbour], true),
                ([sameLength, sameBit, neighbour], false),
            ] {
                let members = order.map { "\"\($0)\":\($0 == key ? "\"yes\"" : "\"no\"")" }.joined(separator: ",")
                let event = Array(#"{"user":{"app_metadata":{\#(members)}}}"#.utf8)
                let decision = try Evaluator(program: program).evaluate(event)
                #expect(decision.assign == (expected ? ["found"] : []), "length \(length), members \(order)")
            }
        }
    }
}
