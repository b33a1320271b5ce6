"""Checks editors/vscode/syntaxes/rolecall.tmLanguage.json the way VS Code would run it (test/textmate.py, a
tokenizer after vscode-textmate's, on Oniguruma through onigurumacffi):

- every rule file under rules/ and every `(* example:` block of grammar/rolecall.ebnf tokenizes with a scope
  for every token that is not white space, and no `invalid` scope;
- the keywords, functions and event roots of the language (read from Sources/RolecallLanguage, so a new keyword
  or function that the grammar misses fails here) get their scopes;
- a table of lines gets exactly the scopes expected, including what must not happen (a `/` or `#` inside a
  string starting a regex or a comment);
- language-configuration.json keeps a dotted path one word, and package.json names files that exist.

Run by scripts/grammar-test. Prints one line per check and ends with `N passed, M failed`; exits 1 on a failure.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
EXTENSION = HERE.parent
ROOT = EXTENSION.parent.parent
sys.path.insert(0, str(HERE))

import textmate  # noqa: E402

GRAMMAR_PATH = EXTENSION / "syntaxes" / "rolecall.tmLanguage.json"
SCOPE = "source.rolecall"

passed = 0
failed = 0


def report(ok: bool, what: str, details: list[str] | None = None) -> None:
    global passed, failed
    if ok:
        passed += 1
        print(f"ok    {what}")
    else:
        failed += 1
        print(f"FAIL  {what}")
        for line in details or []:
            print(f"      {line}")


def show(token: textmate.Token) -> str:
    return f"{token.line + 1}:{token.start + 1} {token.text!r} {' '.join(token.scopes)}"


# ---------------------------------------------------------------- sources: the rule files and the grammar's examples


def ebnf_examples() -> list[str]:
    """The `(* example:` blocks of grammar/rolecall.ebnf, cut as Tests/RolecallLanguageTests/GrammarTests.swift
    cuts them: from the marker to the next `*)`."""
    text = (ROOT / "grammar" / "rolecall.ebnf").read_text(encoding="utf-8")
    return [part[: part.index("*)")] for part in text.split("(* example:")[1:]]


def check_every_token_has_a_scope(grammar: textmate.Grammar, name: str, source: str) -> None:
    problems = []
    for token in grammar.tokenize(source):
        if not token.text.strip():
            continue
        if token.scopes == [SCOPE]:
            problems.append("no scope: " + show(token))
        elif any(scope.startswith("invalid") for scope in token.scopes):
            problems.append("invalid: " + show(token))
    report(not problems, f"{name}: every token has a scope, none invalid", problems)


# ---------------------------------------------------------------- the language's own lists, from the Swift sources


def swift_enum_cases(path: Path, enum: str, stop: str) -> list[str]:
    """The spellings of the cases of `enum` in `path` (`case a, b` and `case c = "c_d"`), read up to `stop`."""
    text = path.read_text(encoding="utf-8")
    body = text[text.index(f"enum {enum}") :]
    body = body[: body.index(stop)]
    names = []
    for line in body.splitlines():
        line = line.strip()
        if not line.startswith("case "):
            continue
        for item in line[len("case ") :].split(","):
            item = item.strip().replace("`", "")
            spelled = re.search(r'=\s*"([^"]+)"', item)
            names.append(spelled.group(1) if spelled else item.split()[0])
    return names


def swift_keyword_group(group: str) -> list[str]:
    """The keywords of `static let GROUP: [Keyword] = [.a, .b]` in Token.swift, spelt as in source."""
    text = (ROOT / "Sources" / "RolecallLanguage" / "Token.swift").read_text(encoding="utf-8")
    listed = re.search(rf"static let {group}: \[Keyword\] = \[([^\]]*)\]", text).group(1)
    spelling = {"startsWith": "starts_with", "endsWith": "ends_with"}
    return [spelling.get(name, name) for name in re.findall(r"\.`?(\w+)`?", listed)]


def event_roots() -> list[str]:
    """The top-level fields of the event schema (EventSchema.root) and the aliases (logins_count)."""
    text = (ROOT / "Sources" / "RolecallLanguage" / "EventSchema.swift").read_text(encoding="utf-8")
    body = text[text.index("public static let root: FieldType = .object([") :]
    body = body[body.index("[") + 1 : body.index("\n    ])")]
    # The names at bracket depth 0 of the root's dictionary literal, each `"name":`.
    roots = []
    depth = 0
    for match in re.finditer(r'[(\[]|[)\]]|"(\w+)"\s*:', body):
        if match.group(1) is None:
            depth += 1 if match.group(0) in "([" else -1
        elif depth == 0:
            roots.append(match.group(1))
    aliases = re.search(r"aliases: \[String: \[String\]\] = \[(.*)\]", text).group(1)
    roots += re.findall(r'"(\w+)": \[', aliases)
    return roots


def scopes_of(grammar: textmate.Grammar, source: str, text: str) -> list[list[str]]:
    """The scopes of each token inside the first occurrence of `text` in `source`."""
    start = source.index(text)
    return [t.scopes for t in grammar.tokenize(source) if start <= t.start < start + len(text) and t.text.strip()]


def check_language_lists(grammar: textmate.Grammar) -> None:
    keywords = swift_enum_cases(ROOT / "Sources" / "RolecallLanguage" / "Token.swift", "Keyword", "static let")
    structural = swift_keyword_group("structural")
    infix = swift_keyword_group("infix")
    constants = [k for k in keywords if k not in structural and k not in infix]
    report(set(constants) == {"true", "false", "null"}, f"the lexer's keywords are {keywords}",
           [f"keywords neither structural nor infix: {constants}"])
    expected = [(k, "keyword.control.") for k in structural] + [(k, "keyword.operator.word.") for k in infix]
    expected += [(k, "constant.language.") for k in constants]
    functions = swift_enum_cases(ROOT / "Sources" / "RolecallLanguage" / "CheckedRuleSet.swift", "Function", "}")
    report(len(functions) >= 4, f"the checker's functions are {functions}")
    expected += [(f, "support.function.") for f in functions + ["any", "all"]]
    for word, scope in expected:
        # Each in a place where it is that word: keywords alone, functions before "(".
        source = f"{word}(x)" if scope == "support.function." else f"{word} "
        got = scopes_of(grammar, source, word)
        ok = len(got) == 1 and any(s.startswith(scope) for s in got[0])
        report(ok, f"`{word}` is {scope}..", [f"got {got}"])
        field = scopes_of(grammar, f"user.{word} ", word)
        ok = len(field) == 1 and any(s.startswith("variable.other.property.") for s in field[0])
        report(ok, f"`user.{word}`: after a dot `{word}` is a field", [f"got {field}"])

    roots = event_roots()
    report(len(roots) >= 20 and "user" in roots and "logins_count" in roots, f"{len(roots)} event roots read")
    raw = json.loads(GRAMMAR_PATH.read_text(encoding="utf-8"))
    root_rule = next(p["match"] for p in raw["repository"]["path"]["patterns"] if "support.variable" in p.get("name", ""))
    listed = re.search(r"\(\?:([\w|]+)\)", root_rule).group(1).split("|")
    report(sorted(listed) == sorted(roots), "the grammar's event roots are the schema's",
           [f"missing: {sorted(set(roots) - set(listed))}", f"extra: {sorted(set(listed) - set(roots))}"])
    for root in roots:
        got = scopes_of(grammar, f"{root}.x ", root)
        ok = len(got) == 1 and any(s.startswith("support.variable.") for s in got[0])
        if not ok:
            report(False, f"`{root}` is support.variable", [f"got {got}"])


# ---------------------------------------------------------------- a table of exact expectations

# Each case: a source, then (text, scope) pairs, each text looked for from where the one before it starts. Every
# character of the text must have a scope starting with `scope`; a scope starting with "!" must be on none.
CASES: list[tuple[str, list[tuple[str, str]]]] = [
    (
        'rule "x" when user.email matches /@acme\\.com$/i and not user.email_verified assign "staff"',
        [
            ("rule", "keyword.control"),
            ('"x"', "entity.name.function"),
            ('"x"', "string.quoted.double"),
            ("when", "keyword.control"),
            ("user", "support.variable"),
            (".", "punctuation.accessor"),
            ("email", "variable.other.property"),
            ("matches", "keyword.operator.word"),
            ("/@acme\\.com$/i", "string.regexp"),
            ("\\.", "constant.character.escape"),
            ("i", "keyword.other.flag"),
            ("and", "keyword.operator.word"),
            ("not", "keyword.operator.word"),
            ("user", "support.variable"),
            ("email_verified", "variable.other.property"),
            ("assign", "keyword.control"),
            ('"staff"', "string.quoted.double"),
            ('"staff"', "!entity.name"),
        ],
    ),
    (
        "# a comment with / and \"quotes\" and rule assign",
        [("# a comment with / and \"quotes\" and rule assign", "comment.line.number-sign"),
         ("/", "!string.regexp"), ('"quotes"', "!string"), ("rule", "!keyword")],
    ),
    (
        'when user.email ends_with "/#not a comment" assign "a/b" # real',
        [
            ("ends_with", "keyword.operator.word"),
            ('"/#not a comment"', "string.quoted.double"),
            ('"/#not a comment"', "!comment"),
            ('"/#not a comment"', "!string.regexp"),
            ('"a/b"', "string.quoted.double"),
            ('"a/b"', "!string.regexp"),
            ("# real", "comment.line.number-sign"),
        ],
    ),
    (
        'when user.name == "say \\"hi\\" \\u{e9}\\n" assign "q"',
        [
            ('"say \\"hi\\" \\u{e9}\\n"', "string.quoted.double"),
            ('\\"', "constant.character.escape"),
            ('\\"', "constant.character.escape"),
            ("\\u{e9}", "constant.character.escape"),
            ("\\n", "constant.character.escape"),
            ("assign", "keyword.control"),
            ("assign", "!string"),
            ('"q"', "string.quoted.double"),
        ],
    ),
    (
        "let x = [1, 2]",
        [
            ("let", "keyword.control"),
            ("x", "variable.other"),
            ("=", "keyword.operator.assignment"),
            ("[", "punctuation.section.brackets"),
            ("1", "constant.numeric"),
            (",", "punctuation.separator"),
            ("2", "constant.numeric"),
            ("]", "punctuation.section.brackets"),
        ],
    ),
    (
        'when any(user.identities, i, i.provider == "google-oauth2") assign "google"',
        [
            ("any", "support.function"),
            ("(", "punctuation.section.parens"),
            ("user", "support.variable"),
            ("identities", "variable.other.property"),
            (",", "punctuation.separator"),
            ("i", "variable.other"),
            ("i", "variable.other"),
            ("provider", "variable.other.property"),
            ("==", "keyword.operator.comparison"),
            ('"google-oauth2"', "string.quoted.double"),
            (")", "punctuation.section.parens"),
        ],
    ),
    (
        'rule "r" revoke all except "admin", "owner" stop',
        [
            ("revoke", "keyword.control"),
            ("all", "keyword.control"),
            ("except", "keyword.control"),
            ('"admin"', "string.quoted.double"),
            (",", "punctuation.separator"),
            ('"owner"', "string.quoted.double"),
            ("stop", "keyword.control"),
        ],
    ),
    (
        "when all(user.app_metadata.groups, g, g starts_with \"admin-\") and not (all == 1) assign \"a\"",
        [
            ("all", "support.function"),
            ("app_metadata", "variable.other.property"),
            ("starts_with", "keyword.operator.word"),
            ("all", "variable.other"),
        ],
    ),
    (
        'when lower(user.app_metadata["x-team"]) contains "plat" or length(user.identities) > 1 '
        "or days_since(user.created_at) >= 30.5 or logins_count <= -1e3 or x != null or y < 2 assign \"p\"",
        [
            ("lower", "support.function"),
            ("[", "punctuation.section.brackets"),
            ('"x-team"', "string.quoted.double"),
            ("contains", "keyword.operator.word"),
            ("or", "keyword.operator.word"),
            ("length", "support.function"),
            (">", "keyword.operator.comparison"),
            ("days_since", "support.function"),
            (">=", "keyword.operator.comparison"),
            ("30.5", "constant.numeric"),
            ("logins_count", "support.variable"),
            ("<=", "keyword.operator.comparison"),
            ("-", "keyword.operator.arithmetic"),
            ("1e3", "constant.numeric"),
            ("x", "variable.other"),
            ("!=", "keyword.operator.comparison"),
            ("null", "constant.language"),
            ("<", "keyword.operator.comparison"),
        ],
    ),
    (
        # The lexer ends a regex at its first unescaped `/` (Lexer.regex()); `\/` is a slash in the pattern.
        "when user.app_metadata.in == true and user.email matches /a\\/b/imsx assign \"s\"",
        [
            ("in", "variable.other.property"),
            ("true", "constant.language"),
            ("/a\\/b/imsx", "string.regexp"),
            ("\\/", "constant.character.escape"),
            ("imsx", "keyword.other.flag"),
            ("assign", "keyword.control"),
        ],
    ),
    (
        "rule\n  # the name is on the next line\n  \"long name\"\nwhen x\nassign \"a\"",
        [
            ("rule", "keyword.control"),
            ("# the name is on the next line", "comment.line"),
            ('"long name"', "entity.name.function"),
            ("when", "keyword.control"),
        ],
    ),
    (
        "when user.email matches /unterminated\nassign \"a\"",
        [("/unterminated", "string.regexp"), ("assign", "keyword.control"), ("assign", "!string")],
    ),
    (
        'when x == "unterminated\nassign "a"',
        [('"unterminated', "string.quoted.double"), ("assign", "keyword.control"), ("assign", "!string")],
    ),
    # What the lexer reports as errors is marked invalid.
    ("when a && b || !c assign 'x'", [("&&", "invalid.illegal"), ("||", "invalid.illegal"), ("!", "invalid.illegal"),
                                      ("'x'", "invalid")]),
    ("when 1st == 10days assign \"a\"", [("1st", "invalid.illegal"), ("10days", "invalid.illegal")]),
    ("when x matches /a/q assign \"a\"", [("q", "invalid.illegal")]),
    ("when x == \"\\q\" assign \"a\" ; @", [("\\q", "invalid.illegal"), (";", "invalid.illegal"),
                                          ("@", "invalid.illegal")]),
    ("# hidden \u202e text", [("\u202e", "invalid.illegal")]),
]


def check_case(grammar: textmate.Grammar, source: str, expectations: list[tuple[str, str]]) -> None:
    tokens = grammar.tokenize(source)
    lines = source.split("\n")
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line) + 1)
    per_char: dict[int, list[str]] = {}
    for token in tokens:
        for i in range(len(token.text)):
            per_char[offsets[token.line] + token.start + i] = token.scopes
    problems = []
    cursor = 0
    for text, scope in expectations:
        at = source.find(text, cursor)
        if at < 0:
            problems.append(f"{text!r} not found after offset {cursor}")
            continue
        negative = scope.startswith("!")
        wanted = scope.lstrip("!")
        for i in range(at, at + len(text)):
            has = any(s.startswith(wanted) for s in per_char.get(i, []))
            if has == negative:
                problems.append(f"{text!r}: {source[i]!r} at {i} {'has' if negative else 'lacks'} {wanted}: "
                                f"{' '.join(per_char.get(i, []))}")
                break
        # The next expectation is looked for from the start of this one, so that a part of this text can be
        # checked next (the flag of a regex, an escape in a string).
        cursor = at
    shown = source.replace("\n", "\\n").encode("ascii", "backslashreplace").decode()
    report(not problems, f"scopes of: {shown[:100]}", problems)


# ---------------------------------------------------------------- the extension's other files


def check_extension_files() -> None:
    package = json.loads((EXTENSION / "package.json").read_text(encoding="utf-8"))
    contributes = package["contributes"]
    language = contributes["languages"][0]
    files = [package["main"], language["configuration"], contributes["grammars"][0]["path"]]
    missing = [f for f in files if not (EXTENSION / f).is_file()]
    report(not missing, "package.json names files that exist", [f"missing: {missing}"])
    report(
        language["id"] == "rolecall" and ".rules" in language["extensions"]
        and contributes["grammars"][0]["scopeName"] == SCOPE
        and contributes["configuration"]["properties"]["rolecall.serverPath"]["default"] == "rules"
        and package["activationEvents"] == ["onLanguage:rolecall"],
        "package.json: the rolecall language for *.rules, its grammar, rolecall.serverPath, activation",
    )
    config = json.loads((EXTENSION / "language-configuration.json").read_text(encoding="utf-8"))
    report(config["comments"]["lineComment"] == "#", "language-configuration.json: `#` comments")
    # The pattern is a JavaScript regex; this one is also Python's.
    word = re.compile(config["wordPattern"])
    words = [m.group(0) for m in word.finditer('when user.app_metadata.plan == "pro" and x.y_z2 >= -1.5e3')]
    expected = ["when", "user.app_metadata.plan", "pro", "and", "x.y_z2", "1.5e3"]
    report(words == expected, "wordPattern keeps a dotted path one word", [f"words: {words}"])


def main() -> int:
    grammar = textmate.Grammar(json.loads(GRAMMAR_PATH.read_text(encoding="utf-8")))
    rule_files = sorted((ROOT / "rules").rglob("*.rules"))
    report(len(rule_files) >= 2, f"{len(rule_files)} rule files under rules/")
    for path in rule_files:
        check_every_token_has_a_scope(grammar, str(path.relative_to(ROOT)), path.read_text(encoding="utf-8"))
    examples = ebnf_examples()
    report(len(examples) >= 3, f"{len(examples)} examples in grammar/rolecall.ebnf")
    for number, example in enumerate(examples, 1):
        check_every_token_has_a_scope(grammar, f"grammar/rolecall.ebnf example {number}", example)
    check_language_lists(grammar)
    for source, expectations in CASES:
        check_case(grammar, source, expectations)
    check_extension_files()
    print(f"\n{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
