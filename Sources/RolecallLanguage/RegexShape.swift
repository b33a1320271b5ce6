/// The top-level shape of a regex pattern, as far as the regex lints need it: its alternatives, their anchors,
/// and the email domains and host names written in them.
///
/// A single left-to-right scan of the pattern's bytes (linear in its length) that knows escapes (`\.`, `\Q...\E`),
/// character classes (`[.|$]`, `[]a]`) and groups, so that a `|`, `$` or `.` inside them is not taken for a
/// top-level one. It never decides whether a pattern is valid: PCRE2 has done that already.
struct RegexShape {
    /// One element of the pattern.
    enum AtomKind: Equatable {
        /// A character that matches itself; `escaped` when written with a backslash (`\.`, `\@`).
        case literal(UInt8, escaped: Bool)
        /// An unescaped `.` outside a class.
        case anyCharacter
        /// `^` or `\A`.
        case startAnchor
        /// `$`, `\z` or `\Z`.
        case endAnchor
        /// `\b`.
        case wordBoundary
        /// `|`.
        case alternation
        case groupOpen, groupClose
        /// Anything else: a class, a quantifier, `\d`, ...
        case other
    }

    struct Atom {
        var kind: AtomKind
        /// Byte offset in the pattern, and length in bytes.
        var offset: Int
        var length: Int
        /// Group nesting depth; 0 at the top level.
        var depth: Int
    }

    /// A run of atoms between top-level `|` (or the ends of the pattern): indices into ``atoms``.
    struct Branch {
        var atoms: Range<Int>
    }

    /// A domain written in the pattern: `acme\.com` after `@` (or a host name at the start of an alternative).
    struct Domain {
        /// The atom of the `@` (nil for a host name), the atoms of the domain, and what follows it.
        var at: Int?
        var atoms: Range<Int>
        /// Offsets of `.` written without a backslash between two labels.
        var unescapedDots: [Int]
        /// Whether only `$` (or `\z`, `\Z`) ends the alternative after it, or nothing (or `\b`) does.
        var anchored: Bool
        var endsBranch: Bool
    }

    let bytes: [UInt8]
    private(set) var atoms: [Atom] = []
    private(set) var branches: [Branch] = []

    init(_ pattern: String) {
        bytes = Array(pattern.utf8)
        scan()
        var start = 0
        for (index, atom) in atoms.enumerated() where atom.kind == .alternation && atom.depth == 0 {
            branches.append(Branch(atoms: start..<index))
            start = index + 1
        }
        branches.append(Branch(atoms: start..<atoms.count))
    }

    private mutating func scan() {
        var i = 0
        var depth = 0
        func add(_ kind: AtomKind, _ offset: Int, _ length: Int) {
            atoms.append(Atom(kind: kind, offset: offset, length: length, depth: depth))
        }
        while i < bytes.count {
            let byte = bytes[i]
            switch byte {
            case UInt8(ascii: "\\"):
                guard i + 1 < bytes.count else {
                    add(.other, i, 1)
                    i += 1
                    continue
                }
                let next = bytes[i + 1]
                switch next {
                case UInt8(ascii: "Q"):
                    // `\Q...\E`: everything between is literal.
                    var j = i + 2
                    while j < bytes.count,
                        !(bytes[j] == UInt8(ascii: "\\") && j + 1 < bytes.count
                            && bytes[j + 1] == UInt8(ascii: "E"))
                    {
                        add(.literal(bytes[j], escaped: true), j, 1)
                        j += 1
                    }
                    i = min(bytes.count, j + 2)
                    continue
                case UInt8(ascii: "A"): add(.startAnchor, i, 2)
                case UInt8(ascii: "z"), UInt8(ascii: "Z"): add(.endAnchor, i, 2)
                case UInt8(ascii: "b"): add(.wordBoundary, i, 2)
                case _ where RegexShape.isLabel(next) || next >= 0x80: add(.other, i, 2)
                default: add(.literal(next, escaped: true), i, 2)
                }
                i += 2
            case UInt8(ascii: "["):
                // A class: `]` right after `[` or `[^` is a member; `[:alpha:]` and escapes inside too.
                var j = i + 1
                if j < bytes.count, bytes[j] == UInt8(ascii: "^") { j += 1 }
                if j < bytes.count, bytes[j] == UInt8(ascii: "]") { j += 1 }
                while j < bytes.count, bytes[j] != UInt8(ascii: "]") {
                    if bytes[j] == UInt8(ascii: "\\") {
                        j += 2
                    } else if bytes[j] == UInt8(ascii: "["), j + 1 < bytes.count, bytes[j + 1] == UInt8(ascii: ":") {
                        j += 2
                        while j < bytes.count, bytes[j] != UInt8(ascii: "]") { j += 1 }
                        j += 1
                    } else {
                        j += 1
                    }
                }
                let end = min(bytes.count, j + 1)
                add(.other, i, end - i)
                i = end
            case UInt8(ascii: "("):
                add(.groupOpen, i, 1)
                depth += 1
                i += 1
            case UInt8(ascii: ")"):
                depth = max(0, depth - 1)
                add(.groupClose, i, 1)
                i += 1
            case UInt8(ascii: "|"):
                add(.alternation, i, 1)
                i += 1
            case UInt8(ascii: "^"):
                add(.startAnchor, i, 1)
                i += 1
            case UInt8(ascii: "$"):
                add(.endAnchor, i, 1)
                i += 1
            case UInt8(ascii: "."):
                add(.anyCharacter, i, 1)
                i += 1
            case UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "?"), UInt8(ascii: "{"):
                add(.other, i, 1)
                i += 1
            default:
                add(.literal(byte, escaped: false), i, 1)
                i += 1
            }
        }
    }

    /// A letter, digit or `-`: what a domain label is made of.
    static func isLabel(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
            || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
            || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "-")
    }

    static func isLetter(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
            || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
    }

    func isLabelAtom(_ index: Int) -> Bool {
        if case .literal(let byte, _) = atoms[index].kind { return RegexShape.isLabel(byte) }
        return false
    }

    func isEscapedDot(_ index: Int) -> Bool { atoms[index].kind == .literal(UInt8(ascii: "."), escaped: true) }

    func isAt(_ index: Int) -> Bool {
        if case .literal(UInt8(ascii: "@"), _) = atoms[index].kind { return true }
        return false
    }

    /// The atoms of a branch without leading option settings such as `(?i)`.
    func firstAtom(of branch: Branch) -> Int? {
        var index = branch.atoms.lowerBound
        while index < branch.atoms.upperBound, atoms[index].kind == .groupOpen, index + 1 < branch.atoms.upperBound,
            atoms[index + 1].kind == .other, bytes[atoms[index + 1].offset] == UInt8(ascii: "?")
        {
            // `(?i)`: skip to its `)` when it closes at once (letters and `-` only).
            var j = index + 2
            while j < branch.atoms.upperBound, isLabelAtom(j) { j += 1 }
            guard j < branch.atoms.upperBound, atoms[j].kind == .groupClose else { break }
            index = j + 1
        }
        return index < branch.atoms.upperBound ? index : nil
    }

    func startsAnchored(_ branch: Branch) -> Bool {
        firstAtom(of: branch).map { atoms[$0].kind == .startAnchor } ?? false
    }

    func endsAnchored(_ branch: Branch) -> Bool {
        guard !branch.atoms.isEmpty else { return false }
        return atoms[branch.atoms.upperBound - 1].kind == .endAnchor
    }

    /// The domains in a branch: after each top-level `@`, a run of labels separated by `.` or `\.` with at least
    /// one separator; and a host name filling the whole alternative (`acme.com$`, `^www.acme.com`).
    func domains(in branch: Branch) -> [Domain] {
        var found: [Domain] = []
        var index = branch.atoms.lowerBound
        let end = branch.atoms.upperBound
        if let first = firstAtom(of: branch) {
            let start = atoms[first].kind == .startAnchor ? first + 1 : first
            if start < end, isLabelAtom(start), let domain = domain(from: start, at: nil, end: end),
                domain.endsBranch || domain.anchored
            {
                found.append(domain)
                index = domain.atoms.upperBound
            }
        }
        while index < end {
            if isAt(index), atoms[index].depth == 0, index + 1 < end,
                let domain = domain(from: index + 1, at: index, end: end)
            {
                found.append(domain)
                index = domain.atoms.upperBound
            } else {
                index += 1
            }
        }
        return found
    }

    /// The domain starting at atom `start`, if the atoms there spell one.
    private func domain(from start: Int, at: Int?, end: Int) -> Domain? {
        var index = start
        var dots: [Int] = []
        var separators = 0
        var lastLabelLength = 0
        var lastLabelIsLetters = true
        while index < end {
            if isLabelAtom(index) {
                if case .literal(let byte, _) = atoms[index].kind, !RegexShape.isLetter(byte) {
                    lastLabelIsLetters = false
                }
                lastLabelLength += 1
            } else if lastLabelLength > 0, index + 1 < end, isLabelAtom(index + 1),
                isEscapedDot(index) || atoms[index].kind == .anyCharacter
            {
                if atoms[index].kind == .anyCharacter { dots.append(atoms[index].offset) }
                separators += 1
                lastLabelLength = 0
                lastLabelIsLetters = true
            } else {
                break
            }
            index += 1
        }
        guard separators > 0, lastLabelLength >= 2, lastLabelIsLetters else { return nil }
        var after = index
        if after < end, atoms[after].kind == .wordBoundary { after += 1 }
        let anchored = after < end && atoms[after].kind == .endAnchor && after + 1 == end
        return Domain(at: at, atoms: start..<index, unescapedDots: dots, anchored: anchored, endsBranch: after == end)
    }

    /// `text` with each `\.` written as `.`: a domain as it reads.
    static func unescapingDots(_ text: String) -> String {
        var out: [UInt8] = []
        var escaped = false
        for byte in text.utf8 {
            if escaped || byte != UInt8(ascii: "\\") {
                if escaped && byte != UInt8(ascii: ".") { out.append(UInt8(ascii: "\\")) }
                out.append(byte)
                escaped = false
            } else {
                escaped = true
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The pattern text of atoms `range`.
    func text(_ range: Range<Int>) -> String {
        guard let first = range.first, let last = range.last else { return "" }
        return String(decoding: bytes[atoms[first].offset..<(atoms[last].offset + atoms[last].length)], as: UTF8.self)
    }
}
