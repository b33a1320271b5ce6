/// A string that is equal to another only when their UTF-8 bytes are, and hashed by them.
///
/// Swift's `String` equality is Unicode canonical equivalence: `"caf\u{E9}" == "cafe\u{301}"`. A role name, like a
/// JSON key, is its bytes: Auth0 holds the two spellings as two roles, so the decision must too. The evaluator keys
/// every table of role names by this type.
struct ExactString: Hashable {
    var string: String

    init(_ string: String) { self.string = string }

    static func == (a: ExactString, b: ExactString) -> Bool {
        a.string.utf8.count == b.string.utf8.count && a.string.utf8.elementsEqual(b.string.utf8)
    }

    func hash(into hasher: inout Hasher) {
        var string = string
        string.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
    }
}
