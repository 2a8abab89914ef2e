"""Encryption at rest: the configuration format, the stored bytes, rotation, and the raw store."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest

from master.apiserver import errors
from master.apiserver.encryption import AESGCM_PREFIX, load_config, parse_config
from master.apiserver.transformer import Identity
from tests.fixtures.apiserver import running_apiserver

KEY1 = base64.b64encode(b"1" * 32).decode()
KEY2 = base64.b64encode(b"2" * 32).decode()
PLAINTEXT = "hunter2-the-plaintext"


def config(*providers: dict[str, Any], resources: tuple[str, ...] = ("secrets",)) -> dict[str, Any]:
    return {"apiVersion": "apiserver.config.k8s.io/v1", "kind": "EncryptionConfiguration",
            "resources": [{"resources": list(resources), "providers": list(providers)}]}


def aesgcm(*keys: tuple[str, str]) -> dict[str, Any]:
    return {"aesgcm": {"keys": [{"name": n, "secret": s} for n, s in keys]}}


def write_config(path: Path, doc: dict[str, Any]) -> Path:
    import yaml

    path.write_text(yaml.safe_dump(doc))
    return path


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        pytest.param({"kind": "Other"}, "EncryptionConfiguration", id="wrong-kind"),
        pytest.param(config(), "at least one provider", id="no-providers"),
        pytest.param(config({"aescbc": {"keys": []}}), "not supported", id="aescbc"),
        pytest.param(config(aesgcm(("k", base64.b64encode(b"short").decode()))), "16, 24 or 32", id="short-key"),
        pytest.param(config(aesgcm(("k", "%%%"))), "base64", id="not-base64"),
        pytest.param(config(aesgcm(("k", KEY1), ("k", KEY2))), "unique", id="duplicate-names"),
        pytest.param(config(aesgcm(("a:b", KEY1))), "':'", id="colon-in-name"),
        pytest.param(config({"identity": {}, "aesgcm": {}}), "exactly one", id="two-in-one"),
    ],
)
def test_bad_configs(doc: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_config(doc)


def test_missing_file_names_it(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="--encryption-provider-config"):
        load_config(tmp_path / "nope.yaml")


def test_stored_form_and_rotation() -> None:
    key = b"/registry/secrets/default/s"
    old = parse_config(config(aesgcm(("key1", KEY1)), {"identity": {}})).chains["secrets"]
    stored = old.to_storage(key, b"data")
    assert stored.startswith(AESGCM_PREFIX + b"key1:") and b"data" not in stored
    assert old.from_storage(key, stored) == b"data"
    assert old.from_storage(key, b"{plain}") == b"{plain}"  # identity reads what predates encryption
    # The ciphertext is bound to its key: moved elsewhere it does not decrypt.
    with pytest.raises(errors.ApiError):
        old.from_storage(b"/registry/secrets/default/other", stored)
    rotated = parse_config(config(aesgcm(("key2", KEY2), ("key1", KEY1)))).chains["secrets"]
    assert rotated.from_storage(key, stored) == b"data"
    assert rotated.to_storage(key, b"data").startswith(AESGCM_PREFIX + b"key2:")
    with pytest.raises(errors.ApiError):
        rotated.from_storage(key, b"{plain}")  # no identity: plaintext is refused
    without_old = parse_config(config(aesgcm(("key2", KEY2)))).chains["secrets"]
    with pytest.raises(errors.ApiError):
        without_old.from_storage(key, stored)


def test_resource_names() -> None:
    cfg = parse_config(config(aesgcm(("k", KEY1)), resources=("secrets", "deployments.apps")))
    chosen = cfg.transformers([("secrets", ""), ("configmaps", ""), ("deployments", "apps")])
    assert set(chosen) == {"secrets", "deployments"}
    everything = parse_config(config(aesgcm(("k", KEY1)), resources=("*.*",)))
    assert set(everything.transformers([("secrets", ""), ("pods", "")])) == {"secrets", "pods"}
    assert not isinstance(cfg.chains["secrets"].writer, Identity)


async def _raw_values(api: Any) -> list[bytes]:
    from master.store.types import prefix_end

    resp = await api.server.client.range(b"/registry/", prefix_end(b"/registry/"))
    return [kv.value for kv in resp.kvs]


async def test_the_store_never_holds_the_plaintext(tmp_path: Path) -> None:
    cfg = write_config(tmp_path / "enc.yaml", config(aesgcm(("key1", KEY1)), {"identity": {}},
                                                     resources=("secrets", "configmaps")))
    async with running_apiserver(tmp_path / "d", encryption_provider_config=cfg) as api:
        secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "stringData": {"pw": PLAINTEXT}}
        code, out = await api.post("/api/v1/namespaces/default/secrets", json=secret)
        assert code == 201, out
        code, got = await api.get("/api/v1/namespaces/default/secrets/s")
        assert base64.b64decode(got["data"]["pw"]).decode() == PLAINTEXT
        cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"x": PLAINTEXT}}
        assert (await api.post("/api/v1/namespaces/default/configmaps", json=cm))[0] == 201
        raw = await _raw_values(api)
        encoded = base64.b64encode(PLAINTEXT.encode())
        assert not any(PLAINTEXT.encode() in v or encoded in v for v in raw)
        assert sum(v.startswith(AESGCM_PREFIX + b"key1:") for v in raw) >= 2


def test_keys_are_random_per_write() -> None:
    chain = parse_config(config(aesgcm(("k", KEY1)))).chains["secrets"]
    a, b = chain.to_storage(b"k", b"same"), chain.to_storage(b"k", b"same")
    assert a != b and a.startswith(AESGCM_PREFIX) and b.startswith(AESGCM_PREFIX)
