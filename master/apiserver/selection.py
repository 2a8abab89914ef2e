"""labelSelector and fieldSelector query parameters, compiled to predicates over cached objects.

Field selectors accept only the fields a resource declares selectable (metadata.name and
metadata.namespace everywhere, plus e.g. spec.nodeName and status.phase for pods), with
``=``, ``==`` and ``!=``, as Kubernetes does; anything else is 400 BadRequest
("field label not supported: spec.foo").
"""

from __future__ import annotations

import re
from collections.abc import Callable

from master.apiserver import errors
from master.apiserver.registry import Served
from master.apiserver.watchcache import CachedObject

__all__ = ["LabelMatch", "compile_field_selector", "compile_label_selector", "predicate"]

LabelMatch = Callable[[dict[str, str]], bool]
FieldMatch = Callable[[dict[str, str]], bool]

_KEY = re.compile(r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
                  r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$")


def _split_terms(text: str) -> list[str]:
    terms: list[str] = []
    cur: list[str] = []
    depth = 0
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            terms.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
    terms.append("".join(cur).strip())
    return [t for t in terms if t]


def _check_key(key: str, text: str) -> str:
    if not key or not _KEY.match(key) or len(key.rsplit("/", 1)[-1]) > 63:
        raise errors.bad_request(f"unable to parse requirement: invalid label key {key!r} in selector {text!r}")
    return key


def _check_value(value: str, text: str) -> str:
    if len(value) > 63 or not _VALUE.match(value):
        raise errors.bad_request(f"unable to parse requirement: invalid label value {value!r} in selector {text!r}")
    return value


_SET_TERM = re.compile(r"^(?P<key>[^\s!=()]+)\s+(?P<op>in|notin)\s*\((?P<values>[^()]*)\)$")


def _term(term: str, text: str) -> LabelMatch:
    m = _SET_TERM.match(term)
    if m:
        key = _check_key(m["key"], text)
        values = frozenset(_check_value(v.strip(), text) for v in m["values"].split(",") if v.strip())
        if m["op"] == "in":
            return lambda labels: labels.get(key) in values
        return lambda labels: key not in labels or labels[key] not in values
    for op in ("==", "!=", "="):
        if op in term:
            key, _, value = term.partition(op)
            key, value = _check_key(key.strip(), text), _check_value(value.strip(), text)
            if op == "!=":
                return lambda labels: labels.get(key) != value
            return lambda labels: labels.get(key) == value
    if term.startswith("!"):
        key = _check_key(term[1:].strip(), text)
        return lambda labels: key not in labels
    key = _check_key(term, text)
    return lambda labels: key in labels


def compile_label_selector(text: str) -> LabelMatch | None:
    """None for "match everything"; 400 BadRequest for a selector that does not parse."""
    text = text.strip()
    if not text:
        return None
    matches = [_term(t, text) for t in _split_terms(text)]
    if len(matches) == 1:
        return matches[0]
    return lambda labels: all(m(labels) for m in matches)


def compile_field_selector(text: str, served: Served) -> FieldMatch | None:
    text = text.strip()
    if not text:
        return None
    allowed = served.selectable_fields
    reqs: list[tuple[str, bool, str]] = []
    for term in _split_terms(text):
        for op in ("!=", "==", "="):
            if op in term:
                key, _, value = term.partition(op)
                key = key.strip()
                if key not in allowed:
                    raise errors.bad_request(f'field label not supported: {key}')
                reqs.append((key, op != "!=", value.strip()))
                break
        else:
            raise errors.bad_request(f"invalid field selector {text!r}: {term!r} is not key=value or key!=value")

    def match(fields: dict[str, str]) -> bool:
        return all((fields.get(k, "") == v) is eq for k, eq, v in reqs)

    return match


def predicate(labels: LabelMatch | None, fields: FieldMatch | None) -> Callable[[CachedObject], bool]:
    if labels is None and fields is None:
        return lambda _o: True
    if fields is None:
        assert labels is not None
        lm = labels
        return lambda o: lm(o.labels)
    if labels is None:
        fm = fields
        return lambda o: fm(o.fields)
    lm2, fm2 = labels, fields
    return lambda o: lm2(o.labels) and fm2(o.fields)
