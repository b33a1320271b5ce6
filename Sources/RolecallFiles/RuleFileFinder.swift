import RolecallLanguage

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Finds files for a command's PATH arguments: a file stands for itself, a directory for every file below it with
/// the suffix, in path order.
///
/// Symbolic links are followed, to files and to directories alike, so a rules directory assembled from links
/// (a shared policy linked into each service's directory) reads as if the files were there. Each directory is
/// read once, walking names in order: a link back to a directory already read (a cycle, or a second link to the
/// same place) is skipped.
public enum RuleFileFinder {
    /// A path that does not exist or a directory that cannot be listed.
    public struct Missing: Error, CustomStringConvertible {
        /// The path as given (or as found below a directory given).
        public var path: String
        /// What is wrong with it.
        public var reason = "no such file or directory"
        public var description: String { "\(reason): \(FileName.visible(path))" }
    }

    /// A directory's identity, to read each directory once however it is reached.
    struct DirectoryID: Hashable {
        var device: UInt64
        var inode: UInt64
    }

    /// The files named by `paths` (default `["rules"]`) that end in `suffix`, directories searched recursively.
    public static func find(_ paths: [String], suffix: String) throws(Missing) -> [String] {
        var found: [String] = []
        var visited = Set<DirectoryID>()
        for path in paths.isEmpty ? ["rules"] : paths {
            var info = stat()
            guard stat(FileName.cString(path), &info) == 0 else { throw Missing(path: path) }
            guard info.st_mode & S_IFMT == S_IFDIR else {
                found.append(path)
                continue
            }
            guard visited.insert(DirectoryID(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))).inserted
            else { continue }
            var below: [String] = []
            try walk(path, relative: "", suffix: suffix, visited: &visited, into: &below)
            found += below.sorted().map { path.hasSuffix("/") ? path + $0 : path + "/" + $0 }
        }
        return found
    }

    /// Adds the paths (relative to the directory first given) of the files below `directory` that end in
    /// `suffix`. A broken link with the suffix is kept, so that reading it reports the problem.
    static func walk(
        _ directory: String, relative: String, suffix: String, visited: inout Set<DirectoryID>,
        into found: inout [String]
    ) throws(Missing) {
        guard let entries = names(in: directory)?.sorted() else {
            throw Missing(path: directory, reason: "cannot read directory")
        }
        for entry in entries {
            let path = directory.hasSuffix("/") ? directory + entry : directory + "/" + entry
            let name = relative.isEmpty ? entry : relative + "/" + entry
            var info = stat()
            guard stat(FileName.cString(path), &info) == 0, info.st_mode & S_IFMT == S_IFDIR else {
                if entry.hasSuffix(suffix) { found.append(name) }
                continue
            }
            guard visited.insert(DirectoryID(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))).inserted
            else { continue }
            try walk(path, relative: name, suffix: suffix, visited: &visited, into: &found)
        }
    }

    /// The names in `directory`, without `.` and `..`; nil when it cannot be listed.
    static func names(in directory: String) -> [String]? {
        guard let stream = opendir(FileName.cString(directory)) else { return nil }
        defer { closedir(stream) }
        var names: [String] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { bytes in
                FileName.decode(UnsafeRawBufferPointer(rebasing: bytes.prefix { $0 != 0 }))
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }
}
