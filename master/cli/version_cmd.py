"""``pictl version``."""

from __future__ import annotations

import platform

import typer

import master


def register(app: typer.Typer) -> None:
    @app.command("version")
    def version() -> None:
        """Print the picluster version."""
        typer.echo(f"picluster {master.__version__} (python {platform.python_version()})")
