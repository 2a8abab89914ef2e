"""The ``config`` verbs' view of kubeconfig files: raw YAML, merged, redacted, edited in place.

``master.client.kubeconfig`` resolves a kubeconfig into connection settings and keeps only the
fields it uses. ``config view`` and the writes (``use-context``, ``set-context``) must keep
everything else a file holds (exec plugins, extensions, fields of newer kubectl), so here the
files stay plain YAML documents.

Which files, as kubectl: ``--kubeconfig`` (must exist), else ``$KUBECONFIG`` (missing entries
skipped), else ``~/.kube/config``. Merging: the first file that names a cluster, user or
context wins, and the first non-empty current-context. Writes go where kubectl puts them: a
context's changes to the file that defines it; ``current-context`` to the first file that
sets one, else the first file.

``redact`` replaces secrets as ``kubectl config view`` does: ``*-data`` fields become
``DATA+OMITTED``, tokens and passwords ``REDACTED``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from master.api import yamlfmt
from master.client import kubeconfig as client_kubeconfig
from master.util.files import write_atomic

__all__ = ["ConfigFile", "EditError", "load", "merged", "minify", "redact", "write"]

_SECTIONS = ("clusters", "users", "contexts")


class EditError(ValueError):
    """A kubeconfig that cannot be read, parsed or changed (one line)."""


@dataclass(slots=True)
class ConfigFile:
    path: str
    doc: dict[str, Any]
    exists: bool = True


def _read(path: str) -> ConfigFile:
    try:
        with open(path, encoding="utf-8") as f:
            doc = yamlfmt.load(f.read())
    except FileNotFoundError:
        return ConfigFile(path, {}, exists=False)
    except OSError as exc:
        raise EditError(f"kubeconfig {path}: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f": line {mark.line + 1}" if mark is not None else ""
        raise EditError(f"kubeconfig {path}{where}: not valid YAML") from None
    if doc is None:
        doc = {}
    if not isinstance(doc, dict):
        raise EditError(f"kubeconfig {path}: not a kubeconfig (a YAML mapping)")
    return ConfigFile(path, doc)


def load(explicit: str | None, env: Mapping[str, str] | None = None) -> list[ConfigFile]:
    """The files in kubectl's order. An explicit path must exist; otherwise a missing default
    file is returned empty (``exists=False``) so a write can create it."""
    if explicit:
        found = _read(explicit)
        if not found.exists:
            raise EditError(f"kubeconfig {explicit}: no such file")
        return [found]
    paths = client_kubeconfig.default_paths(env)
    files = [_read(p) for p in paths]
    existing = [f for f in files if f.exists]
    return existing or files[:1]


def merged(files: list[ConfigFile]) -> dict[str, Any]:
    out: dict[str, Any] = {"apiVersion": "v1", "kind": "Config", "preferences": {},
                           "clusters": [], "users": [], "contexts": [], "current-context": ""}
    seen: dict[str, set[str]] = {s: set() for s in _SECTIONS}
    for f in files:
        for section in _SECTIONS:
            for entry in f.doc.get(section) or []:
                if isinstance(entry, dict) and entry.get("name") not in seen[section]:
                    seen[section].add(str(entry.get("name")))
                    out[section].append(entry)
        if not out["current-context"] and f.doc.get("current-context"):
            out["current-context"] = f.doc["current-context"]
        if not out["preferences"] and f.doc.get("preferences"):
            out["preferences"] = f.doc["preferences"]
    return out


def _named(doc: dict[str, Any], section: str, name: str) -> dict[str, Any] | None:
    for entry in doc.get(section) or []:
        if isinstance(entry, dict) and entry.get("name") == name:
            return entry
    return None


def minify(doc: dict[str, Any], context: str | None = None) -> dict[str, Any]:
    """Only the (current) context, its cluster and its user."""
    name = context or doc.get("current-context") or ""
    if not name:
        raise EditError("current-context must exist in order to minify")
    ctx = _named(doc, "contexts", name)
    if ctx is None:
        raise EditError(f'cannot locate context {name}')
    inner = ctx.get("context") or {}
    cluster = _named(doc, "clusters", str(inner.get("cluster", "")))
    user = _named(doc, "users", str(inner.get("user", "")))
    return {**doc, "current-context": name, "contexts": [ctx], "clusters": [cluster] if cluster else [],
            "users": [user] if user else []}


_DATA_FIELDS = ("certificate-authority-data", "client-certificate-data", "client-key-data")
_SECRET_FIELDS = ("token", "password")


def redact(doc: dict[str, Any]) -> dict[str, Any]:
    def scrub(entry: Any, key: str) -> Any:
        if not isinstance(entry, dict):
            return entry
        inner = dict(entry.get(key) or {})
        for f in _DATA_FIELDS:
            if inner.get(f):
                inner[f] = "DATA+OMITTED"
        for f in _SECRET_FIELDS:
            if inner.get(f):
                inner[f] = "REDACTED"
        return {**entry, key: inner}

    return {**doc,
            "clusters": [scrub(c, "cluster") for c in doc.get("clusters") or []],
            "users": [scrub(u, "user") for u in doc.get("users") or []]}


def file_defining(files: list[ConfigFile], section: str, name: str) -> ConfigFile | None:
    for f in files:
        if _named(f.doc, section, name) is not None:
            return f
    return None


def current_context_file(files: list[ConfigFile]) -> ConfigFile:
    for f in files:
        if f.doc.get("current-context"):
            return f
    return files[0]


def write(f: ConfigFile) -> None:
    """Write one file back (atomically, mode 0600: kubeconfigs hold keys)."""
    doc = {"apiVersion": "v1", "kind": "Config", **f.doc}
    path = os.path.abspath(os.path.expanduser(f.path))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    text = yaml.safe_dump(doc, sort_keys=True, default_flow_style=False)
    try:
        write_atomic(path, text.encode(), mode=0o600)
    except OSError as exc:
        raise EditError(f"kubeconfig {f.path}: cannot write: {exc.strerror or exc}") from None
