import RolecallLanguage

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The one rule-set loader of every command (`eval`, `check`, `test`, `fmt`, `apply`, and the server): the same
/// files in the same order, the same size limit and the same errors wherever a rule set is loaded.
///
/// A path names a `.rules` file or a directory standing for every `.rules` file below it (see
/// ``RuleFileFinder``). A file that cannot be read, or is larger than ``maxFileBytes``, is an error: a rule set
/// is never silently loaded without one of its files.
public enum RuleSetLoader {
    /// Rule files larger than this are refused: no real rule set comes close, and it bounds memory.
    public static let maxFileBytes = 16 << 20

    /// Why a rule set could not be loaded; the description is the message to print.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        /// What went wrong, naming the path.
        public var description: String
    }

    /// The `.rules` files named by `paths` (default `rules/`), read, in path order.
    public static func load(_ paths: [String]) throws(Failure) -> [SourceFile] {
        let found: [String]
        do {
            found = try RuleFileFinder.find(paths, suffix: ".rules")
        } catch {
            throw Failure(description: error.description)
        }
        if found.isEmpty {
            throw Failure(
                description:
                    "no .rules files found in \(paths.isEmpty ? "rules" : paths.map(FileName.visible).joined(separator: ", "))"
            )
        }
        var files: [SourceFile] = []
        for path in found { files.append(SourceFile(path: path, bytes: try read(path))) }
        return files
    }

    /// The bytes of the file at `path`, at most ``maxFileBytes`` of them.
    ///
    /// Only a regular file (after links) is read: a FIFO or a device named `x.rules` in a rules directory would
    /// otherwise block every command forever (a FIFO with no writer) or feed it without end. It is opened without
    /// blocking, so even a FIFO is refused at once.
    public static func read(_ path: String) throws(Failure) -> [UInt8] {
        let fd = open(FileName.cString(path), O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else {
            throw Failure(description: "cannot open \(FileName.visible(path)): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            throw Failure(description: "\(FileName.visible(path)) is not a regular file")
        }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
        // Read straight into an array of the size the file has (one more byte, to see the end of a file that grew
        // since): reading in chunks and appending would copy every byte once more, and the array, grown by
        // doubling, would hold up to twice the file.
        var bytes = [UInt8](repeating: 0, count: min(max(Int(info.st_size), 0), maxFileBytes) + 1)
        var count = 0
        while true {
            if count == bytes.count {
                guard count <= maxFileBytes else {
                    throw Failure(description: "\(FileName.visible(path)) is larger than \(maxFileBytes) bytes")
                }
                bytes += [UInt8](repeating: 0, count: min(max(count, 1 << 16), maxFileBytes + 1 - count))
            }
            let read = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + count, $0.count - count) }
            if read < 0 {
                if errno == EINTR { continue }
                throw Failure(description: "cannot read \(FileName.visible(path)): \(String(cString: strerror(errno)))")
            }
            if read == 0 {
                bytes.removeLast(bytes.count - count)
                return bytes
            }
            count += read
        }
    }
}
