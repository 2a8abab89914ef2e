"""``-f`` sources: files, directories (``-R`` for subdirectories) and ``-`` (stdin), each holding
one or more YAML (or JSON) documents; ``kind: List`` documents expand to their items.

Everything is read and checked before anything is sent, so a broken file fails the whole
command with nothing created. Errors are one line naming the source and line::

    web.yaml: line 7: mapping values are not allowed here
    web.yaml: line 12: document 2 has no "kind"
    STDIN: line 1: document 1 is a list, not an object

YAML timestamps stay strings (``2024-01-01`` is not turned into a date), as in Kubernetes.
"""

from __future__ import annotations

import math
import os
import sys
from dataclasses import dataclass
from typing import Any, TextIO

import yaml

from master.api import yamlfmt

__all__ = ["Manifest", "ManifestError", "load", "parse"]

EXTENSIONS = (".yaml", ".yml", ".json")
STDIN = "STDIN"

class ManifestError(ValueError):
    """A source that cannot be read or a document that is not an API object (one line)."""


@dataclass(frozen=True, slots=True)
class Manifest:
    """One object from a source. ``line`` is where its document starts (1-based)."""

    source: str
    document: int
    line: int
    obj: dict[str, Any]

    @property
    def where(self) -> str:
        return f"{self.source}: line {self.line}"


def _files(path: str, recursive: bool) -> list[str]:
    if path == "-":
        return [path]
    if os.path.isdir(path):
        found: list[str] = []
        for entry in sorted(os.listdir(path)):
            full = os.path.join(path, entry)
            if os.path.isdir(full):
                if recursive:
                    found.extend(_files(full, recursive))
            elif entry.endswith(EXTENSIONS):
                found.append(full)
        return found
    if "://" in path:
        raise ManifestError(f'the path "{path}" is a URL; pictl reads files, directories and - (stdin) only')
    if not os.path.exists(path):
        raise ManifestError(f'the path "{path}" does not exist')
    return [path]


def load(paths: list[str], *, recursive: bool = False, stdin: TextIO | None = None) -> list[Manifest]:
    """Every object in ``paths``, in order. Raises ``ManifestError``."""
    if not paths:
        raise ManifestError("must specify one of -f and -k")
    out: list[Manifest] = []
    seen_stdin = False
    for path in paths:
        files = _files(path, recursive)
        if not files and os.path.isdir(path):
            raise ManifestError(f'error reading "{path}": no files with extensions {list(EXTENSIONS)}')
        for f in files:
            if f == "-":
                if seen_stdin:
                    raise ManifestError("- (stdin) may be given only once")
                seen_stdin = True
                out.extend(parse(_read_stdin(stdin), STDIN))
                continue
            try:
                with open(f, encoding="utf-8") as fh:
                    text = fh.read()
            except (OSError, UnicodeDecodeError) as exc:
                reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
                raise ManifestError(f"error reading {f}: {reason}") from None
            out.extend(parse(text, f))
    return out


def _read_stdin(stdin: TextIO | None) -> str:
    stream = stdin or sys.stdin
    if stream is None:  # started with file descriptor 0 closed
        raise ManifestError("error reading STDIN: standard input is closed")
    try:
        # The raw bytes when there are any: a text stdin decodes with surrogateescape, which
        # hides bad UTF-8 until the text is sent.
        raw = stream.buffer.read() if hasattr(stream, "buffer") else None
        return raw.decode("utf-8") if raw is not None else stream.read()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ManifestError(f"error reading STDIN: {reason}") from None


def parse(text: str, source: str) -> list[Manifest]:
    """The objects of one multi-document YAML text."""
    out: list[Manifest] = []
    try:
        loader = yamlfmt.Loader(text)
        try:
            number = 0
            while loader.check_node():
                node = loader.get_node()
                if node is None:
                    continue
                number += 1
                line = node.start_mark.line + 1
                where = f"{source}: line {line}: document {number}"
                doc = loader.construct_document(node)
                _check_shape(doc, where)
                out.extend(_objects(_JsonReady(where).value(doc, ""), source, number, line))
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        raise ManifestError(_yaml_error(exc, source)) from None
    except yaml.YAMLError as exc:
        raise ManifestError(f"{source}: {exc}") from None
    except UnicodeEncodeError:  # text with lone surrogates (never from a file or stdin: they are decoded strictly)
        raise ManifestError(f"{source}: the text is not valid Unicode") from None
    return out


def _check_shape(doc: Any, where: str) -> None:
    """Limits on depth, on size once YAML aliases are expanded (expanding nine levels of nine
    aliases hung pictl) and on cycles, as the apiserver takes documents (``yamlfmt.check_shape``)."""
    try:
        yamlfmt.check_shape(doc)
    except yamlfmt.ShapeError as exc:
        if exc.kind == "depth":
            raise ManifestError(f"{where}: nested more than {yamlfmt.MAX_DEPTH} levels deep") from None
        if exc.kind == "size":
            raise ManifestError(f"{where}: more than {yamlfmt.MAX_VALUES} values once its YAML aliases are expanded") \
                from None
        raise ManifestError(f"{where}: {exc.path}: refers to itself (a YAML alias inside its own anchor)") from None


class _JsonReady:
    """A YAML value (its shape already checked) as the JSON the API takes, the way kubectl converts
    YAML: keys become strings (``1: a`` is ``"1": a``); ``!!binary`` is its text; sets, NaN and
    infinities have no JSON form: each is an error naming its path."""

    def __init__(self, where: str) -> None:
        self.where = where

    def value(self, value: Any, path: str) -> Any:
        if isinstance(value, list):
            return [self.value(v, f"{path}[{i}]") for i, v in enumerate(value)]
        if isinstance(value, dict):
            out = {}
            for k, v in value.items():
                key = k if isinstance(k, str) else _key_text(k, self.where, path)
                out[key] = self.value(v, f"{path}.{key}" if path else key)
            return out
        if isinstance(value, bytes):
            try:
                return value.decode("utf-8")
            except UnicodeDecodeError:
                raise ManifestError(f"{self.where}: {path}: binary data that is not UTF-8 text") from None
        if isinstance(value, float) and not math.isfinite(value):
            raise ManifestError(f"{self.where}: {path}: {value} is not a JSON number")
        if value is None or isinstance(value, str | int | float):
            return value
        raise ManifestError(f"{self.where}: {path}: a YAML {type(value).__name__} has no JSON form")


def _key_text(key: Any, where: str, path: str) -> str:
    if key is None:
        return "null"
    if isinstance(key, bool):
        return "true" if key else "false"
    if isinstance(key, int | float) and not (isinstance(key, float) and not math.isfinite(key)):
        return str(key)
    raise ManifestError(f"{where}: {path or 'the document'}: a key that is not a string: {key!r}")


def _yaml_error(exc: yaml.MarkedYAMLError, source: str) -> str:
    mark = exc.problem_mark or exc.context_mark
    where = f"{source}: line {mark.line + 1}" if mark is not None else source
    problem = exc.problem or exc.context or "invalid YAML"
    return f"{where}: {problem}"


def _objects(doc: Any, source: str, number: int, line: int) -> list[Manifest]:
    where = f"{source}: line {line}"
    if doc is None:
        return []
    if not isinstance(doc, dict):
        what = "a list" if isinstance(doc, list) else f"a {type(doc).__name__}"
        raise ManifestError(f"{where}: document {number} is {what}, not an object")
    missing = [k for k in ("apiVersion", "kind") if not isinstance(doc.get(k), str) or not doc.get(k)]
    if missing:
        names = " and ".join(f'"{k}"' for k in missing)
        raise ManifestError(f"{where}: document {number} has no {names}")
    if doc["kind"] == "List" and doc["apiVersion"] == "v1":
        items = doc.get("items") or []
        if not isinstance(items, list):
            raise ManifestError(f"{where}: the items of a List must be a list")
        out = []
        for item in items:
            out.extend(_objects(item, source, number, line))
        return out
    meta = doc.get("metadata")
    if meta is not None and not isinstance(meta, dict):
        raise ManifestError(f"{where}: document {number}: metadata must be an object")
    return [Manifest(source, number, line, doc)]
