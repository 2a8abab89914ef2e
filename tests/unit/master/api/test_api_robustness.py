"""Bad input gets a clear error, never another exception (hypothesis-generated input)."""

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from master.api import codec, core, fields, labels, patch, quantity
from master.api.registry import DEFAULT

_json = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)
_keys = st.sampled_from(["metadata", "spec", "status", "containers", "name", "image", "ports", "containerPort",
                         "labels", "env", "resources", "limits", "$patch", "$retainKeys", "volumes", "tolerations"])
_podish = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 70000) | st.text(max_size=6),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(_keys, children, max_size=4),
    max_leaves=25,
)
_settings = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_settings
@given(_podish)
def test_decode_validate_never_crash(doc: Any) -> None:
    pods = DEFAULT.lookup("pods")
    assert pods is not None
    try:
        pod = codec.decode(json.dumps(doc).encode(), core.Pod)
    except codec.DecodeError:
        return
    pods.strategy.default(pod)
    pods.strategy.prepare_for_create(pod)
    pods.strategy.validate(pod)
    codec.encode(pod)


@_settings
@given(_podish, st.sampled_from(patch.PATCH_TYPES))
def test_patches_never_crash(body: Any, content_type: str) -> None:
    doc = codec.to_builtins(core.Pod(spec=core.PodSpec(containers=[core.Container(name="c", image="i")])))
    try:
        out = patch.apply(doc, json.dumps(body).encode(), content_type, core.Pod)
    except patch.PatchError:
        return
    try:
        codec.convert(out, core.Pod)
    except codec.DecodeError:
        pass


@_settings
@given(_json)
def test_any_json_decodes_or_fails_cleanly(doc: Any) -> None:
    for r in DEFAULT.all():
        try:
            codec.convert(doc, r.type)
        except codec.DecodeError:
            pass


@_settings
@given(st.text(alphabet="ab=!,() <>in\\x1-", max_size=20))
def test_selectors_parse_or_fail_cleanly(text: str) -> None:
    try:
        sel = labels.parse(text)
        sel.matches({"a": "b"})
        labels.parse(str(sel))
    except labels.SelectorError:
        pass
    try:
        fsel = fields.parse(text)
        fsel.matches({"a": "b"})
    except fields.FieldSelectorError:
        pass


@_settings
@given(st.text(alphabet="0123456789.+-eEinumkMGTPKi ", max_size=12))
def test_quantities_parse_or_fail_cleanly(text: str) -> None:
    try:
        q = quantity.parse(text)
    except quantity.QuantityError:
        return
    assert quantity.parse(str(q)) == q
