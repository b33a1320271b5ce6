import Foundation

/// Finds files for a command's PATH arguments: a file stands for itself, a directory for every file below it with
/// the suffix, in path order.
public enum RuleFileFinder {
    /// A path that does not exist.
    public struct Missing: Error, CustomStringConvertible {
        /// The path as given.
        public var path: String
        public var description: String { "no such file or directory: \(path)" }
    }

    /// The files named by `paths` (default `["rules"]`) that end in `suffix`, directories searched recursively.
    public static func find(_ paths: [String], suffix: String) throws(Missing) -> [String] {
        var found: [String] = []
        for path in paths.isEmpty ? ["rules"] : paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw Missing(path: path)
            }
            guard isDirectory.boolValue else {
                found.append(path)
                continue
            }
            let below = (FileManager.default.enumerator(atPath: path)?.allObjects as? [String] ?? [])
                .filter { $0.hasSuffix(suffix) }.sorted()
            found += below.map { path.hasSuffix("/") ? path + $0 : path + "/" + $0 }
        }
        return found
    }
}
