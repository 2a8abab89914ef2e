"""``label`` and ``annotate``: parse ``key=value`` / ``key-`` changes and apply them to objects.

::

    pictl label pod web tier=front env-          set tier, remove env
    pictl annotate deploy web note='hello world' --overwrite

An existing key with another value needs ``--overwrite`` (kubectl: "'tier' already has a value
(front), and --overwrite is false"). The change is a JSON merge patch of
``metadata.labels``/``metadata.annotations``; objects it would not change are reported as
"not labeled"/"not annotated" and left alone.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

from master.cli.kube import selection
from master.cli.kube.session import Session

__all__ = ["ChangeError", "Changes", "apply_changes", "parse_changes", "split_args"]


class ChangeError(ValueError):
    """Bad key=value arguments (one line)."""


@dataclass(frozen=True, slots=True)
class Changes:
    set: dict[str, str]
    remove: list[str]


def split_args(args: list[str]) -> tuple[list[str], list[str]]:
    """(resource arguments, changes): changes contain "=" or end with "-"."""
    resources_, changes = [], []
    for a in args:
        if "=" in a or (a.endswith("-") and len(a) > 1):
            changes.append(a)
        else:
            resources_.append(a)
    return resources_, changes


def parse_changes(changes: list[str], *, labels: bool) -> Changes:
    from master.api import validation

    word = "label" if labels else "annotation"
    to_set: dict[str, str] = {}
    remove: list[str] = []
    for c in changes:
        if "=" in c:
            key, _, value = c.partition("=")
            problems = validation.is_qualified_name(key)
            if labels:
                problems += validation.is_valid_label_value(value)
            if problems:
                raise ChangeError(f'invalid {word} spec: "{c}": {"; ".join(problems)}')
            if key in to_set:
                raise ChangeError(f"{word} {key} is specified more than once")
            to_set[key] = value
        else:
            key = c[:-1]
            problems = validation.is_qualified_name(key)
            if problems:
                raise ChangeError(f'invalid {word} spec: "{c}": {"; ".join(problems)}')
            remove.append(key)
    overlap = set(to_set) & set(remove)
    if overlap:
        raise ChangeError(f"can not both modify and remove the following {word}(s) in the same command: "
                          f"{', '.join(sorted(overlap))}")
    return Changes(to_set, remove)


async def apply_changes(
    s: Session, refs: list[selection.Ref], changes: Changes, *, labels: bool, overwrite: bool,
    resource_version: str = "",
) -> int:
    """Patch every object; print "pod/web labeled" lines. The exit code."""
    from master.cli.kube import errors as kube_errors
    from master.client import errors

    field = "labels" if labels else "annotations"
    done_word = "labeled" if labels else "annotated"
    code = 0
    for ref in refs:
        try:
            obj = ref.obj or await s.rest.get(ref.resource, ref.name, ref.namespace)
            current: dict[str, Any] = dict((obj.get("metadata") or {}).get(field) or {})
            for key, value in changes.set.items():
                if key in current and current[key] != value and not overwrite:
                    raise ChangeError(f"'{key}' already has a value ({current[key]}), and --overwrite is false")
            patch_values: dict[str, Any] = {k: v for k, v in changes.set.items() if current.get(k) != v}
            for key in changes.remove:
                if key in current:
                    patch_values[key] = None
                else:
                    print(f'{field[:-1]} "{key}" not found.', file=sys.stderr)
            if not patch_values:
                print(f"{ref.ref} not {done_word}")
                continue
            meta: dict[str, Any] = {field: patch_values}
            if resource_version:
                meta["resourceVersion"] = resource_version
            await s.rest.patch(ref.resource, ref.name, ref.namespace, {"metadata": meta}, "merge")
        except ChangeError as exc:
            print(f"error: {exc}", file=sys.stderr)
            code = 1
            continue
        except errors.ApiError as exc:
            print(kube_errors.api_line(exc), file=sys.stderr)
            code = 1
            continue
        print(f"{ref.ref} {done_word}")
    return code
