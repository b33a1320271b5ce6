import RolecallLanguage

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Writes the files commands produce (`fmt --write`, `test --junit`, `test --coverage-json`) the way an editor
/// saves: a reader sees the old contents or the new, never half of them, and the file stays what it was.
///
/// - A symbolic link is written through: its target gets the new contents and the link stays a link.
/// - A regular file is replaced atomically (a temporary file beside it, then `rename`), keeping its mode (and,
///   for root, its owner).
/// - Anything else (a FIFO, a device, `/dev/stdout`, a path under `/dev` or `/proc`) is opened and written
///   directly: replacing it with a regular file would break whoever else uses it.
/// - Permissions are respected, even by root: a regular file without any write permission bit is refused
///   rather than replaced.
public enum FileWriter {
    /// Why a file could not be written; the description is the message to print.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        /// What went wrong, naming the path.
        public var description: String
    }

    /// Writes `bytes` to `path` as described above.
    public static func write(_ bytes: [UInt8], to path: String) throws(Failure) {
        if path.hasPrefix("/dev/") || path.hasPrefix("/proc/") {
            return try writeDirectly(bytes, to: path, shown: path)
        }
        let target = try resolveLinks(path)
        var info = stat()
        guard lstat(target, &info) == 0 else {
            guard errno == ENOENT else { throw failure(path, errno) }
            return try replace(target, with: bytes, mode: nil, owner: nil, shown: path)
        }
        switch info.st_mode & S_IFMT {
        case S_IFREG:
            guard info.st_mode & 0o222 != 0 else {
                throw Failure(description: "`\(FileName.visible(path))` is read-only")
            }
            guard access(target, W_OK) == 0 else { throw failure(path, errno) }
            try replace(
                target, with: bytes, mode: info.st_mode & 0o7777, owner: (info.st_uid, info.st_gid), shown: path)
        case S_IFDIR:
            throw Failure(description: "cannot write `\(FileName.visible(path))`: it is a directory")
        default:
            try writeDirectly(bytes, to: target, shown: path)
        }
    }

    /// Writes `text` as UTF-8 to `path`, as the byte version does.
    public static func write(_ text: String, to path: String) throws(Failure) {
        try write(Array(text.utf8), to: path)
    }

    /// The file `path` finally names, following symbolic links (a dangling link names the file to create).
    static func resolveLinks(_ path: String) throws(Failure) -> String {
        var current = path
        for _ in 0..<40 {
            var info = stat()
            guard lstat(FileName.cString(current), &info) == 0, info.st_mode & S_IFMT == S_IFLNK else { return current }
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let length = readlink(FileName.cString(current), &buffer, buffer.count - 1)
            guard length >= 0 else { throw failure(path, errno) }
            let link = FileName.decode(buffer[0..<length].map { UInt8(bitPattern: $0) })
            // A relative link is relative to the link's own directory; a bare name's directory is the current one
            // (not the empty string, which would make `t.xml` into `/t.xml`).
            let directory = FileWriter.directory(of: current)
            current = link.hasPrefix("/") || directory.isEmpty ? link : directory + "/" + link
        }
        throw failure(path, ELOOP)
    }

    /// Replaces the regular file `target` (or creates it) through a temporary file in the same directory.
    static func replace(
        _ target: String, with bytes: [UInt8], mode: mode_t?, owner: (uid_t, gid_t)?, shown: String
    ) throws(Failure) {
        let directory = FileWriter.directory(of: target)
        let name = FileWriter.name(of: target)
        let temporary =
            (directory.isEmpty ? "" : directory + "/") + ".\(name).\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp"
        // A new file gets 0666 less the umask, like any file a command creates.
        let fd = open(FileName.cString(temporary), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode ?? 0o666)
        guard fd >= 0 else { throw failure(shown, errno) }
        var done = false
        defer {
            if !done { unlink(FileName.cString(temporary)) }
        }
        do {
            defer { close(fd) }
            try writeAll(bytes, to: fd, shown: shown)
            if let mode, fchmod(fd, mode) != 0 { throw failure(shown, errno) }
            if let owner, geteuid() == 0 { _ = fchown(fd, owner.0, owner.1) }
            guard fsync(fd) == 0 else { throw failure(shown, errno) }
        }
        guard rename(FileName.cString(temporary), FileName.cString(target)) == 0 else { throw failure(shown, errno) }
        done = true
    }

    /// Opens `path` for writing as it is (no temporary file, no truncation of a device) and writes `bytes`.
    static func writeDirectly(_ bytes: [UInt8], to path: String, shown: String) throws(Failure) {
        var info = stat()
        let regular = stat(FileName.cString(path), &info) == 0 && info.st_mode & S_IFMT == S_IFREG
        let fd = open(FileName.cString(path), O_WRONLY | O_CLOEXEC | (regular ? O_TRUNC : 0))
        guard fd >= 0 else { throw failure(shown, errno) }
        defer { close(fd) }
        try writeAll(bytes, to: fd, shown: shown)
    }

    static func writeAll(_ bytes: [UInt8], to fd: Int32, shown: String) throws(Failure) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if written < 0 {
                if errno == EINTR { continue }
                throw failure(shown, errno)
            }
            offset += written
        }
    }

    /// The directory part of `path` as NSString's `deletingLastPathComponent` has it: `a/b` for `a/b/c`, `` for
    /// a bare name, `/` for `/c`; trailing slashes are not part of the last component.
    static func directory(of path: String) -> String {
        let trimmed = trimmingTrailingSlashes(path)
        guard let slash = trimmed.lastIndex(of: "/") else { return "" }
        let parent = trimmingTrailingSlashes(String(trimmed[..<slash]))
        return parent.isEmpty ? "/" : parent
    }

    /// The last component of `path` as NSString's `lastPathComponent` has it: `c` for `a/b/c` and for `a/b/c/`.
    static func name(of path: String) -> String {
        let trimmed = trimmingTrailingSlashes(path)
        guard let slash = trimmed.lastIndex(of: "/") else { return trimmed }
        let name = String(trimmed[trimmed.index(after: slash)...])
        return name.isEmpty ? "/" : name
    }

    static func trimmingTrailingSlashes(_ path: String) -> String {
        var path = Substring(path)
        while path.count > 1, path.last == "/" { path = path.dropLast() }
        return String(path)
    }

    static func failure(_ path: String, _ code: Int32) -> Failure {
        Failure(description: "cannot write `\(FileName.visible(path))`: \(String(cString: strerror(code)))")
    }
}
