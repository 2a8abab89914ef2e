"""Client and API failures as kubectl words them: one line each.

::

    error: The connection to the server 10.77.0.10:6443 was refused - did you specify the right host or port?
    error: kubeconfig /root/.kube/config: context "foo" not found
    Error from server (NotFound): pods "x" not found
    Error from server (NotFound): error when creating "web.yaml": namespaces "nope" not found
    The Pod "x" is invalid: spec.containers[0].image: Required value
    error: You must be logged in to the server (Unauthorized)

``line(exc)`` gives (prefix, text) for an expected failure and None for anything else (a bug,
left to ``master.cli.main``'s last-resort handler); ``cli_error(exc)`` wraps it in ``CLIError``.
"""

from __future__ import annotations

from master.cli.main import CLIError
from master.client import errors

__all__ = ["api_line", "cli_error", "line", "one_line"]


def one_line(text: str) -> str:
    """Server messages may hold newlines (an agent's answer); a CLI error is one line."""
    return " ".join(part.strip() for part in text.strip().splitlines() if part.strip())


def api_line(exc: errors.ApiError, context: str = "") -> str:
    """kubectl's line for a Status failure; ``context`` is e.g. 'error when creating "x.yaml"'."""
    message = one_line(exc.message)
    if isinstance(exc, errors.Unauthorized):
        return "error: You must be logged in to the server (Unauthorized)"
    if isinstance(exc, errors.Invalid) and not context:
        return f"The {message}" if " is invalid" in message else f"Error from server (Invalid): {message}"
    if context:
        message = f"{context}: {message}"
    return f"Error from server ({exc.reason}): {message}"


def line(exc: BaseException, context: str = "") -> tuple[str, str] | None:
    """(prefix, message) for an expected failure, None for a bug."""
    if isinstance(exc, errors.ApiError):
        return "", api_line(exc, context)
    if isinstance(exc, errors.ClientError):
        text = one_line(str(exc)) or type(exc).__name__
        return "error: ", f"{context}: {text}" if context else text
    return None


def cli_error(exc: BaseException, context: str = "") -> CLIError | None:
    found = line(exc, context)
    if found is None:
        return None
    prefix, message = found
    return CLIError(message, prefix=prefix)
