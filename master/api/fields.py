"""Field selectors (``?fieldSelector=spec.nodeName=pi-1,status.phase!=Succeeded``).

Terms are ``field=value``, ``field==value`` or ``field!=value`` joined by commas; ``\\,``,
``\\=`` and ``\\\\`` escape those characters in values, as in Kubernetes. A selector matches an
object's ``Strategy.field_attrs`` dict; ``unsupported(allowed)`` lists the fields a resource
cannot select on, which the apiserver answers with 400 ``field label not supported: <field>``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

__all__ = ["FieldRequirement", "FieldSelector", "FieldSelectorError", "parse"]


class FieldSelectorError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class FieldRequirement:
    field: str
    operator: str  # "=", "==" or "!="
    value: str

    def matches(self, attrs: Mapping[str, str]) -> bool:
        have = attrs.get(self.field, "")
        return have != self.value if self.operator == "!=" else have == self.value

    def __str__(self) -> str:
        return f"{self.field}{self.operator}{_escape(self.value)}"


@dataclass(frozen=True, slots=True)
class FieldSelector:
    requirements: tuple[FieldRequirement, ...] = ()

    def empty(self) -> bool:
        return not self.requirements

    def matches(self, attrs: Mapping[str, str]) -> bool:
        return all(r.matches(attrs) for r in self.requirements)

    def unsupported(self, allowed: Collection[str]) -> list[str]:
        return [r.field for r in self.requirements if r.field not in allowed]

    def exact_value(self, name: str) -> str | None:
        """The value ``name`` must equal, when pinned (``spec.nodeName=pi-1``), for index lookups."""
        for r in self.requirements:
            if r.field == name and r.operator != "!=":
                return r.value
        return None

    def __str__(self) -> str:
        return ",".join(str(r) for r in self.requirements)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace(",", "\\,").replace("=", "\\=")


def _split_terms(text: str) -> list[str]:
    terms: list[str] = []
    cur: list[str] = []
    escaped = False
    for ch in text:
        if escaped:
            cur.append("\\" + ch)
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == ",":
            terms.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    if escaped:
        cur.append("\\")
    terms.append("".join(cur))
    return terms


def _unescape(value: str, whole: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(value):
        ch = value[i]
        if ch == "\\":
            if i + 1 >= len(value) or value[i + 1] not in "\\,=":
                raise FieldSelectorError(f"invalid field selector: '{whole}': invalid escape sequence")
            out.append(value[i + 1])
            i += 2
            continue
        if ch in ",=":
            raise FieldSelectorError(f"invalid field selector: '{whole}': unescaped '{ch}' in value")
        out.append(ch)
        i += 1
    return "".join(out)


def _find_operator(term: str) -> tuple[int, str] | None:
    i = 0
    while i < len(term):
        ch = term[i]
        if ch == "\\":
            i += 2
            continue
        if term.startswith("!=", i):
            return i, "!="
        if term.startswith("==", i):
            return i, "=="
        if ch == "=":
            return i, "="
        i += 1
    return None


def parse(text: str) -> FieldSelector:
    if not text.strip():
        return FieldSelector()
    reqs: list[FieldRequirement] = []
    for term in _split_terms(text):
        if not term:
            continue
        found = _find_operator(term)
        if found is None:
            raise FieldSelectorError(f"invalid selector: '{text}'; can't understand '{term}'")
        at, op = found
        name = term[:at].strip()
        if not name:
            raise FieldSelectorError(f"invalid selector: '{text}'; can't understand '{term}'")
        reqs.append(FieldRequirement(name, op, _unescape(term[at + len(op) :], text)))
    return FieldSelector(tuple(reqs))
