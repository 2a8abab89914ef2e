"""labelSelector and fieldSelector query parameters, compiled to predicates over cached objects.

The grammars are ``master.api.labels`` and ``master.api.fields``. Field selectors accept only
the fields a resource declares selectable (metadata.name and metadata.namespace everywhere, plus
e.g. spec.nodeName and status.phase for pods), as Kubernetes does; anything else is 400
BadRequest ("field label not supported: spec.foo").
"""

from __future__ import annotations

from collections.abc import Callable

from master.api import fields, labels
from master.apiserver import errors
from master.apiserver.registry import Served
from master.apiserver.watchcache import CachedObject

__all__ = ["LabelMatch", "compile_field_selector", "compile_label_selector", "pinned_fields", "predicate"]

LabelMatch = Callable[[dict[str, str]], bool]
FieldMatch = Callable[[dict[str, str]], bool]


def compile_label_selector(text: str) -> LabelMatch | None:
    """None for "match everything"; 400 BadRequest for a selector that does not parse."""
    if not text.strip():
        return None
    try:
        selector = labels.parse(text)
    except labels.SelectorError as exc:
        raise errors.bad_request(str(exc)) from exc
    return None if selector.empty() else selector.matches


def compile_field_selector(text: str, served: Served) -> FieldMatch | None:
    if not text.strip():
        return None
    try:
        selector = fields.parse(text)
    except fields.FieldSelectorError as exc:
        raise errors.bad_request(f"invalid field selector {text!r}: {exc}") from exc
    unsupported = selector.unsupported(served.selectable_fields)
    if unsupported:
        raise errors.bad_request(f"field label not supported: {unsupported[0]}")
    return None if selector.empty() else selector.matches


def pinned_fields(text: str) -> dict[str, str]:
    """The fields a (valid) field selector requires to equal a value: ``spec.nodeName=pi-1,
    status.phase!=Failed`` pins ``{"spec.nodeName": "pi-1"}``. The watch cache indexes on them."""
    if not text.strip():
        return {}
    try:
        selector = fields.parse(text)
    except fields.FieldSelectorError:
        return {}
    out: dict[str, str] = {}
    for r in selector.requirements:
        if r.operator != "!=":
            out.setdefault(r.field, r.value)
    return out


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
