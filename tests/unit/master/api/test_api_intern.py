"""master.api.intern: decoded objects share one string per distinct value, and stay equal."""

from __future__ import annotations

import msgspec

from master.api import codec, core
from master.api.intern import intern_strings


def _pod(name: str) -> bytes:
    # Strings built at run time, so that no two decodes share them by accident.
    ns, image, key = "".join(["def", "ault"]), "".join(["busybox", ":1.36"]), "".join(["app.io/", "tier"])
    return msgspec.json.encode({
        "metadata": {"name": name, "namespace": ns, "labels": {key: "".join(["we", "b"])},
                     "annotations": {}},
        "spec": {"nodeName": "pi-1", "containers": [{"name": "c", "image": image, "args": ["-c", "sleep"],
                                                     "resources": {"requests": {"cpu": "10m"}}}],
                 "tolerations": [{"key": "node.kubernetes.io/not-ready", "operator": "Exists",
                                  "effect": "NoExecute", "tolerationSeconds": 300}]},
    })


def test_equal_strings_are_one_object_and_the_object_is_unchanged() -> None:
    a_plain = codec.decode(_pod("a"), core.Pod)
    a = intern_strings(codec.decode(_pod("a"), core.Pod))
    b = intern_strings(codec.decode(_pod("b"), core.Pod))
    assert a == a_plain
    assert a.metadata.namespace is b.metadata.namespace
    assert a.spec.containers[0].image is b.spec.containers[0].image
    assert a.spec.containers[0].args[1] is b.spec.containers[0].args[1]
    assert a.spec.tolerations[0].effect is b.spec.tolerations[0].effect
    (ka, va), (kb, vb) = next(iter(a.metadata.labels.items())), next(iter(b.metadata.labels.items()))
    assert ka is kb and va is vb
    assert a.spec.containers[0].resources.requests["cpu"] is b.spec.containers[0].resources.requests["cpu"]


def test_builtins_and_other_values_pass_through() -> None:
    doc = {"k": ["x", {"y": "z"}, 1, None], "n": 2.5}
    assert intern_strings(doc) == {"k": ["x", {"y": "z"}, 1, None], "n": 2.5}
    assert intern_strings("s") == "s"
    assert intern_strings(None) is None
