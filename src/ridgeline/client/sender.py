"""The SDK's background sender: logging calls append to in-memory columns; one thread ships them as batches.

Guarantees:
- a logging call never waits on the network: it appends under a lock and returns (about a microsecond);
- each batch carries an id made once and kept on every retry and in the spool, so the server applies it once;
- an unreachable backend (``Unavailable``) never holds data in memory for long: at every interval what is
  buffered goes to the run's disk spool (``spool.py``), and the spool is delivered, oldest first, with
  exponential backoff and jitter, before anything newer is sent directly, so order is kept;
- memory is bounded: past ``max_buffered_points`` undelivered points in memory (only reachable when the spool
  cannot be written either), logging calls wait until the sender has taken some;
- a batch the backend refuses for good is reported on the ``ridgeline`` logger and dropped, so one bad batch
  never blocks the rest;
- in offline mode everything goes to the spool and nothing is sent (``ridgeline sync`` delivers it later);
- artifacts and dataset inputs that cannot be delivered join the same spool (``spool_record``), behind the run's
  creation, and this thread delivers them with the rest.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from array import array
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ridgeline.client.backend import TrackingBackend
from ridgeline.client.spool import RunSpool
from ridgeline.domain.entities import LogBatch, MetricSeries
from ridgeline.domain.errors import RidgelineError, Unavailable
from ridgeline.domain.ids import new_id

log = logging.getLogger("ridgeline")

# Keep a batch to a few MB of JSON, well inside the server's 64 MiB body limit.
MAX_BATCH_POINTS = 100_000
MAX_BATCH_TEXT = 4_000_000
FLUSH_AT_POINTS = 100_000
MAX_UNEXPECTED_FAILURES = 5
_BACKOFF_BASE_S = 0.2
_BACKOFF_MAX_S = 5.0


def backoff_delay(failures: int, maximum: float = _BACKOFF_MAX_S) -> float:
    """Exponential backoff with jitter (between half and all of the doubled delay), so that many clients coming
    back after one outage do not retry in lockstep."""
    ceiling = min(maximum, _BACKOFF_BASE_S * 2 ** min(failures, 10))
    return random.uniform(ceiling / 2, ceiling)


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
        spool: RunSpool,
        create_fields: dict[str, Any] | None = None,
        offline: bool = False,
    ) -> None:
        self.backend = backend
        self.run_id = run_id
        self.interval = interval
        self.max_buffered_points = max_buffered_points
        self.spool = spool
        self.lock = threading.Lock()
        self.room = threading.Condition(self.lock)
        self._drained = threading.Condition(self.lock)
        self.series: dict[str, SeriesBuffer] = {}
        self.params: dict[str, str] = {}
        self.tags: dict[str, str] = {}
        self.pending = 0
        # Set when the run is not on the backend yet (it was unreachable at start, or the run is offline).
        self._create = create_fields
        # Spooling the creation happens on this thread and on the uploader's and dataset recorder's: once only.
        self._create_lock = threading.Lock()
        self._offline = offline
        self._inflight: LogBatch | None = None
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._failures = 0
        self._retry_at = 0.0
        self._spooled_at = 0.0
        self._spool_broken = False
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

    # called by the artifact uploader and the dataset recorder -------------------------------------------------

    def spooling(self) -> bool:
        """True while new records must go to the spool rather than the backend (offline, or a backlog on disk)."""
        return self._spooling()

    def wait_created(self, timeout: float) -> bool:
        """Wait until the run is on the backend or its creation is in the spool (False if ``timeout`` ran out), so
        nothing about the run reaches the backend before the run does."""
        deadline = time.monotonic() + timeout
        self._wake.set()
        with self.lock:
            while self._create is not None:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not self._thread.is_alive():
                    return False
                self._drained.wait(min(remaining, 0.5))
        return True

    def spool_record(self, write: Callable[[RunSpool], None]) -> None:
        """Append a record made on another thread (an artifact, a dataset input) to the spool, behind the run's
        creation, and have this thread deliver it (raises OSError when the disk refuses)."""
        self._spool_create()
        write(self.spool)
        self._wake.set()

    def _spool_create(self) -> None:
        with self._create_lock:
            if self._create is not None:
                self.spool.append_create(self._create)
                self._create = None

    # the sender thread --------------------------------------------------------------------------------------

    def _spooling(self) -> bool:
        """True while new data must go to the spool: offline, or older data is still waiting there."""
        return self._offline or self.spool.pending > 0

    def _has_work(self) -> bool:
        in_memory = self.pending or self.params or self.tags or self._inflight or self._create
        return bool(in_memory or (self.spool.pending and not self._offline))

    def _take(self) -> LogBatch | None:
        """Move up to MAX_BATCH_POINTS buffered points and MAX_BATCH_TEXT characters of params and tags into a
        new in-flight batch (inside the lock, so ``flush`` never sees the work as gone before it is sent).

        ``pending`` still counts the batch's points until it is delivered or spooled, so memory stays bounded.
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
        """The batch left memory (delivered, spooled or dropped): make room for new points."""
        self._inflight = None
        with self.lock:
            self.pending -= batch.point_count
            self.room.notify_all()

    def _spool_memory(self) -> bool:
        """Move everything held in memory to the spool, oldest first: memory is freed and order kept.

        False when the disk refuses: the data stays in memory (where backpressure bounds it) for a later try.
        """
        try:
            self._spool_create()
            # What is in memory now, not what training adds meanwhile: chasing it would write a tiny record
            # per fsync for as long as training runs.
            for _ in range(self.pending // MAX_BATCH_POINTS + 2):
                batch = self._inflight or self._take()
                if batch is None:
                    break
                self.spool.append_batch(batch)
                self._settle(batch)
        except OSError as exc:
            self._spooled_at = time.monotonic()
            if not self._spool_broken:
                log.error("ridgeline: cannot write the spool (%s); run %s is kept in memory", exc, self.run_id)
            self._spool_broken = True
            return False
        self._spool_broken = False
        self._spooled_at = time.monotonic()
        return True

    def _step(self) -> bool:
        """Move work one step forward; False when the backend is unavailable (back off before retrying)."""
        spooled_before = self.spool.pending
        try:
            if self._spooling():
                # New data goes to disk behind the old at most once an interval (a record each time), and the
                # spool is delivered an interval's worth at a time: a crash still loses at most an interval.
                due = time.monotonic() - self._spooled_at >= self.interval
                if (self._offline or due) and not self._spool_memory():
                    return False
                if self._offline:
                    return True
                self.spool.deliver(self.backend, budget=self.interval)
            if not self._spooling():
                # Nothing older waits on disk: send directly.
                create = self._create  # read once: another thread may spool it meanwhile (harmless: idempotent)
                if create is not None:
                    self.backend.create_run(**create)
                    self._create = None
                batch = self._inflight or self._take()
                if batch is not None:
                    for conflict in self.backend.log_batch(self.run_id, batch):
                        log.warning("ridgeline: run %s: %s", self.run_id, conflict.get("message", conflict))
                    self._settle(batch)
        except Unavailable as exc:
            if self.spool.pending < spooled_before:
                self._failures = 0  # it took some records: up but flaky, so a short backoff, not the long one
            self._failures += 1
            if self._failures == 1:
                log.warning(
                    "ridgeline: tracking backend unavailable, spooling run %s to %s and retrying: %s",
                    self.run_id,
                    self.spool.folder,
                    exc,
                )
            self._spool_memory()
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
        if self._failures:
            log.warning("ridgeline: tracking backend reachable again; delivery resumed")
        self._failures = 0
        return True

    def _drop(self, exc: Exception) -> None:
        if self._spooling():
            self.spool.drop_oldest(exc)
            return
        if self._create is not None:
            # The run cannot be created (say its project was deleted); batches will be refused in turn.
            log.error("ridgeline: run %s could not be created: %s", self.run_id, exc)
            self._create = None
            return
        if self._inflight is not None:
            lost = self._inflight.point_count
            self.dropped_points += lost
            log.error("ridgeline: run %s: a batch of %d points was refused and dropped: %s", self.run_id, lost, exc)
            self._settle(self._inflight)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.interval)
            self._wake.clear()
            while self._has_work() and not self._stop.is_set():
                if time.monotonic() < self._retry_at:
                    # Backing off: still move new data from memory to disk at every interval, so a crash loses
                    # at most one interval's worth.
                    self._spool_memory()
                    break
                if not self._step():
                    self._retry_at = time.monotonic() + backoff_delay(self._failures)
                    break
            with self.lock:
                self._drained.notify_all()

    def flush(self, timeout: float) -> bool:
        """Wait until everything buffered so far is delivered (offline: written to the spool); False if
        ``timeout`` ran out first."""
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

    def finish(self, status: str, end_time: int, timeout: float) -> None:
        """Deliver what is buffered (waiting up to ``timeout`` seconds), stop the thread, and record the run's end.

        What could not be delivered in time is spooled, followed by the end of the run, and the ``ridgeline``
        logger says where: the next SDK process or ``ridgeline sync`` delivers it.
        """
        delivered = self.flush(timeout)
        self._stop.set()
        self._wake.set()
        with self.lock:
            self.room.notify_all()
        self._thread.join(timeout=5)
        if delivered and not self._offline:
            try:
                self.backend.finish_run(self.run_id, status, end_time)
            except Unavailable as exc:
                log.warning("ridgeline: could not mark run %s as %s now: %s", self.run_id, status, exc)
                delivered = False
        if not delivered or self._offline:
            self._spool_rest(status, end_time)
        self.spool.release()
        if self.dropped_points:
            log.error("ridgeline: run %s ended with %d metric points undelivered", self.run_id, self.dropped_points)

    def _spool_rest(self, status: str, end_time: int) -> None:
        left = self.pending
        try:
            if not self._spool_memory():
                raise OSError("the spool cannot be written")
            self.spool.append_finish(status, end_time)
        except OSError:
            self.dropped_points += left
            return
        if self._offline:
            log.info("ridgeline: run %s is in %s; `ridgeline sync` uploads it", self.run_id, self.spool.folder)
        else:
            log.warning(
                "ridgeline: run %s: %d spooled records (its end included) could not be delivered yet; they wait in "
                "%s for the next ridgeline process or `ridgeline sync`",
                self.run_id,
                self.spool.pending,
                self.spool.folder,
            )
