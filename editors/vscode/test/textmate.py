"""A small TextMate tokenizer, after vscode-textmate's (the engine VS Code runs grammars with), on Oniguruma.

Only what a grammar like syntaxes/rolecall.tmLanguage.json uses: `match` rules, `begin`/`end` rules with
`name`, `contentName`, `captures`, `beginCaptures`, `endCaptures` and `applyEndPatternLast`, `patterns`, and
`include` of `#name`, `$self` and `$base`. As in vscode-textmate, a document is tokenized one line at a time
(each line with its "\n"), the rules in force carry over from line to line, every candidate pattern is searched
at once (an Oniguruma regset: the earliest match wins, the first listed on a tie), the `end` of the innermost
rule comes before its patterns unless `applyEndPatternLast`, `\\G` matches only where the last rule began or
ended, and a rule that would match again without advancing ends the line instead of looping.
Not supported (an error, never silence): `while`, captures with `patterns`, back-references to `begin` in `end`,
injections, and `include` of another grammar.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import onigurumacffi


class UnsupportedGrammar(Exception):
    """The grammar uses something this tokenizer does not implement."""


@dataclass
class Rule:
    """A compiled grammar rule."""

    name: list[str] = field(default_factory=list)
    match: str | None = None
    begin: str | None = None
    end: str | None = None
    content_name: list[str] = field(default_factory=list)
    captures: dict[int, list[str]] = field(default_factory=dict)
    begin_captures: dict[int, list[str]] = field(default_factory=dict)
    end_captures: dict[int, list[str]] = field(default_factory=dict)
    apply_end_pattern_last: bool = False
    patterns: list[Rule] = field(default_factory=list)
    # The match and begin rules reachable through `patterns`, includes followed, in order.
    candidates: list[Rule] = field(default_factory=list)
    regset: object = None


@dataclass
class Token:
    """`text` at `start` of its line, with its scopes, outermost first (the grammar's scope name first)."""

    line: int
    start: int
    text: str
    scopes: list[str]


def _scopes(name: str | None) -> list[str]:
    return name.split() if name else []


def _captures(raw: dict | None) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for key, value in (raw or {}).items():
        if "patterns" in value:
            raise UnsupportedGrammar("captures with patterns")
        out[int(key)] = _scopes(value.get("name"))
    return out


class Grammar:
    """A grammar loaded from its JSON form."""

    def __init__(self, raw: dict) -> None:
        self.scope_name = raw["scopeName"]
        self._raw_repository = raw.get("repository", {})
        self._compiled: dict[int, Rule] = {}
        self.root = Rule(name=[self.scope_name])
        self.root.patterns = [self._rule(p) for p in raw.get("patterns", [])]
        self._resolve(self.root)

    def _rule(self, raw: dict) -> Rule:
        if id(raw) in self._compiled:
            return self._compiled[id(raw)]
        if "while" in raw or "injections" in raw:
            raise UnsupportedGrammar("while and injections")
        if "include" in raw:
            rule = Rule()
            self._compiled[id(raw)] = rule
            target = raw["include"]
            if target in ("$self", "$base"):
                rule.patterns = [self.root]
            elif target.startswith("#"):
                rule.patterns = [self._rule(self._raw_repository[target[1:]])]
            else:
                raise UnsupportedGrammar(f"include of another grammar: {target}")
            return rule
        if "begin" in raw and "end" not in raw:
            raise UnsupportedGrammar("begin without end")
        rule = Rule(
            name=_scopes(raw.get("name")),
            match=raw.get("match"),
            begin=raw.get("begin"),
            end=raw.get("end"),
            content_name=_scopes(raw.get("contentName")),
            apply_end_pattern_last=bool(raw.get("applyEndPatternLast")),
        )
        if rule.end is not None and re.search(r"(?<!\\)\\[1-9]", rule.end):
            raise UnsupportedGrammar("back-references to begin in end")
        rule.captures = _captures(raw.get("captures"))
        rule.begin_captures = _captures(raw.get("beginCaptures")) or rule.captures
        rule.end_captures = _captures(raw.get("endCaptures")) or rule.captures
        self._compiled[id(raw)] = rule
        rule.patterns = [self._rule(p) for p in raw.get("patterns", [])]
        return rule

    def _flatten(self, rules: list[Rule], seen: set[int]) -> list[Rule]:
        out: list[Rule] = []
        for rule in rules:
            if rule.match is not None or rule.begin is not None:
                out.append(rule)
            elif id(rule) not in seen:
                # A container (an include, or a repository entry of patterns only): its patterns in its place.
                out += self._flatten(rule.patterns, seen | {id(rule)})
        return out

    def _resolve(self, rule: Rule) -> None:
        done: set[int] = set()
        todo = [rule]
        while todo:
            current = todo.pop()
            if id(current) in done:
                continue
            done.add(id(current))
            current.candidates = self._flatten(current.patterns, {id(current)})
            todo += current.candidates
            regexes = [c.match if c.match is not None else c.begin for c in current.candidates]
            if current.end is not None:
                if current.apply_end_pattern_last:
                    regexes = regexes + [current.end]
                else:
                    regexes = [current.end] + regexes
            current.regset = onigurumacffi.compile_regset(*regexes) if regexes else None

    def tokenize(self, text: str) -> list[Token]:
        """Every token of `text`, line by line (lines end at "\\r\\n", "\\r" or "\\n", as in VS Code)."""
        tokens: list[Token] = []
        # The stack: (rule, scopes inside it, position it began at on the current line or -1).
        stack: list[tuple[Rule, list[str], int]] = [(self.root, [self.scope_name], -1)]
        for number, line in enumerate(re.split(r"\r\n|\r|\n", text)):
            tokens += self._tokenize_line(number, line, stack)
        return tokens

    def _tokenize_line(self, number: int, line: str, stack: list) -> list[Token]:
        text = line + "\n"
        cells: list[tuple[int, int, list[str]]] = []
        stack[:] = [(rule, scopes, -1) for rule, scopes, _ in stack]
        pos = 0
        anchor = -1
        while True:
            rule, scopes, entered = stack[-1]
            if rule.regset is None:
                cells.append((pos, len(text), scopes))
                break
            flags = onigurumacffi.OnigSearchOption.NONE
            if pos != anchor:
                flags |= onigurumacffi.OnigSearchOption.NOT_BEGIN_POSITION
            index, found = rule.regset.search(text, pos, flags)
            if found is None:
                cells.append((pos, len(text), scopes))
                break
            start, end = found.span()
            if start > pos:
                cells.append((pos, start, scopes))
            is_end = rule.end is not None and index == (
                len(rule.candidates) if rule.apply_end_pattern_last else 0)
            if is_end:
                outer = stack[-2][1]
                # The end match is inside the rule's name, not its contentName.
                cells += _capture_cells(found, outer + rule.name, rule.end_captures)
                stack.pop()
                if end == pos and entered == pos:
                    # Began and ended here without consuming anything: stop, as vscode-textmate does.
                    cells.append((pos, len(text), stack[-1][1]))
                    break
                pos = end
                anchor = end
                continue
            chosen = rule.candidates[index - (0 if rule.apply_end_pattern_last or rule.end is None else 1)]
            if chosen.match is not None:
                cells += _capture_cells(found, scopes + chosen.name, chosen.captures)
                if end == pos:
                    cells.append((pos, len(text), scopes))
                    break
                pos = end
                continue
            # A begin rule.
            cells += _capture_cells(found, scopes + chosen.name, chosen.begin_captures)
            if end == pos and any(r is chosen and e == pos for r, _, e in stack):
                cells.append((pos, len(text), scopes))
                break
            stack.append((chosen, scopes + chosen.name + chosen.content_name, pos))
            pos = end
            anchor = end
        # The "\n" is not part of the line's text.
        tokens = []
        for start, end, scopes in cells:
            end = min(end, len(line))
            if end > start:
                if tokens and tokens[-1].scopes == scopes and tokens[-1].start + len(tokens[-1].text) == start:
                    tokens[-1].text += line[start:end]
                else:
                    tokens.append(Token(number, start, line[start:end], list(scopes)))
        return tokens


def _capture_cells(found, base: list[str], captures: dict[int, list[str]]) -> list[tuple[int, int, list[str]]]:
    """The match split where its captures begin and end, each piece with the scopes of the captures around it
    (groups nest in the order they open, so applying them in index order gives each character its scopes)."""
    start, end = found.span()
    per_char = [list(base) for _ in range(end - start)]
    for group in sorted(captures):
        # A group that did not take part in the match has offset -1 (onigurumacffi's span() does not say so).
        if group >= len(found._begs) or found._begs[group] < 0:
            continue
        g_start, g_end = found.span(group)
        if g_end <= g_start:
            continue
        for i in range(g_start - start, g_end - start):
            per_char[i] += captures[group]
    cells: list[tuple[int, int, list[str]]] = []
    for offset, scopes in enumerate(per_char):
        if cells and cells[-1][2] == scopes:
            cells[-1] = (cells[-1][0], start + offset + 1, scopes)
        else:
            cells.append((start + offset, start + offset + 1, scopes))
    return cells
