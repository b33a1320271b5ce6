import RolecallJSON

/// File names as the system has them (bytes) carried in a `String` without loss, and shown in messages.
///
/// A Unix file name is any bytes; Swift's `String` holds only valid Unicode, and decoding a name lossily
/// (`x\xe9.rules` as `x\u{fffd}.rules`) names a file that does not exist: the directory walk listed it and then
/// could not open it. So a byte that is not part of valid UTF-8 is carried as a code point of the last 128 of
/// Supplementary Private Use Area-B (U+10FF80 + byte - 0x80, as Python's `surrogateescape` uses surrogates, which
/// Swift strings cannot hold).
///
/// In a string that names a file, U+10FF80...U+10FFFF always stand for raw bytes, never for themselves. A name
/// whose valid UTF-8 spells one of those code points (`x` U+10FFE9 `.rules`, the bytes `78 F4 8F BF A9 ...`) is
/// therefore carried as if those four bytes were not UTF-8: one escaped byte each, shown `\xf4\x8f\xbf\xa9`. So
/// the mapping is one-to-one: ``decode(_:)-(UnsafeRawBufferPointer)`` gives different names different strings,
/// and ``bytes(_:)`` gives back exactly the name read. Every name that reaches the system (a directory entry,
/// the command line, a `file:` URI, `git ls-tree -z`) is read through ``decode(_:)-(UnsafeRawBufferPointer)``
/// and goes back through ``bytes(_:)`` or ``cString(_:)``; nothing else turns a name into a string.
///
/// Messages and reports show a name with ``visible(_:)``, which is unambiguous too: see there.
public enum FileName {
    /// The first of the code points that stand for raw bytes 0x80...0xFF.
    static let base: UInt32 = 0x10_FF80

    /// `bytes`, a name as the system gave it, as a string that ``bytes(_:)`` turns back into them.
    ///
    /// Not generic, and valid UTF-8 (nearly every name) takes one pass: both binaries decode their whole command
    /// line with it at start-up, where an unspecialised generic call costs conformance lookups.
    public static func decode(_ bytes: UnsafeRawBufferPointer) -> String {
        let text = String(decoding: bytes, as: UTF8.self)
        if text.utf8.elementsEqual(bytes), !hasRawBytes(text) { return text }
        var scalars = String.UnicodeScalarView()
        var index = 0
        while index < bytes.count {
            let lead = bytes[index]
            let length = lead < 0x80 ? 1 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2
            if index + length <= bytes.count,
                case let one = String(decoding: bytes[index..<index + length], as: UTF8.self),
                one.utf8.elementsEqual(bytes[index..<index + length]),
                let scalar = one.unicodeScalars.first, scalar.value < base
            {
                scalars.append(scalar)
                index += length
            } else {
                scalars.append(Unicode.Scalar(base + UInt32(lead) - 0x80)!)
                index += 1
            }
        }
        return String(scalars)
    }

    /// ``decode(_:)-(UnsafeRawBufferPointer)`` of an array.
    public static func decode(_ bytes: [UInt8]) -> String { bytes.withUnsafeBytes { decode($0) } }

    /// The bytes of the name `path` stands for: as ``decode(_:)`` read them, else its UTF-8.
    public static func bytes(_ path: String) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(path.utf8.count)
        for scalar in path.unicodeScalars {
            if scalar.value >= base {
                bytes.append(UInt8(scalar.value - base + 0x80))
            } else {
                bytes += Array(String(scalar).utf8)
            }
        }
        return bytes
    }

    /// Whether `path` carries raw bytes: only then does it differ from its plain UTF-8.
    public static func hasRawBytes(_ path: String) -> Bool { path.unicodeScalars.contains { $0.value >= base } }

    /// `path` for a message, a report or `--format json`: as it is when it is plain, else quoted, after git's
    /// `core.quotePath`.
    ///
    /// A name is quoted when it holds a raw byte, a character that ``Unicode/Scalar/isHiddenInText``, a `"` or a
    /// `\`: it is then written in double quotes, a raw byte as `\xe9`, a hidden character as the rule language's
    /// escape (`\n`, `\u{202e}`), a `"` as `\"` and a `\` as `\\`. So the file `x\xe9.rules` (the byte 0xE9) is
    /// shown `"x\xe9.rules"` and the file named with a backslash, `x`, `e` and `9` is shown `"x\\xe9.rules"`: a
    /// plain name never starts with a quote, and a quoted one reads back to one name only. The text is valid
    /// Unicode, so it goes into JSON as any string does.
    public static func visible(_ path: String) -> String {
        func needsQuotes(_ scalar: Unicode.Scalar) -> Bool {
            scalar == "\"" || scalar == "\\" || scalar.isHiddenInText || scalar.value >= base
        }
        guard path.unicodeScalars.contains(where: needsQuotes) else { return path }
        return HumanText.quoted(path, escaping: \.isHiddenInText, as: escape)
    }

    /// `path` quoted with every scalar outside printable ASCII escaped, as ``Spelling/literal(_:)`` shows text, a
    /// raw byte as `\xe9`: for two names that print alike (`caf\u{e9}.rules` and `cafe\u{301}.rules`).
    public static func literal(_ path: String) -> String {
        HumanText.quoted(path, escaping: { !$0.isASCII || $0.isHiddenInText }, as: escape)
    }

    /// The escape for `scalar` in a quoted name: `\xe9` for a raw byte, else the rule language's.
    static func escape(_ scalar: Unicode.Scalar) -> String {
        guard scalar.value >= base else { return HumanText.escape(scalar) }
        return "\\x" + String(scalar.value - base + 0x80, radix: 16)
    }

    /// `path` as the C string the system takes: its raw bytes, NUL-terminated (an array passes as a pointer).
    public static func cString(_ path: String) -> [CChar] { bytes(path).map { CChar(bitPattern: $0) } + [0] }
}
