"""The real etcdctl (API v3) against our store and against a real etcd 3.4: the same script of
commands on a fresh server of each, and the same output, exit code and error text from both.

Only what must differ is normalized: ports, client UUIDs and timestamps in etcdctl's warning
lines, cluster/member/lease ids, raft terms and indexes, versions and sizes, latencies.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.fixtures.etcd import start_etcd
from tests.fixtures.store_process import start_store

pytestmark = [pytest.mark.etcd]

ETCDCTL = shutil.which("etcdctl")
BIG = "x" * (1536 * 1024)  # over --max-request-bytes once key and framing are added


@dataclass(frozen=True)
class Step:
    name: str
    args: tuple[str, ...]
    stdin: str = ""
    # Some commands (watch) never end by themselves: stop them after this many seconds.
    stop_after: float = 0.0


def _txn(compares: list[str], success: list[str], failure: list[str]) -> str:
    return "\n".join(compares) + "\n\n" + "\n".join(success) + "\n\n" + "\n".join(failure) + "\n\n"


STEPS: tuple[Step, ...] = (
    Step("put", ("put", "foo", "bar")),
    Step("put-2", ("put", "foo2", "bar2")),
    Step("put-3", ("put", "other", "x")),
    Step("get", ("get", "foo")),
    Step("get-value-only", ("get", "foo", "--print-value-only")),
    Step("get-prefix", ("get", "foo", "--prefix")),
    Step("get-all-keys-only", ("get", "", "--prefix", "--keys-only")),
    Step("get-from-key", ("get", "foo2", "--from-key")),
    Step("put-prev-kv", ("put", "foo", "baz", "--prev-kv")),
    Step("get-rev", ("get", "foo", "--rev=2")),
    Step("get-limit", ("get", "foo", "--prefix", "--limit=1")),
    Step("get-sorted", ("get", "", "--prefix", "--order=DESCEND", "--sort-by=MODIFY")),
    Step("get-json", ("get", "foo", "-w", "json")),
    Step("get-fields", ("get", "foo", "-w", "fields")),
    Step("get-missing", ("get", "nothing")),
    Step("get-future-rev", ("get", "foo", "--rev=1000")),
    Step("get-empty-key", ("get", "")),
    Step("put-empty-key", ("put", "", "x")),
    Step("put-too-large", ("put", "big"), stdin=BIG),
    Step("put-ignore-value-missing", ("put", "newkey", "--ignore-value")),
    Step("put-missing-lease", ("put", "k", "v", "--lease=1234")),
    Step("del-missing", ("del", "nothing")),
    Step("del-prev-kv", ("del", "foo2", "--prev-kv")),
    Step("del-empty-key", ("del", "")),
    Step(
        "txn-success", ("txn",), _txn(['value("foo") = "baz"'], ["put foo qux", "get foo"], ["put foo nope"])
    ),
    Step("txn-failure", ("txn",), _txn(['value("foo") = "baz"'], ["put foo nope"], ["get foo", "del other"])),
    Step("txn-version", ("txn", "-w", "json"), _txn(['ver("foo") > "1"'], ["get foo --keys-only"], [])),
    Step("txn-missing-key", ("txn",), _txn(['create("absent") = "0"'], ["put absent here"], [])),
    Step("txn-too-many-ops", ("txn",), _txn([], [f"put k{i} v" for i in range(129)], [])),
    Step("txn-duplicate-key", ("txn",), _txn([], ["put dup 1", "put dup 2"], [])),
    Step("compact-future", ("compact", "1000")),
    Step("compact", ("compact", "4")),
    Step("compact-again", ("compact", "3")),
    Step("get-compacted", ("get", "foo", "--rev=2")),
    Step("watch-history", ("watch", "foo", "--rev=5", "--prev-kv"), stop_after=2.0),
    Step("watch-prefix-history", ("watch", "--prefix", "", "--rev=5"), stop_after=2.0),
    Step("watch-compacted", ("watch", "foo", "--rev=2")),
    Step("lease-grant", ("lease", "grant", "100")),
    Step("put-lease", ("put", "leased", "v", "--lease={lease}")),
    Step("lease-ttl", ("lease", "timetolive", "{lease}", "--keys")),
    Step("lease-keep-alive", ("lease", "keep-alive", "--once", "{lease}")),
    Step("lease-list", ("lease", "list")),
    Step("lease-revoke", ("lease", "revoke", "{lease}")),
    Step("get-revoked-key", ("get", "leased")),
    Step("lease-revoke-again", ("lease", "revoke", "{lease}")),
    Step("lease-ttl-missing", ("lease", "timetolive", "1234")),
    Step("lease-keep-alive-missing", ("lease", "keep-alive", "--once", "1234")),
    Step("lease-grant-too-large", ("lease", "grant", "9000000001")),
    Step("alarm-list", ("alarm", "list")),
    Step("auth-enable", ("auth", "enable")),
    Step("user-list", ("user", "list")),
    Step("defrag", ("defrag",)),
    Step("endpoint-health", ("endpoint", "health")),
    Step("endpoint-status", ("endpoint", "status")),
    Step("member-list", ("member", "list")),
)


@dataclass(frozen=True)
class Result:
    code: int
    stdout: str
    stderr: str


_NORMALIZE: tuple[tuple[str, str], ...] = (
    (r'"ts":"[^"]*"', '"ts":"TS"'),
    (r"endpoint://client-[0-9a-f-]+/", "endpoint://client-UUID/"),
    (r"127\.0\.0\.1:\d+", "ENDPOINT"),
    (
        r'"(cluster_id|member_id|leader|ID|raft_term|raftIndex|raftTerm|raftAppliedIndex|dbSize|dbSizeInUse)":\d+',
        r'"\1":N',
    ),
    (r"\"(ClusterID|MemberID|RaftTerm)\" : \d+", r"\"\1\" : N"),
    (r"\b[0-9a-f]{16}\b", "HEXID"),
    (r"remaining\(\d+s\)", "remaining(Ns)"),
    (r"took = [0-9.]+[µnm]?s", "took = T"),
)


def normalize(text: str) -> str:
    for pattern, repl in _NORMALIZE:
        text = re.sub(pattern, repl, text)
    return text


def _run(endpoint: str, step: Step, lease: str) -> Result:
    assert ETCDCTL is not None
    args = [a.replace("{lease}", lease) for a in step.args]
    env = {"ETCDCTL_API": "3", "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    cmd = [ETCDCTL, f"--endpoints={endpoint}", "--command-timeout=10s", *args]
    if step.stop_after:
        cmd = ["timeout", "--signal=INT", str(step.stop_after), *cmd]
    proc = subprocess.run(cmd, input=step.stdin, capture_output=True, text=True, env=env, timeout=60)
    return Result(proc.returncode, proc.stdout, proc.stderr)


def _script(endpoint: str) -> dict[str, Result]:
    results: dict[str, Result] = {}
    lease = "0"
    for step in STEPS:
        results[step.name] = res = _run(endpoint, step, lease)
        if step.name == "lease-grant":
            m = re.match(r"lease ([0-9a-f]+) granted", res.stdout)
            assert m, res
            lease = m.group(1)
    return results


@pytest.fixture(scope="module")
def transcripts(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[dict[str, Result], dict[str, Result]]]:
    if ETCDCTL is None:
        pytest.skip("etcdctl is not installed (Debian package etcd-client)")
    base = tmp_path_factory.mktemp("etcdctl")
    etcd = start_etcd(base)
    try:
        theirs = _script(etcd.endpoint)
    finally:
        etcd.stop()
    store = start_store(base / "ours")
    try:
        ours = _script(store.endpoint)
    finally:
        store.stop()
    yield theirs, ours


# Fields of `endpoint status` / `member list` that describe the server, not the protocol.
def _table_shape(text: str) -> list[int]:
    return [len(line.split(", ")) for line in text.splitlines()]


@pytest.mark.parametrize("step", [pytest.param(s, id=s.name) for s in STEPS])
def test_etcdctl_prints_what_etcd_prints(
    step: Step, transcripts: tuple[dict[str, Result], dict[str, Result]]
) -> None:
    theirs, ours = (t[step.name] for t in transcripts)
    assert ours.code == theirs.code, (ours, theirs)
    if step.name in ("endpoint-status", "member-list"):
        assert _table_shape(ours.stdout) == _table_shape(theirs.stdout), (ours, theirs)
        return
    assert normalize(ours.stdout) == normalize(theirs.stdout)
    assert normalize(ours.stderr) == normalize(theirs.stderr)


def test_endpoint_status_and_member_list_describe_our_store(
    transcripts: tuple[dict[str, Result], dict[str, Result]],
) -> None:
    _, ours = transcripts
    # ENDPOINT, ID, VERSION, DB SIZE, IS LEADER, IS LEARNER, RAFT TERM, RAFT INDEX, RAFT APPLIED INDEX, ERRORS
    fields = ours["endpoint-status"].stdout.strip().split(", ")
    assert fields[1] and fields[2].startswith("3.4") and fields[4:6] == ["true", "false"]
    member = ours["member-list"].stdout.strip().split(", ")
    assert member[1:3] == ["started", "default"] and member[4].startswith("http://127.0.0.1:")
