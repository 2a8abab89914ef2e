"""The audit log: one JSON line per request stage, as kube-apiserver's ``--audit-log-path`` writes.

An event (``audit.k8s.io/v1`` Event)::

    {"kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Metadata", "auditID": "...",
     "stage": "ResponseComplete", "requestURI": "/api/v1/namespaces/default/pods?limit=500",
     "verb": "list", "user": {"username": "kubernetes-admin", "groups": ["system:masters", ...]},
     "sourceIPs": ["10.77.0.1"], "userAgent": "kubectl/v1.32.0 ...",
     "objectRef": {"resource": "pods", "namespace": "default", "apiVersion": "v1"},
     "responseStatus": {"metadata": {}, "code": 200},
     "requestReceivedTimestamp": "2025-01-01T10:00:00.000001Z", "stageTimestamp": "...",
     "annotations": {"authorization.k8s.io/decision": "allow", "authorization.k8s.io/reason": ""}}

Stages: ``RequestReceived`` (once the user is known, unless the policy omits it) and
``ResponseComplete`` (with the code; for a watch, when it ends). The policy (``audit_policy``)
decides the level; at Request and RequestResponse the request and response bodies are added,
except for Secrets, tokens (serviceaccounts/token, tokenreviews) and whatever is encrypted at
rest: those are logged at Metadata at most, so secret contents never reach the log.

The file rotates like kube-apiserver's (lumberjack): past ``--audit-log-maxsize`` MB (100 when
0) it is renamed ``<name>-<UTC time>.<ext>`` and a new one started; backups beyond
``--audit-log-maxbackup`` (0: keep all) or older than ``--audit-log-maxage`` days (0: keep) are
removed. ``-`` as the path writes to stdout.
"""

from __future__ import annotations

import datetime
import logging
import os
import sys
import threading
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import msgspec

from master.apiserver.audit_policy import Level, Policy
from master.apiserver.authn import UserInfo
from master.apiserver.requestinfo import RequestInfo

__all__ = ["AuditSettings", "Auditor", "Record", "RotatingFile"]

log = logging.getLogger(__name__)
_encoder = msgspec.json.Encoder()

# Never logged with bodies: their bodies are credentials.
NO_BODIES = frozenset({"secrets", "serviceaccounts/token", "tokenreviews", "tokenrequests"})
DEFAULT_MAX_SIZE_MB = 100


@dataclass(frozen=True)
class AuditSettings:
    path: str = ""  # "" off, "-" stdout
    max_age_days: int = 0
    max_backups: int = 0
    max_size_mb: int = 0
    policy_file: Path | None = None

    def validate(self) -> None:
        for name, value in (("--audit-log-maxage", self.max_age_days), ("--audit-log-maxbackup", self.max_backups),
                            ("--audit-log-maxsize", self.max_size_mb)):
            if value < 0:
                raise ValueError(f"invalid {name} {value}: must be >= 0")


def _ts(t: float) -> str:
    return datetime.datetime.fromtimestamp(t, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class RotatingFile:
    """Append lines to ``path``, rotating by size, pruning backups by count and age."""

    def __init__(self, path: Path, *, max_size_mb: int = 0, max_backups: int = 0, max_age_days: int = 0) -> None:
        self.path = path
        self.max_bytes = (max_size_mb or DEFAULT_MAX_SIZE_MB) * 1024 * 1024
        self.max_backups = max_backups
        self.max_age = datetime.timedelta(days=max_age_days) if max_age_days else None
        self._lock = threading.Lock()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file: IO[bytes] = self._open()
        self._size = self._file.tell()

    def _open(self) -> IO[bytes]:
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        return os.fdopen(fd, "ab")

    def backups(self) -> list[Path]:
        stem, ext = self.path.stem, self.path.suffix
        out = [p for p in self.path.parent.glob(f"{stem}-*{ext}") if p != self.path]
        return sorted(out)

    def write(self, line: bytes) -> None:
        with self._lock:
            if self._size and self._size + len(line) > self.max_bytes:
                self._rotate()
            self._file.write(line)
            self._file.flush()
            self._size += len(line)

    def _rotate(self) -> None:
        self._file.close()
        now = datetime.datetime.now(datetime.UTC)
        stamp = now.strftime("%Y-%m-%dT%H-%M-%S.") + f"{now.microsecond // 1000:03d}"
        target = self.path.with_name(f"{self.path.stem}-{stamp}{self.path.suffix}")
        n = 1
        while target.exists():
            target = self.path.with_name(f"{self.path.stem}-{stamp}-{n}{self.path.suffix}")
            n += 1
        os.replace(self.path, target)
        self._file = self._open()
        self._size = 0
        self._prune(now)

    def _prune(self, now: datetime.datetime) -> None:
        backups = self.backups()
        doomed: set[Path] = set()
        if self.max_backups and len(backups) > self.max_backups:
            doomed.update(backups[: len(backups) - self.max_backups])
        if self.max_age is not None:
            for p in backups:
                try:
                    mtime = datetime.datetime.fromtimestamp(p.stat().st_mtime, datetime.UTC)
                except OSError:
                    continue
                if now - mtime > self.max_age:
                    doomed.add(p)
        for p in doomed:
            try:
                p.unlink()
            except OSError as exc:
                log.warning("audit: cannot remove old log %s: %s", p, exc)

    def close(self) -> None:
        with self._lock:
            self._file.close()


class _Stdout:
    def write(self, line: bytes) -> None:
        sys.stdout.buffer.write(line)
        sys.stdout.buffer.flush()

    def close(self) -> None:
        return None


@dataclass
class Record:
    """What the pipeline learns about one request, filled in as it goes."""

    info: RequestInfo
    uri: str
    source_ip: str
    user_agent: str
    received: float
    audit_id: str = ""
    user: UserInfo | None = None
    impersonated: UserInfo | None = None
    decision: str = ""
    reason: str = ""
    level: Level = Level.NONE
    omit: frozenset[str] = frozenset()


def _user(u: UserInfo) -> dict[str, Any]:
    out: dict[str, Any] = {"username": u.name}
    if u.uid:
        out["uid"] = u.uid
    if u.groups:
        out["groups"] = list(u.groups)
    if u.extra:
        out["extra"] = {k: list(v) for k, v in u.extra.items()}
    return out


class Auditor:
    def __init__(self, policy: Policy, sink: RotatingFile | _Stdout, *, no_bodies: Iterable[str] = ()) -> None:
        self.policy = policy
        self.sink = sink
        self.no_bodies = NO_BODIES | frozenset(no_bodies)

    @classmethod
    def from_settings(cls, settings: AuditSettings, *, encrypted: Iterable[str] = ()) -> Auditor | None:
        """None when auditing is off (no path). ValueError for a bad policy or path."""
        if not settings.path:
            return None
        settings.validate()
        from master.apiserver.audit_policy import load_policy

        policy = load_policy(settings.policy_file) if settings.policy_file else Policy.everything()
        sink: RotatingFile | _Stdout
        if settings.path == "-":
            sink = _Stdout()
        else:
            try:
                sink = RotatingFile(Path(settings.path), max_size_mb=settings.max_size_mb,
                                    max_backups=settings.max_backups, max_age_days=settings.max_age_days)
            except OSError as exc:
                raise ValueError(f"--audit-log-path {settings.path}: {exc.strerror or exc}") from exc
        return cls(policy, sink, no_bodies=encrypted)

    def begin(self, record: Record) -> None:
        """The user is known: decide the level, and log RequestReceived unless omitted."""
        record.audit_id = record.audit_id or str(uuid.uuid4())
        user = record.impersonated or record.user
        if user is None:
            return
        record.level, record.omit = self.policy.decide(user, record.info)
        if record.level > Level.NONE and "RequestReceived" not in record.omit:
            self._write(self._event(record, "RequestReceived", record.received))

    def complete(self, record: Record, code: int, *, now: float, request_body: bytes | None = None,
                 response_body: bytes | None = None) -> None:
        if record.user is None:
            # Never authenticated (401): audit it as the anonymous user would be.
            record.user = UserInfo("system:anonymous", ("system:unauthenticated",))
            record.level, record.omit = self.policy.decide(record.user, record.info)
        if record.level == Level.NONE or "ResponseComplete" in record.omit:
            return
        event = self._event(record, "ResponseComplete", now)
        event["responseStatus"] = {"metadata": {}, "code": code}
        if record.level >= Level.REQUEST and self._bodies_allowed(record.info):
            obj = _json_or_none(request_body)
            if obj is not None:
                event["requestObject"] = obj
            if record.level >= Level.REQUEST_RESPONSE:
                obj = _json_or_none(response_body)
                if obj is not None:
                    event["responseObject"] = obj
        self._write(event)

    def _bodies_allowed(self, info: RequestInfo) -> bool:
        if not info.is_resource:
            return True
        full = f"{info.resource}/{info.subresource}" if info.subresource else info.resource
        return info.resource not in self.no_bodies and full not in self.no_bodies

    def _event(self, record: Record, stage: str, stamp: float) -> dict[str, Any]:
        info = record.info
        event: dict[str, Any] = {
            "kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": record.level.title,
            "auditID": record.audit_id, "stage": stage, "requestURI": record.uri, "verb": info.verb,
            "user": _user(record.user) if record.user else {},
            "sourceIPs": [record.source_ip] if record.source_ip else [], "userAgent": record.user_agent,
        }
        if record.impersonated is not None:
            event["impersonatedUser"] = _user(record.impersonated)
        if info.is_resource:
            ref: dict[str, Any] = {"resource": info.resource, "apiVersion": info.version}
            for key, value in (("namespace", info.namespace), ("name", info.name), ("apiGroup", info.group),
                               ("subresource", info.subresource)):
                if value:
                    ref[key] = value
            event["objectRef"] = ref
        event["requestReceivedTimestamp"] = _ts(record.received)
        event["stageTimestamp"] = _ts(stamp)
        if record.decision:
            event["annotations"] = {"authorization.k8s.io/decision": record.decision,
                                    "authorization.k8s.io/reason": record.reason}
        return event

    def _write(self, event: dict[str, Any]) -> None:
        try:
            data = _encoder.encode(event)
        except RecursionError:
            # A body nested deep enough to decode but not to encode inside the event: the event
            # without the bodies (never a failed request because of its audit record).
            data = _encoder.encode({k: v for k, v in event.items() if k not in ("requestObject", "responseObject")})
        try:
            self.sink.write(data + b"\n")
        except OSError as exc:
            log.error("audit: cannot write the audit log: %s", exc)

    def close(self) -> None:
        self.sink.close()


def _json_or_none(data: bytes | None) -> Any:
    """A body as JSON (kubectl's protobuf bodies decoded, YAML and anything else left out)."""
    if not data:
        return None
    if data.startswith(b"k8s\x00"):
        from master.apiserver import errors, protobuf

        try:
            return protobuf.decode(data)
        except errors.ApiError:
            return None
    try:
        return msgspec.json.decode(data)
    except (msgspec.DecodeError, RecursionError):  # a body the apiserver refused as too deep, too
        return None
