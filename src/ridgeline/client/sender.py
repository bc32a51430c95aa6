"""The SDK's background sender: logging calls append to in-memory columns; one thread ships them as batches.

Guarantees:
- a logging call never waits on the network: it appends under a lock and returns (about a microsecond);
- each batch carries an id made once and reused on every retry, so the server applies it exactly once;
- memory is bounded: past ``max_buffered_points`` undelivered points, logging calls wait until the sender has
  taken some (the training loop slows down rather than the process running out of memory);
- an unreachable backend (``Unavailable``) is retried with backoff; a batch the backend refuses for good is
  reported on the ``ridgeline`` logger and dropped, so one bad batch never blocks the rest.
"""

from __future__ import annotations

import logging
import threading
import time
from array import array
from collections.abc import Callable
from dataclasses import dataclass, field

from ridgeline.client.backend import TrackingBackend
from ridgeline.domain.entities import LogBatch, MetricSeries
from ridgeline.domain.errors import RidgelineError, Unavailable
from ridgeline.domain.ids import new_id

log = logging.getLogger("ridgeline")

# Keep a batch to a few MB of JSON, well inside the server's 64 MiB body limit.
MAX_BATCH_POINTS = 100_000
MAX_BATCH_TEXT = 4_000_000
FLUSH_AT_POINTS = 100_000
MAX_UNEXPECTED_FAILURES = 5
_BACKOFF_MAX_S = 5.0


@dataclass(slots=True)
class SeriesBuffer:
    """The not-yet-sent points of one metric key, plus the next automatic step."""

    steps: array[int] = field(default_factory=lambda: array("q"))
    values: array[float] = field(default_factory=lambda: array("d"))
    timestamps: array[int] = field(default_factory=lambda: array("q"))
    next_step: int = 0


def _take_texts(source: dict[str, str], room: list[int]) -> dict[str, str]:
    """Move entries out of ``source`` while their text fits in ``room[0]`` (always at least one entry)."""
    taken: dict[str, str] = {}
    for key in list(source):
        size = len(key) + len(source[key])
        if taken and size > room[0]:
            break
        taken[key] = source.pop(key)
        room[0] -= size
    return taken


class Sender:
    def __init__(
        self,
        backend: TrackingBackend,
        run_id: str,
        *,
        interval: float,
        max_buffered_points: int,
        ensure_run: Callable[[], None] | None = None,
    ) -> None:
        self.backend = backend
        self.run_id = run_id
        self.interval = interval
        self.max_buffered_points = max_buffered_points
        self.lock = threading.Lock()
        self.room = threading.Condition(self.lock)
        self._drained = threading.Condition(self.lock)
        self.series: dict[str, SeriesBuffer] = {}
        self.params: dict[str, str] = {}
        self.tags: dict[str, str] = {}
        self.pending = 0
        self._ensure_run = ensure_run
        self._inflight: LogBatch | None = None
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._failures = 0
        self.dropped_points = 0
        self._thread = threading.Thread(target=self._loop, name=f"ridgeline-sender-{run_id[:8]}", daemon=True)
        self._thread.start()

    # called by logging methods, with self.lock held -------------------------------------------------------

    def wait_for_room(self) -> None:
        """Block while the buffer is full (lock held by the caller)."""
        self._wake.set()
        while self.pending >= self.max_buffered_points and not self._stop.is_set():
            self.room.wait(0.5)

    def nudge(self) -> None:
        self._wake.set()

    # the sender thread --------------------------------------------------------------------------------------

    def _has_work(self) -> bool:
        return bool(self.pending or self.params or self.tags or self._inflight or self._ensure_run)

    def _take(self) -> LogBatch | None:
        """Move up to MAX_BATCH_POINTS buffered points and MAX_BATCH_TEXT characters of params and tags into a
        new in-flight batch (inside the lock, so ``flush`` never sees the work as gone before it is sent).

        ``pending`` still counts the batch's points until it is delivered, so memory stays within the bound.
        """
        with self.lock:
            buffered = any(buf.steps for buf in self.series.values())
            if not (buffered or self.params or self.tags):
                return None
            metrics: list[MetricSeries] = []
            room = MAX_BATCH_POINTS
            for key, buf in self.series.items():
                count = len(buf.steps)
                if not count or not room:
                    continue
                if count <= room:
                    metrics.append(MetricSeries(key, buf.steps, buf.values, buf.timestamps))
                    buf.steps, buf.values, buf.timestamps = array("q"), array("d"), array("q")
                    taken = count
                else:
                    taken = room
                    metrics.append(MetricSeries(key, buf.steps[:taken], buf.values[:taken], buf.timestamps[:taken]))
                    del buf.steps[:taken], buf.values[:taken], buf.timestamps[:taken]
                room -= taken
            text_room = [MAX_BATCH_TEXT]
            batch = LogBatch(new_id(), _take_texts(self.params, text_room), _take_texts(self.tags, text_room), metrics)
            self._inflight = batch
        return batch

    def _settle(self, batch: LogBatch) -> None:
        """The batch left memory (delivered or dropped): make room for new points."""
        with self.lock:
            self.pending -= batch.point_count
            self.room.notify_all()

    def _deliver_once(self) -> bool:
        """Try to move work forward; False when the backend is unavailable (back off before retrying)."""
        try:
            if self._ensure_run is not None:
                self._ensure_run()
                self._ensure_run = None
            if self._inflight is None and self._take() is None:
                return True
            assert self._inflight is not None
            conflicts = self.backend.log_batch(self.run_id, self._inflight)
        except Unavailable as exc:
            self._failures += 1
            if self._failures == 1:
                log.warning("ridgeline: tracking backend unavailable, will retry: %s", exc)
            return False
        except RidgelineError as exc:
            self._drop(exc)
        except Exception as exc:
            self._failures += 1
            if self._failures < MAX_UNEXPECTED_FAILURES:
                log.exception("ridgeline: unexpected error while sending run %s; will retry", self.run_id)
                return False
            # The same failure again and again is no passing fault: let the rest of the run through.
            self._drop(exc)
        else:
            for conflict in conflicts:
                log.warning("ridgeline: run %s: %s", self.run_id, conflict.get("message", conflict))
        if self._failures:
            log.warning("ridgeline: tracking backend reachable again; delivery resumed")
        self._failures = 0
        if self._inflight is not None:
            self._settle(self._inflight)
        self._inflight = None
        return True

    def _drop(self, exc: Exception) -> None:
        if self._ensure_run is not None:
            # The run cannot be created (say its project was deleted); batches will be refused in turn.
            log.error("ridgeline: run %s could not be created: %s", self.run_id, exc)
            self._ensure_run = None
            return
        lost = self._inflight.point_count if self._inflight else 0
        self.dropped_points += lost
        log.error("ridgeline: run %s: a batch of %d points was refused and dropped: %s", self.run_id, lost, exc)

    def _loop(self) -> None:
        while True:
            self._wake.wait(self.interval)
            self._wake.clear()
            while self._has_work():
                if not self._deliver_once():
                    self._stop.wait(min(_BACKOFF_MAX_S, 0.2 * 2 ** min(self._failures, 5)))
                    if self._stop.is_set():
                        break
            with self.lock:
                self._drained.notify_all()
            if self._stop.is_set():
                return

    def flush(self, timeout: float) -> bool:
        """Wait until everything buffered so far is delivered; False if ``timeout`` ran out first."""
        deadline = time.monotonic() + timeout
        self._wake.set()
        with self.lock:
            while self._has_work():
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not self._thread.is_alive():
                    return False
                self._wake.set()
                self._drained.wait(min(remaining, 0.5))
        return True

    def close(self, timeout: float) -> int:
        """Flush, stop the thread, and return how many points could not be delivered."""
        delivered = self.flush(timeout)
        self._stop.set()
        self._wake.set()
        with self.lock:
            self.room.notify_all()
        self._thread.join(timeout=5)
        return self.dropped_points + (0 if delivered else self.pending)
