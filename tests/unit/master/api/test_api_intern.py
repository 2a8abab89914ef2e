"""master.api.intern: decoded objects share one string per distinct value, and stay equal."""

from __future__ import annotations

import gc

import msgspec

from master.api import codec, core
from master.api import intern as intern_module
from master.api.intern import intern_object, intern_strings


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


def _versioned(uid: str, rv: str, image: str = "busybox") -> bytes:
    return msgspec.json.encode({"metadata": {"name": "p", "namespace": "default", "uid": uid, "resourceVersion": rv},
                                "spec": {"containers": [{"name": "c", "image": image}]}})


def test_one_copy_of_each_object_version_while_it_is_held() -> None:
    first = intern_object(codec.decode(_versioned("u-1", "7"), core.Pod))
    assert intern_object(codec.decode(_versioned("u-1", "7"), core.Pod)) is first
    assert intern_object(codec.decode(_versioned("u-1", "8"), core.Pod)) is not first


def test_a_different_object_under_the_same_version_is_never_replaced() -> None:
    first = intern_object(codec.decode(_versioned("u-2", "7"), core.Pod))
    other = codec.decode(_versioned("u-2", "7", image="nginx"), core.Pod)
    assert intern_object(other) is other
    assert first.spec.containers[0].image == "busybox"


def test_objects_without_uid_or_version_only_share_strings() -> None:
    a = codec.decode(_versioned("", ""), core.Pod)
    assert intern_object(a) is a
    assert intern_object(codec.decode(_versioned("", ""), core.Pod)) is not a


def test_a_copy_is_forgotten_with_its_last_holder() -> None:
    held = intern_object(codec.decode(_versioned("u-3", "1"), core.Pod))
    assert [k for k in intern_module._objects if k[1] == "u-3"]
    del held
    gc.collect()
    assert not [k for k in intern_module._objects if k[1] == "u-3"]


def test_empty_lists_and_maps_of_kept_objects_are_shared_and_encode_as_before() -> None:
    a = intern_object(codec.decode(_versioned("u-4", "1"), core.Pod))
    b = intern_object(codec.decode(_versioned("u-5", "1"), core.Pod))
    assert a.metadata.finalizers is b.metadata.finalizers and type(a.metadata.finalizers) is list
    assert a.metadata.annotations is b.metadata.annotations and type(a.metadata.annotations) is dict
    assert a.spec.containers[0].env is b.spec.containers[0].env
    assert a.spec.containers is not b.spec.containers
    plain = codec.decode(_versioned("u-4", "1"), core.Pod)
    assert codec.encode(a) == codec.encode(plain)
    assert codec.to_builtins(a) == codec.to_builtins(plain)
    assert codec.clone(a) == plain
