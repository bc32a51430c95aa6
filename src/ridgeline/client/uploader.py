"""The SDK's artifact uploader: one background thread per run, so ``log_artifact`` returns at once.

A logging call records what to upload (a file path with its size and modification time, or bytes already
made) and returns; the thread streams each item to the backend in order. A file changed between the call and
its upload is uploaded as it is then, and a warning says so.

When the backend is unavailable (offline, or the transfer's own retries ran out) an item is not lost: a copy goes
to the run's disk spool, behind the run's other records, and the sender delivers it like them. While older
records wait there, new items go straight to the spool too, which keeps them in order and spares each one the
retries against a backend known to be down. ``close`` waits (bounded), then spools whatever has not gone yet,
the upload under way included, and reports what failed.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from ridgeline.client.backend import TrackingBackend
from ridgeline.client.sender import Sender
from ridgeline.domain.errors import Unavailable

log = logging.getLogger("ridgeline")


@dataclass(frozen=True, slots=True)
class PendingUpload:
    path: str
    source: Path | bytes
    # (size, mtime_ns) of a file when it was logged, to notice a file rewritten before its upload.
    stamp: tuple[int, int] | None = None


def file_stamp(path: Path) -> tuple[int, int]:
    info = os.stat(path)
    return info.st_size, info.st_mtime_ns


class ArtifactUploader:
    def __init__(self, backend: TrackingBackend, run_id: str, sender: Sender, wait_s: float) -> None:
        self._backend = backend
        self._run_id = run_id
        self._sender = sender
        self._wait_s = wait_s  # how long to wait for the run's creation before a first upload
        # Guarded by _idle. A deque, not a queue: close() takes what is left in one step.
        self._idle = threading.Condition()
        self._items: deque[PendingUpload] = deque()
        self._current: PendingUpload | None = None
        self._closing = False
        self._spooled = 0
        self.failures: list[str] = []
        self._thread = threading.Thread(target=self._work, name=f"ridgeline-uploader-{run_id[:8]}", daemon=True)
        self._thread.start()

    def submit(self, items: list[PendingUpload]) -> None:
        with self._idle:
            self._items.extend(items)
            self._idle.notify_all()

    def _work(self) -> None:
        while True:
            with self._idle:
                while not self._items and not self._closing:
                    self._idle.wait()
                if self._closing:
                    return  # close() spools what is left
                item = self._current = self._items.popleft()
            try:
                self._upload(item)
            except Exception as exc:
                self._fail(item, exc)
            finally:
                with self._idle:
                    self._current = None
                    self._idle.notify_all()

    def _fail(self, item: PendingUpload, exc: Exception) -> None:
        log.error("ridgeline: run %s: artifact %s was not uploaded: %s", self._run_id, item.path, exc)
        self.failures.append(f"{item.path}: {exc}")

    def _upload(self, item: PendingUpload) -> None:
        if item.stamp is not None and isinstance(item.source, Path) and file_stamp(item.source) != item.stamp:
            log.warning(
                "ridgeline: %s changed after log_artifact; the artifact %s holds its content at upload time",
                item.source,
                item.path,
            )
        # Nothing may reach the backend before the run does (a deferred creation is sent or spooled first).
        self._sender.wait_created(self._wait_s)
        if not self._sender.spooling():
            try:
                self._backend.upload_artifact(self._run_id, item.path, item.source)
                return
            except Unavailable as exc:
                log.warning("ridgeline: run %s: artifact %s goes to the spool: %s", self._run_id, item.path, exc)
            with self._idle:
                if self._closing:
                    return  # close() took this item over and spooled it
        self._spool(item)

    def _spool(self, item: PendingUpload) -> None:
        try:
            self._sender.spool_record(lambda spool: spool.append_artifact(item.path, item.source))
        except OSError as exc:
            raise OSError(f"backend unavailable and the spool cannot be written: {exc}") from exc
        with self._idle:
            self._spooled += 1

    def wait(self, timeout: float) -> bool:
        """Wait until every submitted upload has ended (stored, spooled or failed); False when ``timeout`` ran out."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._items or self._current is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(left)
        return True

    def close(self, timeout: float) -> list[str]:
        """Wait for the uploads (at most ``timeout``), spool what has not gone by then, stop the thread; returns
        what failed.

        An upload still under way is spooled as well: should it succeed after all, delivering the spooled copy
        stores the same bytes at the same path again, which changes nothing.
        """
        self.wait(timeout)
        with self._idle:
            self._closing = True
            left = [self._current, *self._items] if self._current is not None else list(self._items)
            self._items.clear()
            self._idle.notify_all()
        for item in left:
            try:
                self._spool(item)
            except OSError as exc:
                self._fail(item, exc)
        if self._spooled:
            log.info(
                "ridgeline: run %s: %d artifact(s) went to the spool %s, to be delivered from there",
                self._run_id,
                self._spooled,
                self._sender.spool.folder,
            )
        return list(self.failures)
