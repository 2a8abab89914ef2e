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
    "master.cli.demo_cmd",
    "master.cli.get_cmd",
    "master.cli.apply_cmd",
    "master.cli.delete_cmd",
    "master.cli.create_cmd",
    "master.cli.describe_cmd",
    "master.cli.logs_cmd",
    "master.cli.scale_cmd",
    "master.cli.label_cmd",
    "master.cli.annotate_cmd",
    "master.cli.cordon_cmd",
    "master.cli.uncordon_cmd",
    "master.cli.drain_cmd",
    "master.cli.rollout_cmd",
    "master.cli.top_cmd",
    "master.cli.events_cmd",
    "master.cli.config_cmd",
    "master.cli.patch_cmd",
    "master.cli.wait_cmd",
    "master.cli.api_resources_cmd",
    "master.cli.agent_cmd",
    "master.cli.token_cmd",
    "master.cli.auth_cmd",
    "master.cli.secrets_cmd",
)


@app.callback()
def _root() -> None:
    """picluster: a Kubernetes-style cluster controller for Raspberry Pi clusters."""


class CLIError(Exception):
    """A failure to report as one line on stderr with a non-zero exit code.

    ``prefix`` starts the line ("error: "); kubectl prints server errors without it
    ("Error from server (NotFound): ...").
    """

    def __init__(self, message: str, code: int = 1, *, prefix: str = "error: ") -> None:
        super().__init__(message)
        self.code = code
        self.prefix = prefix


# Global flags of the cluster commands that take a value; kubectl accepts them before the verb.
_LEADING_VALUE_FLAGS = frozenset({"--kubeconfig", "--context", "--namespace", "-n", "--server", "-s",
                                  "--request-timeout"})


def _split_leading_flags(argv: list[str]) -> tuple[list[str], list[str]]:
    """(leading global flags, the rest): ``-n x get pods`` -> (["-n", "x"], ["get", "pods"])."""
    i = 0
    while i < len(argv):
        arg = argv[i]
        name = arg.split("=", 1)[0]
        if name not in _LEADING_VALUE_FLAGS:
            break
        i += 1 if "=" in arg else 2
    return argv[:i], argv[i:]


def _register(argv: list[str]) -> list[str]:
    """Register the commands and return the argv to parse.

    Start-up time matters on a Pi: when the verb's own module (``get`` -> ``master.cli.get_cmd``)
    is listed, only that module is imported; ``pictl --help`` and unknown verbs import all.
    Leading global flags move behind the verb, and the module's ``prepare_argv(argv)``, if it
    has one, may rewrite the arguments.
    """
    leading, rest = _split_leading_flags(argv)
    verb = rest[0] if rest else ""
    module = f"master.cli.{verb.replace('-', '_')}_cmd"
    if verb and not verb.startswith("-") and module in COMMANDS:
        mod = importlib.import_module(module)
        mod.register(app)
        args = [verb, *rest[1:], *leading]
        # A module may rewrite its arguments first (kubectl's "--wait=false" boolean flags).
        prepare = getattr(mod, "prepare_argv", None)
        return list(prepare(args)) if prepare is not None else args
    for name in COMMANDS:
        importlib.import_module(name).register(app)
    return argv


def _usage_line(exc: typer.TyperException) -> str:
    """A usage error (unknown flag, missing argument) as one line, pointing at the right help;
    "" when there is nothing to add (``pictl`` alone has printed its help)."""
    message = " ".join(str(getattr(exc, "format_message", exc.__str__)()).split())
    if not message:
        return ""
    command = getattr(getattr(exc, "ctx", None), "command_path", "") or "pictl"
    return f"error: {message} (see '{command} --help')"


def main(argv: list[str] | None = None) -> int:
    args = _register(list(sys.argv[1:] if argv is None else argv))
    try:
        # Not standalone: usage errors come back here to be printed as one line (typer's own
        # rendering is a multi-line panel); --help and typer.Exit return their exit code.
        code = app(args=args, standalone_mode=False)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except CLIError as exc:
        print(f"{exc.prefix}{exc}", file=sys.stderr)
        return exc.code
    except typer.Abort:
        print("Aborted!", file=sys.stderr)
        return 1
    except typer.TyperException as exc:
        line = _usage_line(exc)
        if line:
            print(line, file=sys.stderr)
        return int(getattr(exc, "exit_code", 2))
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # the CLI's promise: one readable line, never a traceback
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return code if isinstance(code, int) and not isinstance(code, bool) else 0


if __name__ == "__main__":
    # ``python -m master.cli.main``: run the importable module, so that command modules raising
    # ``master.cli.main.CLIError`` are caught by the same class.
    from master.cli.main import main as _main

    sys.exit(_main())
