"""The SDK's artifact uploader: one background thread per run, so ``log_artifact`` returns at once.

A logging call records what to upload (a file path with its size and modification time, or bytes already
made) and returns; the thread streams each item to the backend in order. A file changed between the call and
its upload is uploaded as it is then, and a warning says so. ``close`` waits (bounded) and reports failures.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from ridgeline.client.backend import TrackingBackend

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
    def __init__(self, backend: TrackingBackend, run_id: str) -> None:
        self._backend = backend
        self._run_id = run_id
        self._queue: queue.SimpleQueue[PendingUpload | None] = queue.SimpleQueue()
        self._idle = threading.Condition()
        self._pending = 0
        self.failures: list[str] = []
        self._thread = threading.Thread(target=self._work, name=f"ridgeline-uploader-{run_id[:8]}", daemon=True)
        self._thread.start()

    def submit(self, items: list[PendingUpload]) -> None:
        with self._idle:
            self._pending += len(items)
        for item in items:
            self._queue.put(item)

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            try:
                self._upload(item)
            except Exception as exc:
                log.error("ridgeline: run %s: artifact %s was not uploaded: %s", self._run_id, item.path, exc)
                self.failures.append(f"{item.path}: {exc}")
            finally:
                with self._idle:
                    self._pending -= 1
                    self._idle.notify_all()

    def _upload(self, item: PendingUpload) -> None:
        if item.stamp is not None and isinstance(item.source, Path) and file_stamp(item.source) != item.stamp:
            log.warning(
                "ridgeline: %s changed after log_artifact; the artifact %s holds its content at upload time",
                item.source,
                item.path,
            )
        self._backend.upload_artifact(self._run_id, item.path, item.source)

    def wait(self, timeout: float) -> bool:
        """Wait until every submitted upload has ended (stored or failed); False when ``timeout`` ran out."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._pending:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(left)
        return True

    def close(self, timeout: float) -> list[str]:
        """Wait for the uploads (at most ``timeout``), stop the thread; returns what failed or never went."""
        done = self.wait(timeout)
        self._queue.put(None)
        if not done:
            with self._idle:
                return [*self.failures, f"{self._pending} upload(s) still running after {timeout:g} s"]
        self._thread.join(timeout=1)
        return list(self.failures)
