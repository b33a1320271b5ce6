/// The length of the well-formed UTF-8 sequence at `index` of `bytes` (`count` bytes in all), or nil when the
/// bytes there are not well-formed: overlong forms, surrogates and values past U+10FFFF are rejected.
///
/// Shared by the lexer (rule files) and the event reader (JSON strings); inlinable so the reader's hot loop
/// pays no call across modules.
@inlinable
public func wellFormedUTF8Length(_ bytes: UnsafePointer<UInt8>, count: Int, at index: Int) -> Int? {
    let lead = bytes[index]
    let length: Int
    let minimum: UInt32
    switch lead {
    case 0x00...0x7F: return 1
    case 0xC2...0xDF: (length, minimum) = (2, 0x80)
    case 0xE0...0xEF: (length, minimum) = (3, 0x800)
    case 0xF0...0xF4: (length, minimum) = (4, 0x10000)
    default: return nil
    }
    guard index + length <= count else { return nil }
    var scalar = UInt32(lead) & (0xFF >> (length + 1))
    for offset in 1..<length {
        let continuation = bytes[index + offset]
        guard continuation & 0xC0 == 0x80 else { return nil }
        scalar = scalar << 6 | UInt32(continuation & 0x3F)
    }
    guard scalar >= minimum, scalar <= 0x10FFFF, !(0xD800...0xDFFF).contains(scalar) else { return nil }
    return length
}
