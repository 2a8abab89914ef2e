"""The static token file (``--token-auth-file``), as kube-apiserver reads it.

One CSV line per token, at least three columns and an optional quoted group list::

    31ada4fd-adec-460c-809a-9e56ceb75269,alice,1001,"ops,dev"
    5f1ba9d4-c1a3-4a8c-9b32-7c2b5a81c9e4,ci-bot,1002

Blank lines and lines starting with ``#`` are skipped. The file is read once at start-up.
"""

from __future__ import annotations

import csv
from pathlib import Path

from master.apiserver.authn import Outcome, UserInfo

__all__ = ["StaticTokenAuthenticator", "load_token_file"]


def load_token_file(path: Path) -> dict[str, UserInfo]:
    """token -> user; ValueError naming the file and line for anything malformed."""
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"--token-auth-file {path}: {getattr(exc, 'strerror', None) or exc}") from exc
    tokens: dict[str, UserInfo] = {}
    for lineno, row in enumerate(csv.reader(text.splitlines()), start=1):
        if not row or not "".join(row).strip() or row[0].lstrip().startswith("#"):
            continue
        if len(row) < 3:
            raise ValueError(f"--token-auth-file {path}:{lineno}: want token,user,uid[,\"group1,group2\"]")
        token, user, uid = (c.strip() for c in row[:3])
        if not token or not user:
            raise ValueError(f"--token-auth-file {path}:{lineno}: empty token or user name")
        if token in tokens:
            raise ValueError(f"--token-auth-file {path}:{lineno}: duplicate token")
        groups = tuple(g.strip() for g in row[3].split(",") if g.strip()) if len(row) > 3 else ()
        tokens[token] = UserInfo(user, groups, uid)
    return tokens


class StaticTokenAuthenticator:
    def __init__(self, tokens: dict[str, UserInfo]) -> None:
        self.tokens = tokens

    @classmethod
    def from_file(cls, path: Path) -> StaticTokenAuthenticator:
        return cls(load_token_file(path))

    async def authenticate_token(self, token: str) -> Outcome:
        return self.tokens.get(token)
