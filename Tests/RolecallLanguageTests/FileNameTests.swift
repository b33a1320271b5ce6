import RolecallLanguage
import Testing

/// File names as bytes carried in strings: every name comes back byte for byte, and names that differ stay apart.
@Suite struct FileNameTests {
    @Test(arguments: [
        Array("ok.rules".utf8), [0x78, 0xE9] + Array(".rules".utf8), Array("café.rules".utf8), [0xFF, 0xFE, 0x80],
        [0xE2, 0x82], [0xC3], Array("\u{10FFE9}".utf8), [0xF4, 0x8F, 0xBF, 0xA9, 0xE9], [0xED, 0xA0, 0x80],
    ])
    func namesComeBackByteForByte(_ bytes: [UInt8]) {
        #expect(FileName.bytes(FileName.decode(bytes)) == bytes)
    }

    @Test func differentNamesStayDifferent() {
        let latin1 = FileName.decode([0x78, 0xE9])
        let utf8 = FileName.decode(Array("xé".utf8))
        let lookalike = FileName.decode(Array("x\u{10FFE9}".utf8))
        #expect(Set([latin1, utf8, lookalike]).count == 3)
        #expect(utf8 == "xé")
    }

    /// A plain name is shown as it is; one that needs escaping is quoted, so that no two names are shown alike.
    @Test(arguments: [
        ("café.rules", "café.rules"), ("a b.rules", "a b.rules"),
        (FileName.decode([0x78, 0xE9] + Array(".rules".utf8)), #""x\xe9.rules""#),
        (#"x\xe9.rules"#, #""x\\xe9.rules""#), (#""x\xe9.rules""#, #""\"x\\xe9.rules\"""#),
        ("a\nb\u{202e}.rules", #""a\nb\u{202e}.rules""#),
        (FileName.decode(Array("x\u{10FFE9}".utf8)), #""x\xf4\x8f\xbf\xa9""#),
    ])
    func visibleQuotesWhatNeedsEscaping(_ name: String, _ shown: String) {
        #expect(FileName.visible(name) == shown)
    }

    /// Two names that print alike are spelt out, every non-ASCII scalar escaped, a raw byte as `\xff`.
    @Test func literalSpellsOutEveryNonASCIIScalar() {
        #expect(FileName.literal(FileName.decode(Array("café".utf8) + [0xFF])) == #""caf\u{e9}\xff""#)
        #expect(FileName.literal("cafe\u{301}\\") == #""cafe\u{301}\\""#)
    }
}
