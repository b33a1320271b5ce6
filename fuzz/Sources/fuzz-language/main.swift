import FuzzSupport
import RolecallLanguage

// Arbitrary bytes as one rule file, through the lexer, the parser and the checker (with its lints). Any
// diagnostic is a fine answer; a crash, a hang or a memory error is the finding.
runFuzzer { data, size in
    let file = SourceFile(path: "fuzz.rules", bytes: inputBytes(data, size))
    _ = Parser.parse(file)
    _ = Checker.check([file])
    return 0
}
