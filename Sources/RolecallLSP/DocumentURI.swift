import RolecallLanguage

/// `file:` URIs and the paths they name (RFC 8089, as editors write them: `file:///home/a/x.rules`, with
/// percent-escapes for bytes outside the unreserved set).
enum DocumentURI {
    /// The path of a `file:` URI, percent-escapes decoded, as ``FileName/decode(_:)-([UInt8])`` reads a name's
    /// bytes (`%E9` is the raw byte); nil for another scheme or a bad escape.
    static func path(_ uri: String) -> String? {
        let bytes = Array(uri.utf8)
        let scheme = Array("file://".utf8)
        guard bytes.count >= scheme.count,
            zip(bytes, scheme).allSatisfy({ $0 | 0x20 == $1 | 0x20 || $0 == $1 })
        else { return nil }
        var rest = bytes[scheme.count...]
        // `file://host/path`: only an empty host or `localhost` names this machine.
        if let slash = rest.firstIndex(of: UInt8(ascii: "/")), slash != rest.startIndex {
            guard String(decoding: rest[rest.startIndex..<slash], as: UTF8.self).lowercased() == "localhost" else {
                return nil
            }
            rest = rest[slash...]
        }
        var out: [UInt8] = []
        var index = rest.startIndex
        while index < rest.endIndex {
            let byte = rest[index]
            if byte == UInt8(ascii: "%") {
                guard index + 2 < rest.endIndex, let high = hex(rest[index + 1]), let low = hex(rest[index + 2])
                else { return nil }
                out.append(high << 4 | low)
                index += 3
            } else {
                out.append(byte)
                index += 1
            }
        }
        guard !out.isEmpty, !out.contains(0) else { return nil }
        return FileName.decode(out)
    }

    /// The `file:` URI of an absolute path, escaping every byte of the name (``FileName/bytes(_:)``) but the
    /// unreserved ones and `/`.
    static func uri(_ path: String) -> String {
        var out = "file://"
        for byte in FileName.bytes(path) {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"), UInt8(ascii: "/"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let digits = Array("0123456789ABCDEF".unicodeScalars)
                out += "%"
                out.unicodeScalars.append(digits[Int(byte >> 4)])
                out.unicodeScalars.append(digits[Int(byte & 0xF)])
            }
        }
        return out
    }

    private static func hex(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
