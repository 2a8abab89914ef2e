"""kill -9 a process writing through the sqlite store; every acknowledged write must survive.

(The full-server variant, over gRPC, is in tests/integration/store.)
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from master.store.settings import StoreSettings
from master.store.store import Store
from master.store.types import OpRange

WRITER = """
import asyncio, sys
from pathlib import Path
from master.store.settings import StoreSettings
from master.store.store import Store
from master.store.types import OpPut

async def main(path, cycle):
    async with Store(StoreSettings(data_dir=Path(path))) as store:
        async def writer(w):
            n = 0
            while True:
                key = f"c{cycle}/w{w}/{n}".encode()
                resp = await store.put(OpPut(key, b"x" * 200))
                print(key.decode(), resp.header.revision, flush=True)
                n += 1
        await asyncio.gather(*[writer(w) for w in range(8)])

asyncio.run(main(sys.argv[1], sys.argv[2]))
"""


async def _reopen_and_check(path: Path, acked: dict[bytes, int], last_revision: int) -> int:
    async with Store(StoreSettings(data_dir=path)) as store:
        assert store.kv.committed >= max(acked.values())
        assert store.kv.committed >= last_revision  # never goes back
        for key, rev in acked.items():
            resp = store.range(OpRange(key))
            assert resp.count == 1, f"acknowledged {key!r} at {rev} is lost"
            assert resp.kvs[0].mod_revision == rev
        return store.kv.committed


@pytest.mark.slow
def test_acknowledged_writes_survive_kill_9(tmp_path: Path) -> None:
    rng = random.Random(7)
    acked: dict[bytes, int] = {}
    last_revision = 1
    for cycle in range(4):
        proc = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(tmp_path), str(cycle)],
            stdout=subprocess.PIPE,
            cwd=Path(__file__).resolve().parents[4],
            start_new_session=True,
        )
        try:
            assert proc.stdout is not None
            first = proc.stdout.readline()  # the store is open and writing
            assert first, "the writer did not start"
            time.sleep(rng.uniform(0.1, 0.5))
            os.killpg(proc.pid, signal.SIGKILL)
            out = first + proc.stdout.read()
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        for line in out.decode().splitlines():
            parts = line.split()
            if len(parts) == 2:  # the last line may be cut off by the kill
                acked[parts[0].encode()] = int(parts[1])
        last_revision = asyncio.run(_reopen_and_check(tmp_path, acked, last_revision))
    assert len(acked) > 20
