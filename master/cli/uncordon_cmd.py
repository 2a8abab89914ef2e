"""``pictl uncordon``: mark nodes schedulable again (see ``cordon_cmd``)."""

from __future__ import annotations

import typer

from master.cli.cordon_cmd import register_command

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    register_command(app, cordon=False)
