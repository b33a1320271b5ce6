import RolecallEngine
import RolecallJSON

extension JSONValue {
    /// The member `key` of an object (the first, when a key repeats); nil for a missing key or a non-object.
    subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.key == key }?.value
    }

    /// The string, when this is one.
    var string: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    /// The number as an integer, when this is an integral number that fits.
    var integer: Int? {
        guard case .number(let value) = self, value == value.rounded(), abs(value) < 9e15 else { return nil }
        return Int(value)
    }

    /// The elements, when this is an array.
    var array: [JSONValue]? {
        if case .array(let items) = self { return items }
        return nil
    }

    /// An object built from members in order, for writing.
    static func members(_ members: KeyValuePairs<String, JSONValue>) -> JSONValue {
        .object(members.map { (key: $0.key, value: $0.value) })
    }

    /// A string value.
    static func text(_ text: String) -> JSONValue { .string(text) }

    /// A number value from an integer.
    static func int(_ value: Int) -> JSONValue { .number(Double(value)) }
}
