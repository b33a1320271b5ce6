/// File names as the system has them (bytes) carried in a `String` without loss, and shown in messages.
///
/// A Unix file name is any bytes; Swift's `String` holds only valid Unicode, and decoding a name lossily
/// (`x\xe9.rules` as `x\u{fffd}.rules`) names a file that does not exist: the directory walk listed it and then
/// could not open it. So a byte that is not part of valid UTF-8 is carried as a code point of the last 128 of
/// Supplementary Private Use Area-B (U+10FF80 + byte - 0x80, as Python's `surrogateescape` uses surrogates, which
/// Swift strings cannot hold); a name whose valid UTF-8 spells one of those code points has its bytes carried the
/// same way, so the mapping is one-to-one and ``bytes(_:)`` gives back exactly the name read.
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

    /// `path` for a message: each raw byte as `\xe9`, the rest as ``Spelling/visible(_:)`` shows text.
    public static func visible(_ path: String) -> String {
        guard hasRawBytes(path) else { return Spelling.visible(path) }
        var text = ""
        var run = ""
        for scalar in path.unicodeScalars {
            if scalar.value >= base {
                text += Spelling.visible(run)
                run = ""
                let byte = String(scalar.value - base + 0x80, radix: 16)
                text += "\\x" + byte
            } else {
                run.unicodeScalars.append(scalar)
            }
        }
        return text + Spelling.visible(run)
    }

    /// `path` for a tool (`--format json`): as it is, unless it carries raw bytes, which JSON cannot; then as
    /// ``visible(_:)`` shows it.
    public static func shown(_ path: String) -> String { hasRawBytes(path) ? visible(path) : path }

    /// `path` as the C string the system takes: its raw bytes, NUL-terminated (an array passes as a pointer).
    public static func cString(_ path: String) -> [CChar] { bytes(path).map { CChar(bitPattern: $0) } + [0] }
}
