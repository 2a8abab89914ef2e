"""The tiny subset of busybox ``sh`` that FakeRuntime "runs", so one contract test passes on both
runtimes.

A command line becomes a list of steps, run in order::

    ["sh", "-c", "echo hello; echo oops >&2; exit 3"]
        -> Output(stdout, "hello\\n"), Output(stderr, "oops\\n"), Exit(3)
    ["sleep", "3600"]                          -> Sleep(3600), Exit(0)
    ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"]
        -> TERM handled with exit 0, Sleep(3600), Exit(0)

Understood: ``echo`` (with ``>&2``), ``exit N``, ``sleep N|infinity``, ``true``, ``false``,
``trap 'exit N' TERM``, ``wait``, statements separated by ``;``, newlines, ``&&`` (run
unconditionally) or ``&`` (run in the foreground: ``sleep 9 & wait`` sleeps 9), and ``$VAR``/``${VAR}`` from the environment. Any other command is a long-running
program (a server): ``Forever``. A script's exit code is its last command's status.

As with PID 1 in a container, TERM is ignored unless the script traps it.
"""

from __future__ import annotations

import math
import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

__all__ = ["Exit", "Forever", "Output", "Program", "Sleep", "Status", "parse"]


@dataclass(frozen=True, slots=True)
class Output:
    stream: str  # "stdout" or "stderr"
    text: str


@dataclass(frozen=True, slots=True)
class Sleep:
    seconds: float  # math.inf for "sleep infinity"


@dataclass(frozen=True, slots=True)
class Status:
    """A command finished with this status; the script goes on."""

    code: int


@dataclass(frozen=True, slots=True)
class Exit:
    code: int


@dataclass(frozen=True, slots=True)
class Forever:
    """An unknown program: it runs until it is signalled."""

    name: str


Step = Output | Sleep | Status | Exit | Forever


@dataclass(frozen=True, slots=True)
class Program:
    steps: tuple[Step, ...]
    term_exit: int | None = None  # exit code on TERM when trapped; None: TERM is ignored


_VAR = re.compile(r"\$(?:\{(\w+)\}|(\w+))")
_SHELLS = {"sh", "/bin/sh", "bash", "/bin/bash", "ash"}


def _expand(text: str, env: Mapping[str, str]) -> str:
    return _VAR.sub(lambda m: env.get(m.group(1) or m.group(2), ""), text)


def _sleep_seconds(arg: str) -> float | None:
    if arg in ("inf", "infinity"):
        return math.inf
    try:
        value = float(arg.rstrip("s"))
    except ValueError:
        return None
    return value if value >= 0 else None


def _command(words: list[str]) -> tuple[list[Step], int | None]:
    """Steps for one simple command, and a TERM trap code if it sets one."""
    name, args = words[0].rsplit("/", 1)[-1], words[1:]
    if name == "echo":
        stream = "stdout"
        if args[-2:] == [">&", "2"]:
            stream, args = "stderr", args[:-2]
        newline = "\n"
        if args and args[0] == "-n":
            newline, args = "", args[1:]
        return [Output(stream, " ".join(args) + newline), Status(0)], None
    if name == "exit":
        try:
            return [Exit(int(args[0]) & 0xFF if args else 0)], None
        except ValueError:
            return [Exit(2)], None
    if name == "sleep":
        seconds = _sleep_seconds(args[0]) if len(args) == 1 else None
        if seconds is None:
            return [Output("stderr", "sleep: invalid number\n"), Status(1)], None
        return [Sleep(seconds), Status(0)], None
    if name in ("true", ":"):
        return [Status(0)], None
    if name == "false":
        return [Status(1)], None
    if name == "wait":
        return [], None
    if name == "trap":
        if len(args) >= 2 and {"TERM", "SIGTERM", "15"} & set(args[1:]):
            action = args[0].split()
            if len(action) == 2 and action[0] == "exit" and action[1].isdigit():
                return [], int(action[1])
            if len(action) == 1 and action[0] == "exit":
                return [], 0
        return [], None
    return [Forever(name)], None


def _statements(script: str) -> list[list[str]]:
    statements: list[list[str]] = []
    for line in script.splitlines():
        lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|<>")
        lexer.whitespace_split = True
        current: list[str] = []
        for token in lexer:
            if token in (";", "&", "&&"):
                statements.append(current)
                current = []
            else:
                current.append(token)
        statements.append(current)
    return [s for s in statements if s]


def _script(script: str, env: Mapping[str, str]) -> Program:
    steps: list[Step] = []
    term_exit: int | None = None
    try:
        statements = _statements(_expand(script, env))
    except ValueError:
        return Program((Output("stderr", "sh: syntax error\n"), Exit(2)))
    for words in statements:
        more, trap = _command(words)
        steps.extend(more)
        if trap is not None:
            term_exit = trap
    return Program(tuple(steps), term_exit)


def parse(argv: Sequence[str], env: Mapping[str, str] | None = None) -> Program:
    """The steps ``argv`` takes. An empty argv (no entrypoint, no cmd) runs forever."""
    env = env or {}
    if not argv:
        return Program((Forever(""),))
    name = argv[0]
    if name in _SHELLS:
        if len(argv) >= 3 and argv[1] == "-c":
            return _script(argv[2], env)
        # A shell with no script and no stdin reads EOF and exits.
        return Program((Status(0),))
    steps, term = _command([_expand(a, env) for a in argv])
    return Program(tuple(steps), term)
