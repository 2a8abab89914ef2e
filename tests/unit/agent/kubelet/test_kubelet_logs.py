"""CRI log files: parsing, full reads, tails, timestamps, since, follow, rotation."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from agent.kubelet import logs
from agent.kubelet.logs import LogOptions


def cri(path: Path, *lines: str) -> None:
    with open(path, "a") as f:
        for ln in lines:
            f.write(ln + "\n")


async def collect(path: Path, options: LogOptions, **kw: object) -> str:
    out = b""
    async for chunk in logs.read(path, options, **kw):  # type: ignore[arg-type]
        out += chunk
    return out.decode()


@pytest.mark.parametrize(
    ("raw", "want"),
    [
        pytest.param(b"2016-10-06T00:17:09.669794202Z stdout F hello world",
                     ("2016-10-06T00:17:09.669794202Z", "stdout", False, b"hello world"), id="full"),
        pytest.param(b"2016-10-06T00:17:09.669794202Z stderr P part", ("2016-10-06T00:17:09.669794202Z", "stderr",
                                                                       True, b"part"), id="partial"),
        pytest.param(b"2016-10-06T00:17:09Z stdout F", ("2016-10-06T00:17:09Z", "stdout", False, b""), id="empty"),
        pytest.param(b"garbage", None, id="garbage"),
        pytest.param(b"t stdin F x", None, id="bad-stream"),
    ],
)
def test_parse_line(raw: bytes, want: tuple[str, str, bool, bytes] | None) -> None:
    got = logs.parse_line(raw)
    assert (None if got is None else (got.time, got.stream, got.partial, got.text)) == want


@pytest.fixture
def log(tmp_path: Path) -> Path:
    p = tmp_path / "0.log"
    cri(p,
        "2025-01-01T00:00:01.000000000Z stdout F one",
        "2025-01-01T00:00:02.000000000Z stderr F two",
        "2025-01-01T00:00:03.000000000Z stdout P thr",
        "2025-01-01T00:00:03.500000000Z stdout F ee",
        "2025-01-01T00:00:04.000000000Z stdout F four")
    return p


async def test_full_read_joins_partial_lines(log: Path) -> None:
    assert await collect(log, LogOptions()) == "one\ntwo\nthree\nfour\n"


async def test_timestamps(log: Path) -> None:
    text = await collect(log, LogOptions(timestamps=True))
    assert text.splitlines()[0] == "2025-01-01T00:00:01.000000000Z one"


@pytest.mark.parametrize(("n", "want"), [(0, ""), (1, "four\n"), (2, "three\nfour\n"), (10, "one\ntwo\nthree\nfour\n")])
async def test_tail_counts_full_lines(log: Path, n: int, want: str) -> None:
    assert await collect(log, LogOptions(tail_lines=n)) == want


async def test_tail_of_a_big_file(tmp_path: Path) -> None:
    p = tmp_path / "big.log"
    cri(p, *(f"2025-01-01T00:00:00Z stdout F line {i} {'x' * 100}" for i in range(5000)))
    text = await collect(p, LogOptions(tail_lines=3))
    assert [t.split()[1] for t in text.splitlines()] == ["4997", "4998", "4999"]


async def test_since(log: Path) -> None:
    since = logs._epoch("2025-01-01T00:00:03.200000000Z")
    assert await collect(log, LogOptions(since=since)) == "ee\nfour\n"


async def test_missing_file_reads_empty(tmp_path: Path) -> None:
    assert await collect(tmp_path / "absent.log", LogOptions()) == ""


async def test_follow_streams_appended_lines_until_the_container_stops(log: Path) -> None:
    running = {"yes": True}

    async def still_running() -> bool:
        return running["yes"]

    got: list[str] = []

    async def follow() -> None:
        async for chunk in logs.read(log, LogOptions(follow=True, tail_lines=1, poll_interval=0.01),
                                     still_running=still_running):
            got.append(chunk.decode())

    task = asyncio.create_task(follow())
    await asyncio.sleep(0.05)
    cri(log, "2025-01-01T00:00:05Z stdout F five")
    await asyncio.sleep(0.05)
    cri(log, "2025-01-01T00:00:06Z stdout F six")
    running["yes"] = False
    await asyncio.wait_for(task, 5)
    assert "".join(got) == "four\nfive\nsix\n"


async def test_follow_goes_on_into_a_rotated_file(log: Path) -> None:
    running = {"yes": True}

    async def still_running() -> bool:
        return running["yes"]

    got: list[str] = []

    async def follow() -> None:
        async for chunk in logs.read(log, LogOptions(follow=True, tail_lines=0, poll_interval=0.01),
                                     still_running=still_running):
            got.append(chunk.decode())

    task = asyncio.create_task(follow())
    await asyncio.sleep(0.05)
    assert logs.rotate(log, max_bytes=10, max_files=5, now=1_700_000_000)
    cri(log, "2025-01-01T00:00:07Z stdout F after rotation")
    await asyncio.sleep(0.1)
    running["yes"] = False
    await asyncio.wait_for(task, 5)
    assert "".join(got) == "after rotation\n"


async def test_rotation_keeps_max_files_and_full_reads_span_them(log: Path) -> None:
    for i in range(6):
        cri(log, f"2025-01-01T00:01:0{i}Z stdout F batch {i}")
        assert logs.rotate(log, max_bytes=1, max_files=3, now=1_700_000_000 + i)
    cri(log, "2025-01-01T00:02:00Z stdout F current")
    assert len(logs.rotated_files(log)) == 2
    assert await collect(log, LogOptions()) == "batch 4\nbatch 5\ncurrent\n"
    assert not logs.rotate(log, max_bytes=10_000, max_files=3, now=1_700_000_100)


def test_tail_text_is_bounded(log: Path) -> None:
    assert logs.tail_text(log, lines=2, max_bytes=100) == "three\nfour\n"
    assert logs.tail_text(log, lines=10, max_bytes=5) == "four\n"
