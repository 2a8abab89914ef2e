"""Kubernetes protobuf request bodies (what kubectl's typed clients send)."""

from __future__ import annotations

import pytest

from master.apiserver import errors, protobuf


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _ld(number: int, payload: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _vi(number: int, value: int) -> bytes:
    return _varint(number << 3) + _varint(value)


def _envelope(api_version: str, kind: str, raw: bytes) -> bytes:
    type_meta = _ld(1, api_version.encode()) + _ld(2, kind.encode())
    return protobuf.MAGIC + _ld(1, type_meta) + _ld(2, raw)


def test_configmap_with_zero_fields_dropped() -> None:
    meta = _ld(1, b"cm") + _ld(2, b"") + _ld(3, b"") + _vi(7, 0) + _ld(11, _ld(1, b"app") + _ld(2, b"x"))
    raw = _ld(1, meta) + _ld(2, _ld(1, b"a") + _ld(2, b"b")) + _vi(4, 0)
    obj = protobuf.decode(_envelope("v1", "ConfigMap", raw))
    assert obj == {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm", "labels": {"app": "x"}},
                   "data": {"a": "b"}, "immutable": False}


def test_deployment_keeps_zero_replicas_and_int_or_string() -> None:
    spec = _vi(1, 0) + _ld(2, _ld(1, _ld(1, b"app") + _ld(2, b"d")))
    obj = protobuf.decode(_envelope("apps/v1", "Deployment", _ld(1, _ld(1, b"d")) + _ld(2, spec)))
    assert obj["spec"] == {"replicas": 0, "selector": {"matchLabels": {"app": "d"}}}
    port = _ld(1, b"") + _vi(3, 80) + _ld(4, _vi(1, 0) + _vi(2, 8080))
    svc = protobuf.decode(_envelope("v1", "Service", _ld(1, _ld(1, b"s")) + _ld(2, _ld(1, port))))
    assert svc["spec"]["ports"] == [{"port": 80, "targetPort": 8080}]


@pytest.mark.parametrize(
    ("data", "code"),
    [
        pytest.param(b"not protobuf", 400, id="no-magic"),
        pytest.param(protobuf.MAGIC + b"\x0a\xff", 400, id="truncated"),
        pytest.param(_envelope("v1", "Widget", b""), 415, id="unknown-kind"),
        # A field with the wrong wire type was a TypeError or AttributeError: a 500.
        pytest.param(_envelope("v1", "ConfigMap", _vi(1, 5)), 400, id="message-as-number"),
        pytest.param(_envelope("v1", "ConfigMap", _ld(2, _ld(1, b"a") + _vi(2, 7))), 400, id="map-value-as-number"),
        pytest.param(_envelope("v1", "ConfigMap", _ld(1, _vi(11, 3))), 400, id="map-entry-as-number"),
        pytest.param(_envelope("v1", "ConfigMap", _ld(4, b"yes")), 400, id="bool-as-bytes"),
        pytest.param(_envelope("v1", "Service", _ld(1, _ld(1, b"s")) + _ld(2, _ld(1, _ld(4, _ld(1, b"x"))))),
                     400, id="int-or-string-parts-swapped"),
        pytest.param(_envelope("certificates.k8s.io/v1", "CertificateSigningRequest",
                               _ld(3, _ld(1, _ld(1, b"Approved") + _ld(4, _vi(1, 2**62))))), 400,
                     id="time-out-of-range"),
    ],
)
def test_bad_bodies(data: bytes, code: int) -> None:
    with pytest.raises(errors.ApiError) as info:
        protobuf.decode(data)
    assert info.value.code == code
