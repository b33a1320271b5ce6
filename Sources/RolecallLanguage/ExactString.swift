/// A string that is equal to another only when their UTF-8 bytes are, hashed and ordered by them.
///
/// Swift's `String` equality is Unicode canonical equivalence: `"caf\u{E9}" == "cafe\u{301}"`. A role name, like a
/// JSON key, is its bytes: Auth0 holds the two spellings as two roles, so every table, set and comparison of role
/// names keys by this type (the evaluator's role tables, the checker and its lints, the planner, the Management
/// client's role-id cache, the outbox, `rules test`, `rules diff` and the language server), and `JSONValue` compares
/// keys and strings with it. It lives in the lowest module that compares role names so that there is one such type.
/// Its operations are inlinable: the evaluator hashes these on its `revoke all` path.
public struct ExactString: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The string, as written.
    public var string: String

    /// `string`, compared by its bytes.
    @inlinable public init(_ string: String) { self.string = string }

    /// Whether the two strings have the same UTF-8 bytes.
    @inlinable public static func == (a: ExactString, b: ExactString) -> Bool {
        a.string.utf8.count == b.string.utf8.count && a.string.utf8.elementsEqual(b.string.utf8)
    }

    /// Byte order, which for UTF-8 is the order of the Unicode scalar values: the same as `String`'s for text in
    /// normalization form C, and a total order on spellings that `String` finds equal.
    @inlinable public static func < (a: ExactString, b: ExactString) -> Bool {
        a.string.utf8.lexicographicallyPrecedes(b.string.utf8)
    }

    /// Hashes the UTF-8 bytes.
    @inlinable public func hash(into hasher: inout Hasher) {
        var string = string
        string.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
    }

    /// The string itself.
    public var description: String { string }
}
