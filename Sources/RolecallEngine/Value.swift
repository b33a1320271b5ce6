import RolecallLanguage

/// A value during evaluation.
///
/// Strings, lists and objects read from the event stay where they are in the event's bytes (`raw*` cases hold
/// byte offsets), so reading a field allocates nothing; owned cases come from rule literals, escaped strings
/// and function results.
public enum Value: Sendable {
    case null
    case bool(Bool)
    case number(Double)
    /// A string in the event without escapes: its UTF-8 bytes are `start..<end` of the event.
    case rawString(start: Int, end: Int)
    /// A string owned by the program or decoded from an escaped event string.
    case string(String)
    /// A JSON array in the event: bytes `start..<end`, brackets included.
    case rawArray(start: Int, end: Int)
    /// A JSON object in the event: bytes `start..<end`, braces included.
    case rawObject(start: Int, end: Int)
    /// A list built by the program (a list literal).
    case list([Value])

    init(_ constant: Constant) {
        switch constant {
        case .null: self = .null
        case .bool(let value): self = .bool(value)
        case .number(let value): self = .number(value)
        case .string(let value): self = .string(value)
        case .list(let items): self = .list(items.map(Value.init))
        }
    }

    /// How the value's type reads in an error message.
    var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .rawString, .string: "a string"
        case .rawArray, .list: "a list"
        case .rawObject: "an object"
        }
    }

    /// The value in a boolean position when it is a boolean or null.
    var isTrue: Bool {
        if case .bool(true) = self { return true }
        return false
    }

    var isString: Bool {
        switch self {
        case .rawString, .string: true
        default: false
        }
    }
}
