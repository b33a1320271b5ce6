import RolecallJSON

/// How messages spell text from rules and events so that what a reader sees is what the bytes are.
public enum Spelling {
    /// `text` with every scalar that ``Unicode/Scalar/isHiddenInText`` written as the rule language's escape
    /// (`\u{200b}`), and everything else as itself.
    public static func visible(_ text: String) -> String {
        text.unicodeScalars.contains(where: \.isHiddenInText) ? HumanText.line(text) : text
    }

    /// `text` as a rule-language string literal with every scalar outside printable ASCII escaped (`"caf\u{e9}"`),
    /// for two spellings that print alike (`caf\u{e9}` and `cafe\u{301}`): the reader sees their bytes apart, and
    /// can paste either into a rule file.
    public static func literal(_ text: String) -> String {
        HumanText.quoted(text) { !$0.isASCII || $0.isHiddenInText }
    }

    /// `text` as a rule-language string literal with only the hidden scalars escaped (`"café\u{202e}"`): how a
    /// message quotes a name that no other name in it prints like.
    public static func quoted(_ text: String) -> String { HumanText.quoted(text) }

    /// Whether `a` and `b` print alike but are different bytes (`caf\u{e9}` and `cafe\u{301}`): Swift finds them
    /// equal, ``ExactString`` does not.
    public static func differOnlyInEncoding(_ a: String, _ b: String) -> Bool {
        a == b && ExactString(a) != ExactString(b)
    }
}

/// How one message or report shows the names it shows together (the roles of a test mismatch, the rows of a diff):
/// a name that prints like another of them but is different bytes is shown as ``Spelling/literal(_:)``, so the two
/// read apart; every other name with its hidden scalars escaped (``Spelling/visible(_:)``).
public struct Spellings: Sendable {
    /// The names shown that print like another shown name with different bytes.
    public let alike: Set<ExactString>

    /// How to show `names`, which appear together.
    public init(_ names: some Sequence<String>) {
        // `String` hashes and compares by canonical equivalence, so one key holds every spelling that prints alike.
        var first: [String: ExactString] = [:]
        var alike: Set<ExactString> = []
        for name in names {
            let exact = ExactString(name)
            if let seen = first[name] {
                if seen != exact { alike.formUnion([seen, exact]) }
            } else {
                first[name] = exact
            }
        }
        self.alike = alike
    }

    /// `name` inside a message's backticks: `"caf\u{e9}"` if it prints like another shown name, else as itself with
    /// its hidden scalars escaped.
    public func inline(_ name: String) -> String {
        alike.contains(ExactString(name)) ? Spelling.literal(name) : Spelling.visible(name)
    }

    /// `name` as a quoted literal: every non-ASCII scalar escaped if it prints like another shown name, else only
    /// its hidden scalars.
    public func quoted(_ name: String) -> String {
        alike.contains(ExactString(name)) ? Spelling.literal(name) : Spelling.quoted(name)
    }

    /// `name` in a report's columns: as ``HumanText/word(_:)`` prints it (a plain word as itself, anything else
    /// quoted and escaped, so that no name can start a line of its own), or as a literal when it prints like
    /// another shown name.
    public func word(_ name: String) -> String {
        alike.contains(ExactString(name)) ? Spelling.literal(name) : HumanText.word(name)
    }
}
