import RolecallCommandLine
import RolecallLanguage

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// `rules-full`, the executable with every command, which this one becomes for the commands it does not run.
enum FullBinary {
    /// The path of `rules-full` beside this executable. `/proc/self/exe` names the executable with every symbolic
    /// link followed, so a `rules` linked into `~/bin` still finds its sibling in the build directory; without
    /// `/proc`, the directory of `argv[0]`.
    ///
    /// The directory's name is read as bytes (``FileName``): a build directory whose name is not UTF-8 still
    /// names the sibling that is there.
    static func path() -> String {
        var buffer = [UInt8](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = buffer.withUnsafeMutableBytes { bytes in
            readlink("/proc/self/exe", bytes.baseAddress!.assumingMemoryBound(to: CChar.self), bytes.count - 1)
        }
        let executable =
            length > 0
            ? FileName.decode(Array(buffer[0..<length]))
            : FileName.decode(
                UnsafeRawBufferPointer(start: CommandLine.unsafeArgv[0], count: strlen(CommandLine.unsafeArgv[0]!)))
        guard let slash = executable.unicodeScalars.lastIndex(of: "/") else { return RulesTool.fullBinaryName }
        return String(executable.unicodeScalars[...slash]) + RulesTool.fullBinaryName
    }

    /// Replaces this process with `rules-full`, keeping the arguments (`argv[0]` too, so messages still say
    /// `rules`), the environment and the process id. Only returns to exit with status 2 and a message naming the
    /// file when `rules-full` cannot be run.
    static func replaceProcess() -> Never {
        let full = path()
        execv(FileName.cString(full), CommandLine.unsafeArgv)
        let reason = String(cString: strerror(errno))
        let command =
            CommandLine.arguments.dropFirst().first.map { "`\(RulesTool.name) \($0)`" } ?? "`\(RulesTool.name)`"
        Output.standardError(
            "\(RulesTool.name): error: \(command) needs \(FileName.visible(full)), which cannot be run (\(reason)): "
                + "build it with `make build` (or `swift build --product \(RulesTool.fullBinaryName)`)\n")
        exit(2)
    }
}
