import RolecallLanguage
import RolecallRegex

/// The operators' semantics (DESIGN.md, "The rule language, version 1"), over event-backed and owned values.
extension Evaluator {
    /// Calls `body` with the UTF-8 bytes of a string value, or returns nil for a non-string.
    @inline(__always)
    func withBytes<R>(_ value: Value, _ body: (UnsafeRawBufferPointer) -> R) -> R? {
        switch value {
        case .rawString(let start, let end):
            return body(UnsafeRawBufferPointer(start: base + start, count: end - start))
        case .string(var text):
            return text.withUTF8 { body(UnsafeRawBufferPointer($0)) }
        default:
            return nil
        }
    }

    /// A string value as a Swift string, or nil for a non-string.
    func string(_ value: Value) -> String? {
        switch value {
        case .rawString(let start, let end):
            String(decoding: UnsafeBufferPointer(start: base + start, count: end - start), as: UTF8.self)
        case .string(let text): text
        default: nil
        }
    }

    /// Whether `value` is a string with exactly these bytes.
    @inline(__always)
    func stringEquals(_ value: Value, _ text: UnsafeRawBufferPointer) -> Bool {
        if case .rawString(let start, let end) = value {
            return end - start == text.count
                && (text.count == 0 || LiteralPattern.bytesEqual(base + start, text.baseAddress!, text.count))
        }
        return withBytes(value) { $0.elementsEqual(text) } ?? false
    }

    func stringEquals(_ value: Value, _ text: [UInt8]) -> Bool {
        text.withUnsafeBytes { stringEquals(value, $0) }
    }

    /// The elements of a list value, or nil for a non-list. Event arrays are parsed here, on demand.
    func elements(_ value: Value) -> [Value]? {
        switch value {
        case .list(let items): return items
        case .rawArray(let start, let end):
            var scanner = eventScanner(from: start + 1, to: end)
            var items: [Value] = []
            do throws(JSONError) {
                if try scanner.peekToken("]") == UInt8(ascii: "]") { return items }
                while true {
                    _ = try scanner.peekToken("a value")
                    items.append(try scalarOrRaw(&scanner, depth: 1))
                    if try scanner.endOfMember(close: UInt8(ascii: "]")) { return items }
                }
            } catch {
                return items  // unreachable: the reader validated these bytes
            }
        default: return nil
        }
    }

    /// The members of an object value by their keys' UTF-8 bytes, or nil for a non-object. Later duplicate keys
    /// win, as in JavaScript.
    ///
    /// Bytes, not `String`s: Swift's `String` equality is Unicode canonical equivalence, under which
    /// `"caf\u00e9"` and `"cafe\u0301"` are one key, where JSON (and the reader's duplicate-key check) has two.
    func members(_ value: Value) -> [[UInt8]: Value]? {
        guard case .rawObject(let start, let end) = value else { return nil }
        var scanner = eventScanner(from: start + 1, to: end)
        var result: [[UInt8]: Value] = [:]
        do throws(JSONError) {
            if try scanner.peekToken("}") == UInt8(ascii: "}") { return result }
            while true {
                let key = try scanner.skipKeyAndColon()
                let name =
                    key.escaped
                    ? Array(scanner.decodeString(start: key.start, end: key.end).utf8)
                    : Array(UnsafeBufferPointer(start: base + key.start, count: key.end - key.start))
                _ = try scanner.peekToken("a value")
                result[name] = try scalarOrRaw(&scanner, depth: 1)
                if try scanner.endOfMember(close: UInt8(ascii: "}")) { return result }
            }
        } catch {
            return result  // unreachable: the reader validated these bytes
        }
    }

    /// Deep JSON equality: numbers by value (`1 == 1.0`), strings by bytes, lists by element, objects by member.
    func deepEqual(_ a: Value, _ b: Value) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case (.bool(let x), .bool(let y)): return x == y
        case (.number(let x), .number(let y)): return x == y
        case (.rawString, _), (.string, _):
            guard b.isString else { return false }
            return withBytes(a) { left in withBytes(b) { right in left.elementsEqual(right) } ?? false } ?? false
        case (.rawArray, _), (.list, _):
            guard let left = elements(a), let right = elements(b), left.count == right.count else { return false }
            return zip(left, right).allSatisfy { deepEqual($0, $1) }
        case (.rawObject, .rawObject):
            guard let left = members(a), let right = members(b), left.count == right.count else { return false }
            return left.allSatisfy { key, value in right[key].map { deepEqual(value, $0) } ?? false }
        default: return false
        }
    }

    /// Whether a list value (an event array or a built list) has a string element with exactly these bytes;
    /// false for `null`. The event array is walked in place: no element is materialised unless it is an
    /// escaped string.
    func listContainsString(_ list: Value, _ text: UnsafeRawBufferPointer) -> Bool {
        switch list {
        case .rawArray(let start, let end):
            if let found = plainListContainsString(start: start, end: end, text) { return found }
            var scanner = eventScanner(from: start + 1, to: end)
            do throws(JSONError) {
                if try scanner.peekToken("]") == UInt8(ascii: "]") { return false }
                while true {
                    if try scanner.peekToken("a value") == JSONScanner.quote {
                        let element = try scanner.scanString()
                        if element.escaped {
                            if Array(scanner.decodeString(start: element.start, end: element.end).utf8).elementsEqual(
                                text)
                            {
                                return true
                            }
                        } else if element.end - element.start == text.count,
                            text.count == 0 || memcmp(base + element.start, text.baseAddress!, text.count) == 0
                        {
                            return true
                        }
                    } else {
                        try scanner.skipValue(depth: 1)
                    }
                    if try scanner.endOfMember(close: UInt8(ascii: "]")) { return false }
                }
            } catch {
                return false  // unreachable: the reader validated these bytes
            }
        case .list(let items):
            return items.contains { stringEquals($0, text) }
        default:
            return false
        }
    }

    /// Whether the event list at bytes `start..<end` has a string element with exactly these bytes, from the
    /// elements remembered for this run of the rules (several rules often test one list: `"admin" in groups`,
    /// `"billing" in groups`); nil when the list is not plain strings (see ``plainListContainsString``).
    @inline(__always)
    func rememberedListContainsString(start: Int, end: Int, _ text: UnsafeRawBufferPointer) -> Bool? {
        let memo = listMemo
        if memo.pointee.validGeneration != memo.pointee.generation || memo.pointee.start != start {
            rememberList(start: start, end: end)
        }
        guard memo.pointee.count >= 0 else { return nil }
        let items = memo.pointee.items
        for position in 0..<memo.pointee.count {
            let (first, length) = items[position]
            if Int(length) == text.count,
                text.count == 0 || LiteralPattern.bytesEqual(base + Int(first), text.baseAddress!, text.count)
            {
                return true
            }
        }
        return false
    }

    /// Reads the string elements of the event list at `start..<end` into ``listMemo`` (count -1 when an element
    /// is not a string without escapes).
    @inline(never)
    func rememberList(start: Int, end: Int) {
        let memo = listMemo
        memo.pointee.validGeneration = memo.pointee.generation
        memo.pointee.start = start
        memo.pointee.count = -1
        var count = 0
        let plain = forEachPlainString(start, end) { first, length in
            if count == memo.pointee.capacity {
                let larger = UnsafeMutablePointer<(start: Int32, length: Int32)>.allocate(capacity: count * 2)
                larger.moveInitialize(from: memo.pointee.items, count: count)
                memo.pointee.items.deallocate()
                memo.pointee.items = larger
                memo.pointee.capacity = count * 2
            }
            memo.pointee.items[count] = (Int32(truncatingIfNeeded: first), Int32(truncatingIfNeeded: length))
            count += 1
        }
        guard plain else { return }
        // Offsets are kept in 32 bits: a list past 2 GiB is left to the general walk.
        if end <= Int(Int32.max) { memo.pointee.count = count }
    }

    /// ``listContainsString(_:_:)`` for the common event list: strings without escapes, as `["admin","ops"]`. A
    /// straight walk over the bytes, which the reader has validated; nil when an element is not such a string (an
    /// escape, a number, a nested value), for the general walk to decide.
    @inline(__always)
    func plainListContainsString(start: Int, end: Int, _ text: UnsafeRawBufferPointer) -> Bool? {
        var position = start + 1
        while true {
            while Evaluator.isWhitespace(base[position]) { position += 1 }
            let byte = base[position]
            if byte == UInt8(ascii: "]") { return false }
            guard byte == JSONScanner.quote else { return nil }
            let first = position + 1
            position = first
            while base[position] != JSONScanner.quote, base[position] != UInt8(ascii: "\\") { position += 1 }
            if base[position] != JSONScanner.quote { return nil }
            if position - first == text.count,
                text.count == 0 || LiteralPattern.bytesEqual(base + first, text.baseAddress!, text.count)
            {
                return true
            }
            position += 1
            while Evaluator.isWhitespace(base[position]) { position += 1 }
            guard base[position] == UInt8(ascii: ",") else { return false }
            position += 1
        }
    }

    /// JSON whitespace.
    @inline(__always)
    static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09
    }

    /// Whether `needle` occurs in `haystack`.
    static func find(_ needle: UnsafeRawBufferPointer, in haystack: UnsafeRawBufferPointer) -> Bool {
        guard !needle.isEmpty else { return true }
        guard haystack.count >= needle.count else { return false }
        for offset in 0...(haystack.count - needle.count)
        where haystack[offset] == needle[0]
            && memcmp(haystack.baseAddress! + offset, needle.baseAddress!, needle.count) == 0
        {
            return true
        }
        return false
    }

    /// Every comparison operator but `matches`: the one definition of their semantics and error messages.
    /// `index` is the instruction being evaluated, for the error's position.
    func compare(_ op: BinaryOperator, _ a: Value, _ b: Value, at index: Int32) throws(EvaluationError) -> Bool {
        switch op {
        case .equal: return deepEqual(a, b)
        case .notEqual: return !deepEqual(a, b)
        case .less, .lessEqual, .greater, .greaterEqual:
            if case .null = a { return false }
            if case .null = b { return false }
            if case .number(let x) = a, case .number(let y) = b { return Evaluator.compareNumbers(op, x, y) }
            if a.isString, b.isString {
                let order = withBytes(a) { x in withBytes(b) { y in Evaluator.order(x, y) } ?? 0 } ?? 0
                return Evaluator.compareNumbers(op, Double(order), 0)
            }
            throw failure(
                .typeMismatch, "`\(op.rawValue)` cannot compare \(a.typeName) with \(b.typeName)", [a, b], at: index)
        case .in, .notIn:
            if case .null = b { return op == .notIn }
            guard let items = elements(b) else {
                throw failure(
                    .typeMismatch, "`\(op.rawValue)` needs a list on the right, found \(b.typeName)", [a, b], at: index)
            }
            return items.contains { deepEqual(a, $0) } == (op == .in)
        case .contains:
            if case .null = a { return false }
            if case .null = b { return false }
            if a.isString {
                guard b.isString else {
                    throw failure(
                        .typeMismatch, "a string can only contain a string, not \(b.typeName)", [a, b], at: index)
                }
                return withBytes(b) { needle in withBytes(a) { Evaluator.find(needle, in: $0) } ?? false } ?? false
            }
            guard let items = elements(a) else {
                throw failure(
                    .typeMismatch, "`contains` needs a string or a list on the left, found \(a.typeName)", [a, b],
                    at: index)
            }
            return items.contains { deepEqual($0, b) }
        case .startsWith, .endsWith:
            if case .null = a { return false }
            if case .null = b { return false }
            guard a.isString, b.isString else {
                let culprit = a.isString ? b : a
                throw failure(
                    .typeMismatch, "`\(op.rawValue)` compares strings, found \(culprit.typeName)", [a, b], at: index)
            }
            return withBytes(a) { text in
                withBytes(b) { affix in
                    guard affix.count <= text.count else { return false }
                    let offset = op == .startsWith ? 0 : text.count - affix.count
                    return affix.count == 0 || memcmp(text.baseAddress! + offset, affix.baseAddress!, affix.count) == 0
                } ?? false
            } ?? false
        case .matches:
            preconditionFailure("`matches` is compiled to its own instruction")
        }
    }

    /// Byte-wise order of two UTF-8 strings (the same as Unicode scalar order): -1, 0 or 1.
    static func order(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Int {
        let common = min(a.count, b.count)
        if common > 0 {
            let result = memcmp(a.baseAddress!, b.baseAddress!, common)
            if result != 0 { return result < 0 ? -1 : 1 }
        }
        return a.count == b.count ? 0 : (a.count < b.count ? -1 : 1)
    }

    /// `subject matches regex`, with `null` giving false and a blown backtracking limit giving an error.
    func matches(_ subject: Value, _ regex: CompiledRegex, at index: Int32) throws(EvaluationError) -> Bool {
        if case .null = subject { return false }
        // A match may backtrack up to its limit: it weighs as much as eight elements of a list.
        try spend(8, at: index)
        let outcome = withBytes(subject) { bytes in
            // Every string value is valid UTF-8: event strings are validated by the reader, the rest are Swift strings.
            Result { () throws(CompiledRegex.MatchError) in
                try regex.matches(bytes, scratch: scratch, knownValidUTF8: true)
            }
        }
        switch outcome {
        case nil:
            throw failure(
                .typeMismatch, "`matches` searches a string, found \(subject.typeName)", [subject], at: index)
        case .success(let matched)?:
            return matched
        case .failure(.limitExceeded)?:
            throw failure(
                .regexLimit, "regex `\(regex.pattern)` exceeded its backtracking limit on this input", [subject],
                at: index)
        case .failure(.failed(let message))?:
            throw failure(.regexFailed, "regex `\(regex.pattern)` failed: \(message)", [subject], at: index)
        }
    }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif
