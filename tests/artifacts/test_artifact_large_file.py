"""A 2 GB artifact goes up and comes back through the real server with memory bounded: the upload and the
download stream (client and server share this process, so the bound covers both)."""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx

from server.api_helpers import api, make_run, ok
from support.servers import running_server

SIZE = 2 * 1024 * 1024 * 1024
PIECE = 4 * 1024 * 1024
MAX_GROWTH = 200 * 1024 * 1024


def _rss() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class PeakRss:
    """The highest resident size seen while the block runs, sampled every 10 ms."""

    def __init__(self) -> None:
        self.peak = _rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.01):
            self.peak = max(self.peak, _rss())

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def test_2_gb_round_trip_with_bounded_memory(home: Path, tmp_path: Path) -> None:
    sent = hashlib.sha256()
    block = os.urandom(PIECE)

    def body() -> Iterator[bytes]:
        for index in range(SIZE // PIECE):
            # Each piece differs, so a mix-up of pieces would change the hash.
            piece = index.to_bytes(8, "little") + block[8:]
            sent.update(piece)
            yield piece

    with running_server(home, f"sqlite:///{tmp_path / 'big.db'}") as url, api(url) as client:
        run = make_run(client)
        baseline = _rss()
        with PeakRss() as memory:
            stored = ok(client.put(f"/runs/{run['id']}/artifacts/big.bin", content=body()), 201)
            received = hashlib.sha256()
            size = 0
            # A plain client: the checking client of api_helpers reads every response whole.
            with (
                httpx.Client(base_url=f"{url}/api/v1", timeout=300) as plain,
                plain.stream("GET", f"/runs/{run['id']}/artifacts/big.bin") as response,
            ):
                for chunk in response.iter_bytes():
                    received.update(chunk)
                    size += len(chunk)
    assert stored["size"] == SIZE == size
    assert stored["sha256"] == sent.hexdigest() == received.hexdigest()
    growth = memory.peak - baseline
    assert growth < MAX_GROWTH, f"memory grew by {growth / 2**20:.0f} MiB moving a {SIZE / 2**20:.0f} MiB file"
