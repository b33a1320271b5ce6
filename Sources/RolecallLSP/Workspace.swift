import RolecallFiles
import RolecallLanguage

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The rule set an editor is looking at: every open document, and every `.rules` file under the workspace
/// roots read from disk when it is not open, checked together as `rules check` checks a rule set.
struct Workspace {
    /// A document the editor has open: its text as the editor has it, which wins over the file on disk.
    struct Document {
        var uri: String
        var bytes: [UInt8]
        var version: Int?
    }

    /// One file of the last check: where it came from and how to turn its spans into positions.
    struct CheckedFile {
        var uri: String
        var file: SourceFile
        var lines: LineIndex
        var version: Int?
    }

    /// The absolute paths of the workspace folders.
    var roots: [String] = []
    /// Open documents by URI.
    var documents: [String: Document] = [:]
    /// The `.rules` files found under the roots (absolute paths), and the bytes read of each.
    var diskFiles: [String] = []
    var diskCache: [String: [UInt8]] = [:]

    /// The result of the last ``check()``, and its files by URI and by identity.
    var checked: CheckedRuleSet?
    var files: [String: CheckedFile] = [:]
    var uriOfFile: [ObjectIdentifier: String] = [:]

    /// Directories not searched: version control, build output, dependencies.
    static let skippedDirectories: Set<String> = ["node_modules", "Pods", "DerivedData"]
    /// At most this many files are read from disk, and this many directory entries looked at, so a root of `/`
    /// does not read the machine or hold up the server (found by attacking it: a root of `/` walked the whole
    /// filesystem before answering anything).
    static let maxDiskFiles = 5_000
    static let maxEntries = 50_000

    /// A directory, by device and inode: a symbolic link back up the tree is walked once, not again and again.
    struct DirectoryID: Hashable {
        var device: UInt64
        var inode: UInt64
    }

    /// Finds the `.rules` files under the roots again, forgetting what was read of them.
    mutating func rescan() {
        var found: [String] = []
        var visited = Set<DirectoryID>()
        var budget = Self.maxEntries
        for root in roots { Self.walk(root, depth: 0, into: &found, visited: &visited, budget: &budget) }
        // One path per file: a file reached through a symbolic link and by its own path is one file.
        var seen = Set<String>()
        diskFiles = found.sorted().filter { seen.insert(Self.canonical($0)).inserted }
        diskCanonical = Dictionary(uniqueKeysWithValues: diskFiles.map { ($0, Self.canonical($0)) })
        diskCache = [:]
    }

    /// The canonical disk files' paths (symbolic links resolved), by path.
    var diskCanonical: [String: String] = [:]

    /// `path` with symbolic links resolved, or as it is when it cannot be.
    static func canonical(_ path: String) -> String {
        guard let resolved = realpath(FileName.cString(path), nil) else { return path }
        defer { free(resolved) }
        return FileName.decode(UnsafeRawBufferPointer(start: resolved, count: strlen(resolved)))
    }

    /// Forgets what was read of the file at `path`, so the next check reads it again.
    mutating func refresh(path: String) {
        diskCache[path] = nil
        if !diskFiles.contains(path), roots.contains(where: { path.hasPrefix($0.hasSuffix("/") ? $0 : $0 + "/") }),
            path.hasSuffix(".rules")
        {
            diskFiles = (diskFiles + [path]).sorted()
            diskCanonical[path] = Self.canonical(path)
        }
    }

    static func walk(
        _ directory: String, depth: Int, into found: inout [String], visited: inout Set<DirectoryID>,
        budget: inout Int
    ) {
        var own = stat()
        guard depth < 32, found.count < maxDiskFiles, budget > 0, stat(FileName.cString(directory), &own) == 0,
            visited.insert(DirectoryID(device: UInt64(own.st_dev), inode: UInt64(own.st_ino))).inserted,
            let stream = opendir(FileName.cString(directory))
        else { return }
        var entries: [String] = []
        while budget > 0, let entry = readdir(stream) {
            budget -= 1
            // By its bytes, as the rule-set loader reads a directory: a name decoded lossily names no file, or
            // (U+10FFE9 in UTF-8 taken for the raw byte 0xE9) another one.
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                FileName.decode(UnsafeRawBufferPointer(rebasing: raw.prefix { $0 != 0 }))
            }
            if !name.hasPrefix("."), !skippedDirectories.contains(name) { entries.append(name) }
        }
        closedir(stream)
        for name in entries.sorted() {
            let path = directory.hasSuffix("/") ? directory + name : directory + "/" + name
            var info = stat()
            guard stat(FileName.cString(path), &info) == 0 else { continue }
            if info.st_mode & S_IFMT == S_IFDIR {
                walk(path, depth: depth + 1, into: &found, visited: &visited, budget: &budget)
            } else if info.st_mode & S_IFMT == S_IFREG, name.hasSuffix(".rules"), found.count < maxDiskFiles {
                found.append(path)
            }
        }
    }

    /// The path shown in messages for `path`: relative to the root it is under, as `rules check` run there shows
    /// it, else as it is.
    func displayPath(_ path: String) -> String {
        for root in roots {
            let prefix = root.hasSuffix("/") ? root : root + "/"
            if path.hasPrefix(prefix), path.count > prefix.count { return String(path.dropFirst(prefix.count)) }
        }
        return path
    }

    /// Checks the whole workspace as one rule set: open documents as the editor has them, other files as read
    /// from disk (once, until ``refresh(path:)`` or ``rescan()``), in path order as the loader orders them.
    mutating func check() {
        var entries: [(path: String, uri: String, bytes: [UInt8], version: Int?)] = []
        var openPaths = Set<String>()
        for document in documents.values {
            let path = DocumentURI.path(document.uri) ?? document.uri
            openPaths.insert(path)
            openPaths.insert(Self.canonical(path))
            entries.append((path, document.uri, document.bytes, document.version))
        }
        for path in diskFiles where !openPaths.contains(path) && !openPaths.contains(diskCanonical[path] ?? path) {
            if diskCache[path] == nil { diskCache[path] = try? RuleSetLoader.read(path) }
            guard let bytes = diskCache[path] else { continue }
            entries.append((path, DocumentURI.uri(path), bytes, nil))
        }
        entries.sort { $0.path < $1.path }
        files = [:]
        uriOfFile = [:]
        var sources: [SourceFile] = []
        for entry in entries {
            let file = SourceFile(path: displayPath(entry.path), bytes: entry.bytes)
            sources.append(file)
            files[entry.uri] = CheckedFile(
                uri: entry.uri, file: file, lines: LineIndex(entry.bytes), version: entry.version)
            uriOfFile[ObjectIdentifier(file)] = entry.uri
        }
        checked = Checker.check(sources)
    }

    /// The URI of a file of the last check.
    func uri(of file: SourceFile) -> String? { uriOfFile[ObjectIdentifier(file)] }

    /// Every role the rules of the last check assign or revoke (or except from `revoke all`), with where. By the
    /// name's bytes (``ExactString``): `"caf\u{E9}"` and `"cafe\u{301}"` are two roles, with mentions of their own.
    func roleMentions() -> [ExactString: [RoleMention]] {
        var mentions: [ExactString: [RoleMention]] = [:]
        for rule in checked?.rules ?? [] {
            for action in rule.rule.actions {
                switch action.kind {
                case .assign(let roles):
                    for role in roles {
                        mentions[ExactString(role.name), default: []].append(RoleMention(rule, role, .assign))
                    }
                case .revoke(let roles):
                    for role in roles {
                        mentions[ExactString(role.name), default: []].append(RoleMention(rule, role, .revoke))
                    }
                case .revokeAll(let except):
                    for role in except {
                        mentions[ExactString(role.name), default: []].append(RoleMention(rule, role, .except))
                    }
                case .stop:
                    break
                }
            }
        }
        return mentions
    }
}

/// A role written in a rule's action.
struct RoleMention {
    enum Kind { case assign, revoke, except }
    var ruleName: String
    var file: SourceFile
    var span: Span
    var ruleSpan: Span
    var kind: Kind

    init(_ rule: CheckedRule, _ role: Role, _ kind: Kind) {
        ruleName = rule.name
        file = rule.rule.file
        span = role.span
        ruleSpan = rule.rule.nameSpan ?? rule.rule.span
        self.kind = kind
    }
}
