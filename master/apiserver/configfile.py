"""The apiserver's configuration files (``--encryption-provider-config``,
``--audit-policy-file``): a YAML (or JSON) document read whole and handed to its parser;
anything unreadable or malformed is one ValueError naming the flag and the file, with the
parser's own words (never a value from the file: encryption configs hold keys)::

    ValueError: --audit-policy-file /etc/audit.yaml: rules[0].level: unsupported value 'Loud'
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import yaml

from master.api import yamlfmt

__all__ = ["load"]

T = TypeVar("T")


def load(path: Path, flag: str, parse: Callable[[Any], T]) -> T:
    try:
        doc = yamlfmt.load(path.read_text())
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ValueError(f"{flag} {path}: {getattr(exc, 'strerror', None) or exc}") from exc
    try:
        return parse(doc)
    except ValueError as exc:
        raise ValueError(f"{flag} {path}: {exc}") from exc
