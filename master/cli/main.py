"""``pictl``: the composition root.

Each command lives in its own module under ``master.cli`` and exposes ``register(app)``;
this module only assembles them and turns every failure into one readable line.
"""

from __future__ import annotations

import importlib
import sys

import typer

__all__ = ["app", "main"]

app = typer.Typer(
    name="pictl",
    help="picluster: a Kubernetes-style cluster controller for Raspberry Pi clusters.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
)

# Command modules, each with ``register(app)``. Order is the order of ``pictl --help``.
COMMANDS: tuple[str, ...] = (
    "master.cli.version_cmd",
    "master.cli.master_cmd",
    "master.cli.store_cmd",
    "master.cli.testbed_cmd",
)


@app.callback()
def _root() -> None:
    """picluster: a Kubernetes-style cluster controller for Raspberry Pi clusters."""


class CLIError(Exception):
    """A failure to report as one line on stderr with a non-zero exit code."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def _register_all() -> None:
    for name in COMMANDS:
        importlib.import_module(name).register(app)


def main(argv: list[str] | None = None) -> int:
    _register_all()
    try:
        app(args=argv, standalone_mode=True)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except CLIError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # the CLI's promise: one readable line, never a traceback
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
