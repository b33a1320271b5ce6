// libyaml, as Yams bundles it. Yams composes a whole document into nodes before a caller sees any of it, and
// composing an alias used as a mapping key hashes the expanded node (exponential in the nesting of aliases), so
// a 500-byte suite could hang the loader before it could refuse the alias. Reading libyaml's event stream first
// sees each alias as one event, unexpanded. Importing Yams' own copy (not a second libyaml from the system)
// keeps one libyaml in the binary.
import CYaml

/// Finds YAML aliases (`*name`) in a document without expanding them.
enum YAMLAliasScan {
    /// The 1-based line and column of the first alias in `text`, or nil when there is none or the text is not
    /// well-formed YAML (the composer then reports the syntax error with its own position).
    static func firstAlias(in text: String) -> (line: Int, column: Int)? {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else { return nil }
        defer { yaml_parser_delete(&parser) }
        var bytes = Array(text.utf8)
        return bytes.withUnsafeMutableBufferPointer { buffer -> (line: Int, column: Int)? in
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            var event = yaml_event_t()
            while yaml_parser_parse(&parser, &event) == 1 {
                defer { yaml_event_delete(&event) }
                switch event.type {
                case YAML_ALIAS_EVENT:
                    return (Int(event.start_mark.line) + 1, Int(event.start_mark.column) + 1)
                case YAML_STREAM_END_EVENT:
                    return nil
                default:
                    continue
                }
            }
            return nil
        }
    }
}
