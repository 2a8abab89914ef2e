"""``pictl annotate``: add, change or remove annotations (see ``master.cli.kube.labeling``)."""

from __future__ import annotations

import typer

from master.cli.label_cmd import prepare_argv, register_changes

__all__ = ["prepare_argv", "register"]


def register(app: typer.Typer) -> None:
    register_changes(app, labels=False)
