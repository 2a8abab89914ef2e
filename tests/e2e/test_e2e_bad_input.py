"""Scenario 8: bad input at the CLI gets a clear error and leaves nothing behind.

Broken YAML, an unknown kind, invalid names, a namespace that does not exist, an unreachable
server: pictl exits non-zero with a readable message (no traceback), and a manifest with one
bad object among good ones creates none of them.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
import yaml

from tests.e2e.helpers_e2e import Cluster, manifest, web_deployment

pytestmark = [pytest.mark.root, pytest.mark.containerd, pytest.mark.slow]

GOOD = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "good"}, "data": {"k": "v"}}


def _objects(cluster: Cluster, ns: str) -> list[str]:
    out = cluster.pictl("get", "deployments,configmaps,services", "-n", ns, "-o", "name").stdout.split()
    return [o for o in out if o != "configmap/kube-root-ca.crt"]


def _refused(cluster: Cluster, args: list[str], *, input: str | None = None, env: dict[str, str] | None = None,
             expect: tuple[str, ...] = ()) -> str:
    proc = cluster.pictl(*args, input=input, check=False, env=env, timeout=60)
    err = proc.stderr.strip()
    assert proc.returncode != 0, f"pictl {' '.join(args)} succeeded:\n{proc.stdout}"
    assert err, f"pictl {' '.join(args)} failed without a message"
    assert "Traceback" not in err and "Traceback" not in proc.stdout, err
    lowered = err.lower()
    assert any(word.lower() in lowered for word in expect), f"pictl {' '.join(args)}: {err!r} names none of {expect}"
    return err


BROKEN_YAML = manifest(GOOD) + "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: broken\ndata: [\n"
UNKNOWN_KIND = manifest(GOOD, {"apiVersion": "example.com/v1", "kind": "Frobnicator", "metadata": {"name": "f"}})
BAD_NAME = manifest(GOOD, web_deployment("Web_App!"))
NO_KIND = manifest(GOOD, {"apiVersion": "v1", "metadata": {"name": "kindless"}})


@pytest.mark.parametrize(
    ("text", "expect"),
    [
        pytest.param(BROKEN_YAML, ("yaml", "line", "parse", "mapping"), id="broken-yaml"),
        pytest.param(UNKNOWN_KIND, ("Frobnicator", "kind"), id="unknown-kind"),
        pytest.param(BAD_NAME, ("Web_App!", "name", "invalid"), id="invalid-name"),
        pytest.param(NO_KIND, ("kind",), id="missing-kind"),
    ],
)
def test_bad_manifest_is_refused_whole(cluster: Cluster, ns: str, tmp_path: Path, text: str,
                                       expect: tuple[str, ...]) -> None:
    path = tmp_path / "app.yaml"
    path.write_text(text)
    _refused(cluster, ["apply", "-n", ns, "-f", str(path)], expect=expect)
    _refused(cluster, ["create", "-n", ns, "-f", "-"], input=text, expect=expect)
    assert _objects(cluster, ns) == [], "a refused manifest left objects behind"


def test_bad_names_namespaces_and_files(cluster: Cluster, ns: str, tmp_path: Path) -> None:
    _refused(cluster, ["create", "namespace", "Not_A_Name"], expect=("Not_A_Name", "invalid"))
    _refused(cluster, ["create", "deployment", "Web!", "--image=localhost/web:1", "-n", ns],
             expect=("Web!", "invalid"))
    _refused(cluster, ["scale", "deployment/nothing-here", "--replicas=2", "-n", ns],
             expect=("not found", "nothing-here"))
    _refused(cluster, ["get", "pod", "no-such-pod", "-n", ns], expect=("not found",))
    _refused(cluster, ["apply", "-f", str(tmp_path / "missing.yaml"), "-n", ns],
             expect=("missing.yaml", "no such file", "does not exist"))
    _refused(cluster, ["get", "frobnicators"], expect=("frobnicators", "resource type"))

    # A namespace that does not exist: nothing is created anywhere.
    ghost = f"{ns}-ghost"
    good = json.dumps(GOOD)
    _refused(cluster, ["apply", "-n", ghost, "-f", "-"], input=good, expect=(ghost, "not found"))
    _refused(cluster, ["create", "-n", ghost, "-f", "-"], input=good, expect=(ghost, "not found"))
    names = cluster.pictl("get", "namespaces", "-o", "name").stdout.split()
    assert f"namespace/{ghost}" not in names
    # A manifest naming its own namespace that does not exist is refused the same way.
    doc = {**GOOD, "metadata": {"name": "good", "namespace": ghost}}
    _refused(cluster, ["apply", "-f", "-"], input=yaml.safe_dump(doc), expect=(ghost, "not found"))
    assert _objects(cluster, ns) == []


def test_server_down_is_one_clear_line(cluster: Cluster, tmp_path: Path) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = yaml.safe_load(cluster.kubeconfig.read_text())
    for c in config["clusters"]:
        c["cluster"]["server"] = f"https://127.0.0.1:{port}"
    kubeconfig = tmp_path / "down.kubeconfig"
    kubeconfig.write_text(yaml.safe_dump(config))
    env = {**cluster.env, "KUBECONFIG": str(kubeconfig)}
    for args in (["get", "pods"], ["apply", "-f", "-"], ["delete", "pod", "x"]):
        err = _refused(cluster, args, input=json.dumps(GOOD), env=env, expect=("refused", "connect"))
        assert len(err.splitlines()) == 1, err

    bad_config = tmp_path / "broken.kubeconfig"
    bad_config.write_text("clusters: [\n")
    _refused(cluster, ["get", "pods"], env={**cluster.env, "KUBECONFIG": str(bad_config)},
             expect=("kubeconfig", "broken.kubeconfig"))
