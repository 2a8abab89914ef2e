"""``-o`` formats other than the tables: yaml, json, name, jsonpath=..., custom-columns=....

YAML and JSON look like kubectl's: keys sorted, YAML in block style with lists not indented
under their key, multi-line strings as ``|`` blocks, JSON indented by 4. Several objects print
as a ``v1`` ``List``; ``-o name`` prints ``pod/web`` or ``deployment.apps/web``.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from master.api import registry
from master.cli.kube.resources import kind_name

if TYPE_CHECKING:
    from master.cli.kube import jsonpath

# yaml and jsonpath are imported when a format needs them: the plain table (the common case,
# and start-up time matters on a Pi) needs neither.

__all__ = [
    "FORMATS",
    "OutputError",
    "OutputFormat",
    "as_list",
    "custom_columns",
    "name_of",
    "parse",
    "render",
    "to_json",
    "to_yaml",
]

FORMATS = ("custom-columns", "json", "jsonpath", "name", "wide", "yaml")


class OutputError(ValueError):
    """An -o value pictl cannot print."""


@dataclass(frozen=True, slots=True)
class OutputFormat:
    kind: str  # "" (the table), "wide", "yaml", "json", "name", "jsonpath", "custom-columns"
    template: jsonpath.Template | None = None
    columns: tuple[tuple[str, tuple[jsonpath.Step, ...]], ...] = ()

    @property
    def is_table(self) -> bool:
        return self.kind in ("", "wide")


def parse(text: str | None) -> OutputFormat:
    """``-o`` as given: "", "wide", "yaml", "jsonpath={.x}", "custom-columns=NAME:.metadata.name"."""
    value = (text or "").strip()
    if not value:
        return OutputFormat("")
    kind, _, arg = value.partition("=")
    from master.cli.kube import jsonpath

    if kind in ("jsonpath", "jsonpath-as-json"):
        if not arg:
            raise OutputError("template format specified but no template given")
        try:
            return OutputFormat("jsonpath", template=jsonpath.Template(arg))
        except jsonpath.JSONPathError as exc:
            raise OutputError(f"error parsing jsonpath {arg}: {exc}") from None
    if kind == "custom-columns":
        if not arg:
            raise OutputError("custom-columns format specified but no custom columns given")
        return OutputFormat("custom-columns", columns=custom_columns(arg))
    if kind in ("wide", "yaml", "json", "name") and not arg:
        return OutputFormat(kind)
    raise OutputError(
        f'unable to match a printer suitable for the output format "{value}", '
        f"allowed formats are: {','.join(FORMATS)}"
    )


def custom_columns(spec: str) -> tuple[tuple[str, tuple[jsonpath.Step, ...]], ...]:
    """``NAME:.metadata.name,IMAGE:.spec.containers[*].image`` -> (header, path) pairs."""
    from master.cli.kube import jsonpath

    out = []
    for part in spec.split(","):
        header, sep, path = part.partition(":")
        path = path.strip()
        if path.startswith("{") and path.endswith("}"):
            path = path[1:-1]
        if not sep or not header or not path:
            raise OutputError(f"unexpected custom-columns spec: {part}, expected <header>:<json-path-expr>")
        try:
            out.append((header, jsonpath.parse_path(path if path[0] in ".$@[" else "." + path)))
        except jsonpath.JSONPathError as exc:
            raise OutputError(f"error parsing custom-columns {part}: {exc}") from None
    return tuple(out)


@functools.cache
def _dumper() -> Any:
    """kubectl's YAML (PyYAML already leaves sequences unindented): quoted scalars in double
    quotes (``resourceVersion: "10"``), multi-line strings as ``|`` blocks."""
    import yaml

    class Dumper(yaml.SafeDumper):
        def choose_scalar_style(self) -> str:
            style = super().choose_scalar_style()
            return '"' if style == "'" else style

    def text(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
        style = "|" if "\n" in value else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

    Dumper.add_representer(str, text)
    return Dumper


def to_yaml(obj: Any) -> str:
    import yaml

    return yaml.dump(obj, Dumper=_dumper(), sort_keys=True, default_flow_style=False, allow_unicode=True,
                     width=1 << 30)


def to_json(obj: Any) -> str:
    return json.dumps(obj, indent=4, sort_keys=True, ensure_ascii=False) + "\n"


def with_type(res: registry.Resource, obj: dict[str, Any]) -> dict[str, Any]:
    """Items of a list come without apiVersion/kind; printed objects always carry them."""
    if obj.get("apiVersion") and obj.get("kind"):
        return obj
    return {"apiVersion": res.api_version, "kind": res.kind, **obj}


def as_list(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {"apiVersion": "v1", "items": items, "kind": "List", "metadata": {"resourceVersion": ""}}


def name_of(res: registry.Resource, obj: dict[str, Any]) -> str:
    return f"{kind_name(res)}/{(obj.get('metadata') or {}).get('name', '')}"


def render(fmt: OutputFormat, doc: Any) -> str:
    """The text of one document (an object or a List) for yaml, json or jsonpath."""
    if fmt.kind == "yaml":
        return to_yaml(doc)
    if fmt.kind == "json":
        return to_json(doc)
    if fmt.kind == "jsonpath" and fmt.template is not None:
        return fmt.template.render(doc)
    raise OutputError(f"cannot render -o {fmt.kind} as a document")


def custom_rows(fmt: OutputFormat, objects: list[dict[str, Any]], *, headers: bool = True) -> list[list[str]]:
    from master.cli.kube import jsonpath

    rows = [[h for h, _ in fmt.columns]] if headers else []
    for obj in objects:
        rows.append([",".join(jsonpath.text(v) for v in jsonpath.evaluate(p, obj)) or "<none>"
                     for _, p in fmt.columns])
    return rows
