"""Label selectors: the string syntax of ``?labelSelector=``, structured ``LabelSelector``s,
matching, and rendering.

The grammar is Kubernetes' (``labels.Parse``)::

    selector    = requirement ("," requirement)*
    requirement = "!" key                      DoesNotExist
                | key                          Exists
                | key ("=" | "==" | "!=") value
                | key ("in" | "notin") "(" value ("," value)* ")"
                | key (">" | "<") integer

    >>> s = parse("tier in (web,api), env!=prod, !canary")
    >>> s.matches({"tier": "web", "env": "dev"})
    True
    >>> str(s)
    '!canary,env!=prod,tier in (api,web)'

Requirements are kept sorted by key, as Kubernetes renders them. An empty selector matches
everything; ``Selector.nothing()`` (a nil LabelSelector) matches nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from master.api import field, validation
from master.api.field import FieldError
from master.api.meta import LabelSelector, LabelSelectorRequirement

__all__ = [
    "Requirement",
    "Selector",
    "SelectorError",
    "from_label_selector",
    "from_set",
    "parse",
    "validate_label_selector",
]

IN = "in"
NOT_IN = "notin"
EQUALS = "="
DOUBLE_EQUALS = "=="
NOT_EQUALS = "!="
EXISTS = "exists"
DOES_NOT_EXIST = "!"
GREATER_THAN = "gt"
LESS_THAN = "lt"

_SET_OPS = {IN, NOT_IN}
_EQ_OPS = {EQUALS, DOUBLE_EQUALS, NOT_EQUALS}


class SelectorError(ValueError):
    """A selector that does not parse or names an invalid key or value."""


@dataclass(frozen=True, slots=True)
class Requirement:
    key: str
    operator: str
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        op = self.operator
        if op in (IN, EQUALS, DOUBLE_EQUALS):
            v = labels.get(self.key)
            return v is not None and v in self.values
        if op in (NOT_IN, NOT_EQUALS):
            v = labels.get(self.key)
            return v is None or v not in self.values
        if op == EXISTS:
            return self.key in labels
        if op == DOES_NOT_EXIST:
            return self.key not in labels
        v = labels.get(self.key)
        if v is None:
            return False
        try:
            have, want = int(v), int(self.values[0])
        except ValueError:
            return False
        return have > want if op == GREATER_THAN else have < want

    def __str__(self) -> str:
        op = self.operator
        if op == EXISTS:
            return self.key
        if op == DOES_NOT_EXIST:
            return f"!{self.key}"
        if op in _SET_OPS:
            return f"{self.key} {op} ({','.join(sorted(self.values))})"
        if op == GREATER_THAN:
            return f"{self.key}>{self.values[0]}"
        if op == LESS_THAN:
            return f"{self.key}<{self.values[0]}"
        return f"{self.key}{op}{self.values[0]}"


@dataclass(frozen=True, slots=True)
class Selector:
    requirements: tuple[Requirement, ...] = ()
    _nothing: bool = False

    @classmethod
    def everything(cls) -> Selector:
        return cls()

    @classmethod
    def nothing(cls) -> Selector:
        return cls(_nothing=True)

    def empty(self) -> bool:
        """True when it selects everything."""
        return not self.requirements and not self._nothing

    def matches(self, labels: Mapping[str, str] | None) -> bool:
        if self._nothing:
            return False
        lbls = labels or {}
        return all(r.matches(lbls) for r in self.requirements)

    def exact_value(self, key: str) -> str | None:
        """The value ``key`` must equal, when the selector pins one (for index lookups)."""
        for r in self.requirements:
            if r.key == key and r.operator in (EQUALS, DOUBLE_EQUALS, IN) and len(r.values) == 1:
                return r.values[0]
        return None

    def __str__(self) -> str:
        return ",".join(str(r) for r in self.requirements)


def _new_requirement(key: str, op: str, values: Iterable[str]) -> Requirement:
    vals = tuple(values)
    msgs = validation.is_qualified_name(key)
    if msgs:
        raise SelectorError(f'key: Invalid value: "{key}": {"; ".join(msgs)}')
    if op in _SET_OPS and not vals:
        raise SelectorError("for 'in', 'notin' operators, values set can't be empty")
    if op in _EQ_OPS and len(vals) != 1:
        raise SelectorError("exact-match compatibility requires one single value")
    if op in (EXISTS, DOES_NOT_EXIST) and vals:
        raise SelectorError("values set must be empty for exists and does not exist")
    if op in (GREATER_THAN, LESS_THAN):
        if len(vals) != 1:
            raise SelectorError("for 'Gt', 'Lt' operators, exactly one value is required")
        try:
            int(vals[0])
        except ValueError:
            raise SelectorError(
                f"for 'Gt', 'Lt' operators, the value must be an integer: {vals[0]}"
            ) from None
    else:
        for v in vals:
            msgs = validation.is_valid_label_value(v)
            if msgs:
                raise SelectorError(f'values[0][{key}]: Invalid value: "{v}": {"; ".join(msgs)}')
    return Requirement(key, op, vals)


def _sorted(reqs: Iterable[Requirement]) -> tuple[Requirement, ...]:
    return tuple(sorted(reqs, key=lambda r: r.key))


def from_set(labels: Mapping[str, str]) -> Selector:
    """key=value for every pair (what a Service's selector means)."""
    return Selector(_sorted(Requirement(k, EQUALS, (v,)) for k, v in labels.items()))


def from_label_selector(ls: LabelSelector | None) -> Selector:
    """The matcher of a structured selector: None selects nothing, {} everything."""
    if ls is None:
        return Selector.nothing()
    reqs = [_new_requirement(k, EQUALS, (v,)) for k, v in ls.match_labels.items()]
    ops = {"In": IN, "NotIn": NOT_IN, "Exists": EXISTS, "DoesNotExist": DOES_NOT_EXIST}
    for expr in ls.match_expressions:
        op = ops.get(expr.operator)
        if op is None:
            raise SelectorError(f'"{expr.operator}" is not a valid label selector operator')
        reqs.append(_new_requirement(expr.key, op, expr.values))
    return Selector(_sorted(reqs))


def to_label_selector(s: Selector) -> LabelSelector:
    """The structured form (matchLabels for equality, matchExpressions for the rest)."""
    match_labels: dict[str, str] = {}
    exprs: list[LabelSelectorRequirement] = []
    names = {IN: "In", NOT_IN: "NotIn", EXISTS: "Exists", DOES_NOT_EXIST: "DoesNotExist"}
    for r in s.requirements:
        if r.operator in (EQUALS, DOUBLE_EQUALS):
            match_labels[r.key] = r.values[0]
        elif r.operator == NOT_EQUALS:
            exprs.append(LabelSelectorRequirement(key=r.key, operator="NotIn", values=list(r.values)))
        elif r.operator in names:
            exprs.append(LabelSelectorRequirement(key=r.key, operator=names[r.operator], values=list(r.values)))
        else:
            raise SelectorError(f"operator {r.operator!r} has no LabelSelector form")
    return LabelSelector(match_labels=match_labels, match_expressions=exprs)


# The string syntax.

_SPECIAL = "!=,()<>"


def _tokens(text: str) -> list[str]:
    """Identifiers and operators; whitespace separates, operator characters split."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch in _SPECIAL:
            two = text[i : i + 2]
            if two in ("==", "!="):
                out.append(two)
                i += 2
            else:
                out.append(ch)
                i += 1
        else:
            j = i
            while j < n and not text[j].isspace() and text[j] not in _SPECIAL:
                j += 1
            out.append(text[i:j])
            i = j
    return out


class _Parser:
    def __init__(self, text: str) -> None:
        self.toks = _tokens(text)
        self.pos = 0

    def peek(self) -> str | None:
        return self.toks[self.pos] if self.pos < len(self.toks) else None

    def take(self) -> str | None:
        tok = self.peek()
        self.pos += 1
        return tok

    @staticmethod
    def is_identifier(tok: str | None) -> bool:
        return tok is not None and tok not in ("==", "!=") and tok[0] not in _SPECIAL

    def fail(self, found: str | None, expected: str) -> SelectorError:
        return SelectorError(f"found '{found or ''}', expected: {expected}")

    def parse(self) -> Selector:
        reqs: list[Requirement] = []
        if self.peek() is None:
            return Selector()
        while True:
            try:
                reqs.append(self.requirement())
            except SelectorError as exc:
                # As Kubernetes words it: what went wrong inside one requirement, prefixed once.
                raise SelectorError(f"unable to parse requirement: {exc}") from None
            tok = self.take()
            if tok is None:
                break
            if tok != ",":
                raise SelectorError(f"found '{tok}', expected: ',' or 'end of string'")
            if self.peek() is None:
                raise self.fail(None, "identifier after ','")
        return Selector(_sorted(reqs))

    def requirement(self) -> Requirement:
        tok = self.take()
        if tok == "!":
            key = self.take()
            if not self.is_identifier(key):
                raise self.fail(key, "identifier")
            assert key is not None
            return _new_requirement(key, DOES_NOT_EXIST, ())
        if not self.is_identifier(tok):
            raise self.fail(tok, "! or identifier")
        assert tok is not None
        key = tok
        op_tok = self.peek()
        if op_tok is None or op_tok == ",":
            return _new_requirement(key, EXISTS, ())
        self.take()
        if op_tok in ("=", "==", "!="):
            value = self.peek()
            if value is None or value == ",":
                return _new_requirement(key, {"=": EQUALS, "==": DOUBLE_EQUALS}.get(op_tok, NOT_EQUALS), ("",))
            if not self.is_identifier(value):
                raise self.fail(value, "identifier")
            self.take()
            assert value is not None
            return _new_requirement(key, {"=": EQUALS, "==": DOUBLE_EQUALS}.get(op_tok, NOT_EQUALS), (value,))
        if op_tok in (">", "<"):
            value = self.take()
            if not self.is_identifier(value):
                raise self.fail(value, "identifier")
            assert value is not None
            return _new_requirement(key, GREATER_THAN if op_tok == ">" else LESS_THAN, (value,))
        if op_tok in ("in", "notin"):
            return _new_requirement(key, IN if op_tok == "in" else NOT_IN, self.value_set())
        raise self.fail(op_tok, "[!=, ==, =, >, <, in, notin]" if self.is_identifier(op_tok) else "=, !=, ==, in, notin")

    def value_set(self) -> list[str]:
        tok = self.take()
        if tok != "(":
            raise self.fail(tok, "'('")
        values: list[str] = []
        expect_value = True
        while True:
            tok = self.take()
            if tok is None:
                raise self.fail(None, "')'")
            if tok == ")":
                if expect_value and values:
                    values.append("")
                return values
            if tok == ",":
                if expect_value:
                    values.append("")
                expect_value = True
                continue
            if not expect_value or not self.is_identifier(tok):
                raise self.fail(tok, "',' or ')'")
            values.append(tok)
            expect_value = False


def parse(text: str) -> Selector:
    """Parse ``?labelSelector=`` text; raises ``SelectorError`` with Kubernetes' wording."""
    return _Parser(text).parse()


def validate_label_selector(ls: LabelSelector, path: str) -> list[FieldError]:
    """Kubernetes' ValidateLabelSelector: operator and values agree, keys and values are valid."""
    errs = validation.validate_labels(ls.match_labels, field.child(path, "matchLabels"))
    for i, expr in enumerate(ls.match_expressions):
        p = field.index(field.child(path, "matchExpressions"), i)
        if expr.operator in ("In", "NotIn"):
            if not expr.values:
                errs.append(field.required(field.child(p, "values"),
                                           "must be specified when `operator` is 'In' or 'NotIn'"))
        elif expr.operator in ("Exists", "DoesNotExist"):
            if expr.values:
                errs.append(field.forbidden(field.child(p, "values"),
                                            "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"))
        else:
            errs.append(field.not_supported(field.child(p, "operator"), expr.operator,
                                            ("DoesNotExist", "Exists", "In", "NotIn")))
        errs.extend(field.invalid(field.child(p, "key"), expr.key, m) for m in validation.is_qualified_name(expr.key))
        for j, v in enumerate(expr.values):
            errs.extend(field.invalid(field.index(field.child(p, "values"), j), v, m) for m in validation.is_valid_label_value(v))
    return errs
