"""-f sources: multi-document YAML, Lists, directories, stdin, and one-line errors with the line."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from master.cli.kube import manifests

TWO = """\
apiVersion: v1
kind: ConfigMap
metadata: {name: a}
data: {when: 2024-01-01}
---
# a comment-only document is skipped
---
apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: ConfigMap, metadata: {name: b}}
- {apiVersion: v1, kind: ConfigMap, metadata: {name: c}}
"""


def test_documents_lists_and_lines() -> None:
    found = manifests.parse(TWO, "x.yaml")
    assert [m.obj["metadata"]["name"] for m in found] == ["a", "b", "c"]
    assert found[0].obj["data"]["when"] == "2024-01-01"  # timestamps stay strings
    assert found[0].line == 1 and found[1].line > 5
    assert found[1].where.startswith("x.yaml: line ")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n  labels: a: b\n",
                     "x.yaml: line 5: mapping values are not allowed", id="mapping-values"),
        pytest.param("a: [1, 2\n", "x.yaml: line 2:", id="unclosed-flow"),
        pytest.param("- a\n- b\n", "x.yaml: line 1: document 1 is a list, not an object", id="list"),
        pytest.param("kind: Pod\n", 'x.yaml: line 1: document 1 has no "apiVersion"', id="no-apiversion"),
        pytest.param("apiVersion: v1\n", 'has no "kind"', id="no-kind"),
        pytest.param("apiVersion: v1\nkind: Pod\nmetadata: [1]\n", "metadata must be an object", id="bad-metadata"),
        pytest.param("apiVersion: v1\nkind: List\nitems: 3\n", "the items of a List must be a list", id="bad-list"),
        pytest.param("apiVersion: v1\nkind: Pod\n\tx: 1\n", "x.yaml: line 3:", id="tab"),
    ],
)
def test_errors_name_the_line(text: str, message: str) -> None:
    with pytest.raises(manifests.ManifestError) as info:
        manifests.parse(text, "x.yaml")
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_files_directories_and_stdin(tmp_path: Path) -> None:
    (tmp_path / "b.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n")
    (tmp_path / "a.json").write_text('{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}}')
    (tmp_path / "notes.txt").write_text("not a manifest")
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "c.yml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n")
    names = [m.obj["metadata"]["name"] for m in manifests.load([str(tmp_path)])]
    assert names == ["a", "b"]
    names = [m.obj["metadata"]["name"] for m in manifests.load([str(tmp_path)], recursive=True)]
    assert names == ["a", "b", "c"]
    stdin = io.StringIO("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: s}\n")
    found = manifests.load(["-"], stdin=stdin)
    assert found[0].source == "STDIN" and found[0].obj["metadata"]["name"] == "s"


@pytest.mark.parametrize(
    ("paths", "message"),
    [
        pytest.param(["/nonexistent/x.yaml"], 'the path "/nonexistent/x.yaml" does not exist', id="missing"),
        pytest.param(["http://example.invalid/x.yaml"], "is a URL", id="url"),
        pytest.param([], "must specify one of -f", id="none"),
    ],
)
def test_source_errors(paths: list[str], message: str) -> None:
    with pytest.raises(manifests.ManifestError, match=message):
        manifests.load(paths)


def test_not_utf8(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(manifests.ManifestError, match="error reading"):
        manifests.load([str(bad)])


HEAD = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"


def test_yaml_values_become_json_as_kubectl_makes_them() -> None:
    found = manifests.parse(HEAD + "data: {1: a, false: b, null: c, 1.5: d, bin: !!binary aGVsbG8=}\n", "x.yaml")
    assert found[0].obj["data"] == {"1": "a", "false": "b", "null": "c", "1.5": "d", "bin": "hello"}


@pytest.mark.parametrize(
    ("tail", "message"),
    [
        # Each was a traceback-like "error: TypeError: Object of type ... is not JSON serializable",
        # or for NaN a label silently sent as null.
        pytest.param("data: {a: !!binary //79}\n", "x.yaml: line 1: document 1: data.a: binary data that is not UTF-8",
                     id="binary-not-text"),
        pytest.param("data: {a: !!set {p, q}}\n", "data.a: a YAML set has no JSON form", id="set"),
        pytest.param("metadata: {name: x, labels: {a: .nan}}\n", "metadata.labels.a: nan is not a JSON number",
                     id="nan"),
        pytest.param("data: {a: [1, -.inf]}\n", "data.a[1]: -inf is not a JSON number", id="infinity"),
    ],
)
def test_yaml_without_a_json_form_is_one_line(tail: str, message: str) -> None:
    text = (HEAD.replace("metadata: {name: x}\n", "") if tail.startswith("metadata") else HEAD) + tail
    with pytest.raises(manifests.ManifestError) as info:
        manifests.parse(text, "x.yaml")
    assert message in str(info.value) and "\n" not in str(info.value)


def test_stdin_that_is_not_utf8_or_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    # Bad bytes on stdin surfaced later as "error: UnicodeEncodeError: ... surrogates not allowed";
    # a closed stdin as "error: AttributeError: 'NoneType' object has no attribute 'read'".
    stdin = io.TextIOWrapper(io.BytesIO(b"\xff\xfe"), encoding="utf-8", errors="surrogateescape")
    with pytest.raises(manifests.ManifestError, match="error reading STDIN: 'utf-8' codec can't decode byte 0xff"):
        manifests.load(["-"], stdin=stdin)
    monkeypatch.setattr("sys.stdin", None)
    with pytest.raises(manifests.ManifestError, match="error reading STDIN: standard input is closed"):
        manifests.load(["-"])


def test_yaml_that_would_blow_up_is_one_line() -> None:
    lines = [HEAD.strip(), "a0: &a0 [" + ",".join(["lol"] * 9) + "]"]
    lines += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 9)]
    # 9**9 values once expanded: pictl hung expanding them.
    with pytest.raises(manifests.ManifestError, match="more than 1000000 values once its YAML aliases are expanded"):
        manifests.parse("\n".join(lines) + "\n", "x.yaml")
    # An alias inside its own anchor: "error: RecursionError: maximum recursion depth exceeded".
    with pytest.raises(manifests.ManifestError, match=r"x\.b: refers to itself"):
        manifests.parse(HEAD + "x: &a {b: *a}\n", "x.yaml")
    with pytest.raises(manifests.ManifestError, match="nested more than 100 levels deep"):
        manifests.parse(HEAD + "x: " + "[" * 500 + "]" * 500 + "\n", "x.yaml")
    found = manifests.parse(HEAD + "data: &d {a: b}\nx: [*d, *d]\n", "x.yaml")
    assert found[0].obj["x"] == [{"a": "b"}, {"a": "b"}]


@pytest.mark.parametrize(
    ("tail", "message"),
    [
        # PyYAML's errors for an explicit tag on text it cannot be were "error: ValueError: ...".
        pytest.param("data: {a: !!int abc}\n", "x.yaml: line 4: 'abc' is not a valid YAML int", id="int"),
        pytest.param("data: {a: !!float abc}\n", "x.yaml: line 4: 'abc' is not a valid YAML float", id="float"),
        # These two were KeyError and AttributeError.
        pytest.param("data: {a: !!bool maybe}\n", "x.yaml: line 4: 'maybe' is not a valid YAML bool", id="bool"),
        pytest.param("data: {a: !!timestamp soon}\n", "x.yaml: line 4: 'soon' is not a valid YAML timestamp",
                     id="timestamp"),
    ],
)
def test_explicit_tags_on_the_wrong_text_are_one_line(tail: str, message: str) -> None:
    with pytest.raises(manifests.ManifestError) as info:
        manifests.parse(HEAD + tail, "x.yaml")
    assert str(info.value).startswith(message) and "\n" not in str(info.value)
