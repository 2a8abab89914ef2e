"""The JSONPath templates of ``-o jsonpath=...`` and ``-o custom-columns=...``, kubectl's subset.

A template is text with ``{...}`` actions::

    {.metadata.name}                                   a field
    {.items[*].metadata.name}                          every item's name, joined by spaces
    {.items[0].spec.containers[-1].image}              indexes, negative from the end
    {.items[1:3]}  {.items[*]['metadata']}             slices, quoted keys
    {..image}                                          recursive descent
    {.items[?(@.status.phase=="Running")].metadata.name}   filters: == != < <= > >= or existence
    {range .items[*]}{.metadata.name}{"\\n"}{end}        range over results, string literals
    {.metadata.labels.app\\.kubernetes\\.io/name}         escaped dots in keys

Missing keys give no output (kubectl's default ``--allow-missing-template-keys``). Scalars print
as themselves (true/false, numbers without ".0"), objects and lists as JSON.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

__all__ = ["JSONPathError", "Step", "Template", "evaluate", "parse_path", "text"]


class JSONPathError(ValueError):
    """A template that does not parse."""


# ---- paths ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Field:
    name: str  # "*" for every value


@dataclass(frozen=True, slots=True)
class _Recursive:
    name: str


@dataclass(frozen=True, slots=True)
class _Index:
    start: int | None
    end: int | None
    single: bool


@dataclass(frozen=True, slots=True)
class _Filter:
    path: tuple[Any, ...]
    op: str  # "" for existence
    value: Any


Step = _Field | _Recursive | _Index | _Filter

_NAME = re.compile(r"(?:\\.|[^.\[\]\\ ])+")
_FILTER = re.compile(r"\?\(\s*@((?:[^=!<>\s)])*)\s*(?:(==|!=|<=|>=|<|>)\s*(.+?))?\s*\)$")


def parse_path(text: str) -> tuple[Step, ...]:
    """Steps of a path such as ``.items[*].metadata.name`` (a leading ``$`` or ``@`` is the root)."""
    s = text.strip()
    if s[:1] in ("$", "@"):
        s = s[1:]
    steps: list[Step] = []
    i = 0
    while i < len(s):
        if s.startswith("..", i):
            m = _NAME.match(s, i + 2)
            if not m:
                raise JSONPathError(f"bad recursive descent at {s[i:]!r}")
            steps.append(_Recursive(_unescape(m.group())))
            i = m.end()
        elif s[i] == ".":
            if i + 1 == len(s):
                i += 1
                continue
            m = _NAME.match(s, i + 1)
            if not m:
                raise JSONPathError(f"unexpected {s[i + 1:i + 2]!r} in {text!r}")
            steps.append(_Field(_unescape(m.group())))
            i = m.end()
        elif s[i] == "[":
            end = _closing(s, i)
            steps.append(_bracket(s[i + 1:end], text))
            i = end + 1
        else:
            m = _NAME.match(s, i)
            if not m or steps:
                raise JSONPathError(f"unexpected {s[i:i + 1]!r} in {text!r}")
            steps.append(_Field(_unescape(m.group())))
            i = m.end()
    return tuple(steps)


def _unescape(name: str) -> str:
    return name.replace("\\.", ".")


def _closing(s: str, i: int) -> int:
    depth, quote = 0, ""
    for j in range(i, len(s)):
        c = s[j]
        if quote:
            if c == quote:
                quote = ""
        elif c in "'\"":
            quote = c
        elif c == "[":
            depth += 1
        elif c == "]":
            depth -= 1
            if depth == 0:
                return j
    raise JSONPathError(f"unclosed [ in {s!r}")


def _bracket(inner: str, text: str) -> Step:
    inner = inner.strip()
    if inner == "*":
        return _Field("*")
    if len(inner) >= 2 and inner[0] == inner[-1] and inner[0] in "'\"":
        return _Field(inner[1:-1])
    if inner.startswith("?"):
        m = _FILTER.match(inner)
        if not m:
            raise JSONPathError(f"bad filter [{inner}] in {text!r}")
        path, op, raw = m.group(1), m.group(2) or "", m.group(3)
        return _Filter(parse_path(path) if path else (), op, _literal(raw) if op else None)
    try:
        if ":" in inner:
            a, _, b = inner.partition(":")
            b = b.split(":", 1)[0]
            return _Index(int(a) if a.strip() else None, int(b) if b.strip() else None, False)
        n = int(inner)
    except ValueError:
        raise JSONPathError(f"bad index [{inner}] in {text!r}") from None
    return _Index(n, None, True)


def _literal(raw: str | None) -> Any:
    raw = (raw or "").strip()
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "'\"":
        return raw[1:-1]
    if raw in ("true", "false"):
        return raw == "true"
    try:
        return float(raw) if "." in raw else int(raw)
    except ValueError:
        return raw


def _apply(step: Step, values: list[Any]) -> list[Any]:
    out: list[Any] = []
    for v in values:
        if isinstance(step, _Field):
            if step.name == "*":
                out.extend(v.values() if isinstance(v, dict) else v if isinstance(v, list) else [])
            elif isinstance(v, dict) and step.name in v:
                out.append(v[step.name])
        elif isinstance(step, _Recursive):
            out.extend(_descend(v, step.name))
        elif isinstance(step, _Index):
            if not isinstance(v, list):
                continue
            if step.single:
                n = step.start or 0
                if -len(v) <= n < len(v):
                    out.append(v[n])
            else:
                out.extend(v[step.start:step.end])
        else:
            items = v if isinstance(v, list) else list(v.values()) if isinstance(v, dict) else []
            out.extend(x for x in items if _matches(step, x))
    return out


def _descend(v: Any, name: str) -> list[Any]:
    out: list[Any] = []
    if isinstance(v, dict):
        if name in v:
            out.append(v[name])
        for child in v.values():
            out.extend(_descend(child, name))
    elif isinstance(v, list):
        for child in v:
            out.extend(_descend(child, name))
    return out


def _matches(f: _Filter, item: Any) -> bool:
    found = evaluate(f.path, item)
    if not f.op:
        return bool(found)
    if not found:
        return False
    left, right = found[0], f.value
    try:
        if f.op == "==":
            return bool(left == right or str(left) == str(right))
        if f.op == "!=":
            return bool(left != right and str(left) != str(right))
        if isinstance(left, str) != isinstance(right, str):
            return False
        return bool({"<": left < right, "<=": left <= right, ">": left > right, ">=": left >= right}[f.op])
    except TypeError:
        return False


def evaluate(steps: tuple[Step, ...], root: Any) -> list[Any]:
    values = [root]
    for step in steps:
        values = _apply(step, values)
    return values


def text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return "" if value is None else str(value)


# ---- templates ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Text:
    value: str


@dataclass(frozen=True, slots=True)
class _Expr:
    steps: tuple[Step, ...]


@dataclass(frozen=True, slots=True)
class _Range:
    steps: tuple[Step, ...]
    body: tuple[Any, ...]


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'"}


class Template:
    """A parsed template: ``Template("{.metadata.name}").render(obj)``."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.nodes, _ = self._parse(self._actions(source), 0, top=True)

    @staticmethod
    def _actions(source: str) -> list[tuple[bool, str]]:
        """(is_action, text) pieces; ``{`` inside quotes does not end an action."""
        out: list[tuple[bool, str]] = []
        i = 0
        while i < len(source):
            start = source.find("{", i)
            if start < 0:
                out.append((False, source[i:]))
                break
            if start > i:
                out.append((False, source[i:start]))
            j, quote = start + 1, ""
            while j < len(source):
                c = source[j]
                if quote:
                    if c == "\\":
                        j += 1
                    elif c == quote:
                        quote = ""
                elif c in "'\"":
                    quote = c
                elif c == "}":
                    break
                j += 1
            if j >= len(source):
                raise JSONPathError(f"unclosed action in {source!r}")
            out.append((True, source[start + 1:j].strip()))
            i = j + 1
        return out

    def _parse(self, pieces: list[tuple[bool, str]], i: int, *, top: bool) -> tuple[tuple[Any, ...], int]:
        nodes: list[Any] = []
        while i < len(pieces):
            is_action, body = pieces[i]
            i += 1
            if not is_action:
                nodes.append(_Text(body))
            elif body == "end":
                if top:
                    raise JSONPathError(f"{{end}} without {{range}} in {self.source!r}")
                return tuple(nodes), i
            elif body.startswith("range "):
                inner, i = self._parse(pieces, i, top=False)
                nodes.append(_Range(parse_path(body[len("range "):]), inner))
            elif body[:1] in "'\"":
                nodes.append(_Text(_string(body, self.source)))
            elif body:
                nodes.append(_Expr(parse_path(body)))
        if not top:
            raise JSONPathError(f"{{range}} without {{end}} in {self.source!r}")
        return tuple(nodes), i

    def render(self, root: Any) -> str:
        return "".join(self._render(self.nodes, root))

    def _render(self, nodes: tuple[Any, ...], root: Any) -> list[str]:
        out: list[str] = []
        for node in nodes:
            if isinstance(node, _Text):
                out.append(node.value)
            elif isinstance(node, _Expr):
                out.append(" ".join(text(v) for v in evaluate(node.steps, root)))
            else:
                for item in evaluate(node.steps, root):
                    out.extend(self._render(node.body, item))
        return out


def _string(body: str, source: str) -> str:
    quote = body[0]
    if len(body) < 2 or body[-1] != quote:
        raise JSONPathError(f"unterminated string {body!r} in {source!r}")
    raw, out, i = body[1:-1], [], 0
    while i < len(raw):
        if raw[i] == "\\" and i + 1 < len(raw):
            out.append(_ESCAPES.get(raw[i + 1], raw[i + 1]))
            i += 2
        else:
            out.append(raw[i])
            i += 1
    return "".join(out)
