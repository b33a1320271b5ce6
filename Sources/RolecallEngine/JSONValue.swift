import RolecallJSON
import RolecallLanguage

/// A JSON document as a value: for building, patching and writing events outside the hot path (test suites,
/// tools). Object members keep their order; numbers are doubles.
public indirect enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([(key: String, value: JSONValue)])

    /// Equal as JSON: strings and keys by their bytes (``ExactString``), as the event reader compares them, not by
    /// Swift's canonical equivalence (`"caf\u{E9}"` and `"cafe\u{301}"` are two strings).
    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): true
        case (.bool(let a), .bool(let b)): a == b
        case (.number(let a), .number(let b)): a == b
        case (.string(let a), .string(let b)): ExactString(a) == ExactString(b)
        case (.array(let a), .array(let b)): a == b
        case (.object(let a), .object(let b)):
            a.count == b.count
                && zip(a, b).allSatisfy { ExactString($0.key) == ExactString($1.key) && $0.value == $1.value }
        default: false
        }
    }

    /// Parses a complete JSON document, with the same validation and depth limit as the event reader.
    public static func parse(_ bytes: [UInt8], maxDepth: Int = 512) throws(JSONError) -> JSONValue {
        let result = bytes.withUnsafeBufferPointer { buffer in
            Result { () throws(JSONError) -> JSONValue in
                guard let base = buffer.baseAddress, !buffer.isEmpty else {
                    throw JSONError("empty input, expected a JSON value", at: 0)
                }
                var scanner = JSONScanner(base: base, count: buffer.count, maxDepth: maxDepth)
                let value = try parseValue(&scanner, depth: 0)
                scanner.skipWhitespace()
                guard scanner.position == scanner.count else { throw scanner.unexpected("the end of the document") }
                return value
            }
        }
        return try result.get()
    }

    static func parseValue(_ scanner: inout JSONScanner, depth: Int) throws(JSONError) -> JSONValue {
        let byte = try scanner.peekToken("a value")
        switch byte {
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            guard depth < scanner.maxDepth else {
                throw JSONError("nesting deeper than \(scanner.maxDepth) levels", at: scanner.position)
            }
            let isObject = byte == UInt8(ascii: "{")
            scanner.position += 1
            var members: [(key: String, value: JSONValue)] = []
            var elements: [JSONValue] = []
            let close = isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")
            if try scanner.peekToken(isObject ? "`}` or a key" : "`]` or a value") == close {
                scanner.position += 1
            } else {
                repeat {
                    if isObject {
                        let key = try scanner.skipKeyAndColon()
                        members.append((scanner.string(key), try parseValue(&scanner, depth: depth + 1)))
                    } else {
                        elements.append(try parseValue(&scanner, depth: depth + 1))
                    }
                } while try !scanner.endOfMember(close: close)
            }
            return isObject ? .object(members) : .array(elements)
        case JSONScanner.quote:
            return .string(scanner.string(try scanner.scanString()))
        case UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"):
            return try scanner.scanKeywordLiteral().map(JSONValue.bool) ?? .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return .number(try scanner.scanNumber())
        default:
            throw scanner.unexpected("a value")
        }
    }

    /// `self` with `patch` deep-merged over it: objects merge member by member (recursively), anything else in
    /// the patch replaces what was there. Keys match by their bytes (``ExactString``): a patch's `"cafe\u{301}"`
    /// adds a member beside `"caf\u{E9}"`.
    public func merging(_ patch: JSONValue) -> JSONValue {
        guard case .object(var members) = self, case .object(let changes) = patch else { return patch }
        for (key, value) in changes {
            if let index = members.firstIndex(where: { ExactString($0.key) == ExactString(key) }) {
                members[index].value = members[index].value.merging(value)
            } else {
                members.append((key, value))
            }
        }
        return .object(members)
    }

    /// Compact JSON text.
    public var serialized: String {
        switch self {
        case .null: return "null"
        case .bool(let value): return String(value)
        case .number(let value): return JSONText.number(value)
        case .string(let text): return JSONText.quote(text)
        case .array(let items): return "[" + items.map(\.serialized).joined(separator: ",") + "]"
        case .object(let members):
            return "{" + members.map { JSONText.quote($0.key) + ":" + $0.value.serialized }.joined(separator: ",") + "}"
        }
    }
}

extension JSONScanner {
    /// The decoded contents of a scanned string.
    func string(_ range: (start: Int, end: Int, escaped: Bool)) -> String {
        if range.escaped { return decodeString(start: range.start, end: range.end) }
        return String(
            decoding: UnsafeBufferPointer(start: base + range.start, count: range.end - range.start), as: UTF8.self)
    }
}
