/// A problem found in a rule set, with where it is and what to do about it.
///
/// Wording follows one convention (see `DiagnosticCatalogue.swift`): lowercase, no final period, one line,
/// user input in backticks, advice in ``help``.
public struct Diagnostic: Sendable, Hashable {
    /// How bad it is.
    public enum Severity: String, Sendable, Hashable, Comparable {
        case error
        case warning
        case note

        public static func < (lhs: Severity, rhs: Severity) -> Bool { lhs.rank < rhs.rank }
        var rank: Int {
            switch self {
            case .error: 0
            case .warning: 1
            case .note: 2
            }
        }
    }

    /// Error or warning.
    public var severity: Severity
    /// A stable identifier tools can match on, e.g. `unknown-field`.
    public var code: DiagnosticCode
    /// The one-line message.
    public var message: String
    /// The file the problem is in.
    public var file: SourceFile
    /// The text the caret underline covers.
    public var span: Span
    /// Advice, often a did-you-mean; printed as a `help:` line.
    public var help: String?
    /// Related places, such as the first definition of a duplicated rule name.
    public var notes: [Note]
    /// The edit a did-you-mean stands for, when there is one: editors offer it as a quick fix.
    public var fix: Fix?

    /// A replacement of source text that fixes the problem: `replacement` written over `span` of ``file``.
    public struct Fix: Sendable, Hashable {
        /// The text to write.
        public var replacement: String
        /// What it replaces.
        public var span: Span

        /// A fix writing `replacement` over `span`.
        public init(replacement: String, span: Span) {
            self.replacement = replacement
            self.span = span
        }
    }

    /// A secondary message attached to a diagnostic, optionally pointing at source.
    public struct Note: Sendable, Hashable {
        /// What the note says.
        public var message: String
        /// Where it points, if anywhere.
        public var file: SourceFile?
        /// The span it underlines.
        public var span: Span?

        public static func == (lhs: Note, rhs: Note) -> Bool {
            lhs.message == rhs.message && lhs.file === rhs.file && lhs.span == rhs.span
        }
        public func hash(into hasher: inout Hasher) {
            hasher.combine(message)
            hasher.combine(span)
        }
    }

    /// Creates a diagnostic.
    public init(
        _ severity: Severity, _ code: DiagnosticCode, _ message: String, file: SourceFile, span: Span,
        help: String? = nil, notes: [Note] = [], fix: Fix? = nil
    ) {
        self.severity = severity
        self.code = code
        self.message = message
        self.file = file
        self.span = span
        self.help = help
        self.notes = notes
        self.fix = fix
    }

    /// Line and column where the underline starts.
    public var location: SourceFile.Location { file.location(of: span.start) }

    /// The text the diagnostic underlines.
    public var underlinedText: String { file.text(span) }

    public static func == (lhs: Diagnostic, rhs: Diagnostic) -> Bool {
        lhs.severity == rhs.severity && lhs.code == rhs.code && lhs.message == rhs.message
            && lhs.file === rhs.file && lhs.span == rhs.span && lhs.help == rhs.help && lhs.notes == rhs.notes
    }
    public func hash(into hasher: inout Hasher) {
        hasher.combine(code)
        hasher.combine(span)
        hasher.combine(message)
    }
}

/// Orders diagnostics for output: by file (in rule-set order), then position, then severity.
public func sortDiagnostics(_ diagnostics: [Diagnostic], fileOrder: [String]) -> [Diagnostic] {
    guard diagnostics.count > 1 else { return diagnostics }
    var rank: [String: Int] = [:]
    for (index, path) in fileOrder.enumerated() where rank[path] == nil { rank[path] = index }
    // Each diagnostic's file rank is looked up once, not at every comparison.
    let ranks = diagnostics.map { rank[$0.file.path] ?? Int.max }
    return diagnostics.indices.sorted { a, b in
        if ranks[a] != ranks[b] { return ranks[a] < ranks[b] }
        let (x, y) = (diagnostics[a], diagnostics[b])
        // Files of one rank have equal paths, unless both are outside `fileOrder`.
        if ranks[a] == Int.max, x.file.path != y.file.path { return x.file.path < y.file.path }
        if x.span.start != y.span.start { return x.span.start < y.span.start }
        if x.severity != y.severity { return x.severity < y.severity }
        return a < b
    }.map { diagnostics[$0] }
}
