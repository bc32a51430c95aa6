"""The SDK's disk spool: what cannot be delivered yet waits on disk until the backend acknowledges it.

Layout, one folder per run under ``settings.spool_location``::

    <run_id>/meta.json            where the run goes (tracking URI, or null for an offline run), project, name
    <run_id>/lock                 flock-ed by the process writing the run, so nobody else replays it meanwhile
    <run_id>/000000000001.rec     one record per file, numbered in logging order: create, batch, artifact,
                                  dataset, finish
    <run_id>/000000000007.blob    the content of the artifact record of the same number (a copy of the file)

Each record is written to a temporary file, fsync-ed and renamed into place, so a crash (SIGKILL included)
leaves whole records or none. A record is deleted only after the backend acknowledged it; a crash between the
acknowledgement and the deletion resends it, which changes nothing: the server applies a batch id once, and
creating a run with a client-made id or finishing it again are idempotent. That is the exactly-once guarantee.
Artifacts and dataset inputs are idempotent too: an artifact is a PUT to its path (the same bytes again change
nothing), and a dataset input of the same content is the same version, linked to the run once.
"""

from __future__ import annotations

import fcntl
import logging
import math
import os
import shutil
import threading
import time
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from ridgeline.client.backend import TrackingBackend
from ridgeline.client.spool_blobs import write_blob
from ridgeline.domain.entities import LogBatch, MetricSeries
from ridgeline.domain.errors import RidgelineError, Unavailable
from ridgeline.domain.wire import decode_value, encode_value

log = logging.getLogger("ridgeline")

_RECORD_SUFFIX = ".rec"
_BLOB_SUFFIX = ".blob"
_META = "meta.json"
_LOCK = "lock"


def _write_atomically(path: Path, data: bytes) -> None:
    """Whole file or nothing. The data is fsync-ed before the rename, so even after a power cut a record is whole
    or absent; the folder itself is not fsync-ed each time (a power cut may take the newest records, like the
    unsent data of the last interval, never a torn one)."""
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as file:
        file.write(data)
        file.flush()
        os.fsync(file.fileno())
    os.replace(tmp, path)


def _batch_json(batch: LogBatch) -> dict[str, Any]:
    return {
        "batch_id": batch.batch_id,
        "params": batch.params,
        "tags": batch.tags,
        "metrics": [
            {
                "key": series.key,
                "steps": list(series.steps),
                # JSON has no NaN or infinity: those travel as text, as on the wire.
                "values": [x if math.isfinite(x) else encode_value(x) for x in series.values],
                "timestamps": list(series.timestamps),
            }
            for series in batch.metrics
        ],
    }


def _batch_from_json(data: dict[str, Any]) -> LogBatch:
    metrics = [
        MetricSeries(
            item["key"],
            array("q", item["steps"]),
            array("d", [decode_value(x) for x in item["values"]]),
            array("q", item["timestamps"]),
        )
        for item in data["metrics"]
    ]
    return LogBatch(data["batch_id"], data["params"], data["tags"], metrics)


def _try_lock(path: Path) -> int | None:
    """An exclusive lock on ``path``, or None when another process (or open file) holds it.

    flock locks belong to the open file and vanish with the process, SIGKILL included: a spool whose writer died
    is free for the next process to deliver.
    """
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd


@dataclass(frozen=True, slots=True)
class Delivered:
    """What one delivery pass moved to the backend."""

    records: int = 0
    points: int = 0
    finished: bool = False


class RunSpool:
    """The spool of one run. Thread-safe; the folder exists only while it holds undelivered records."""

    def __init__(self, root: Path, run_id: str, meta: dict[str, Any]) -> None:
        self.folder = root / run_id
        self.run_id = run_id
        self._meta = meta
        self._lock = threading.RLock()
        self._lock_fd: int | None = None
        self._seq = 0
        self.pending = 0  # records on disk not yet acknowledged

    @classmethod
    def adopt(cls, folder: Path) -> RunSpool | None:
        """Take over a spool left by another process; None when its writer is alive or it is not a spool."""
        try:
            if not (folder / _META).is_file():
                return None  # still being set up by its writer (the meta file comes after the lock), or foreign
            fd = _try_lock(folder / _LOCK)
        except OSError:
            return None
        if fd is None:
            return None
        try:
            # The writer may have emptied and removed the folder meanwhile, and made a new one: our lock must be
            # on the lock file that is there now.
            if os.fstat(fd).st_ino != os.stat(folder / _LOCK).st_ino:
                raise OSError("lock file replaced")
            meta = orjson.loads((folder / _META).read_bytes())
        except (OSError, orjson.JSONDecodeError):
            os.close(fd)
            return None
        spool = cls(folder.parent, folder.name, meta)
        spool._lock_fd = fd
        spool.pending = len(spool._record_paths())
        spool._seq = int(spool._record_paths()[-1].stem) if spool.pending else 0
        return spool

    @property
    def target(self) -> str | None:
        """The tracking URI the run was meant for; None for a run logged offline."""
        target: str | None = self._meta.get("target")
        return target

    @property
    def name(self) -> str:
        return str(self._meta.get("name") or self.run_id)

    # writing ------------------------------------------------------------------------------------------------

    def _open(self) -> None:
        """Create the folder, take its lock, then write the meta file (whose presence says "a spool")."""
        if self._lock_fd is not None:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        fd = _try_lock(self.folder / _LOCK)
        if fd is None:
            raise OSError(f"spool {self.folder} is locked by another process")
        self._lock_fd = fd
        if not (self.folder / _META).exists():
            _write_atomically(self.folder / _META, orjson.dumps(self._meta))

    def append(self, kind: str, body: dict[str, Any], blob: Path | bytes | None = None) -> None:
        """Write one record durably (raises OSError when the disk refuses).

        A ``blob`` (a file, copied in chunks, or bytes) lands whole beside the record before the record itself,
        so a record never points at a missing or torn blob; its sha256 and size go into the record.
        """
        with self._lock:
            self._open()
            self._seq += 1
            record = self.folder / f"{self._seq:012d}{_RECORD_SUFFIX}"
            if blob is not None:
                blob_path = record.with_suffix(_BLOB_SUFFIX)
                sha256, size = write_blob(blob_path, blob)
                body = {**body, "blob": blob_path.name, "sha256": sha256, "size": size}
            data = orjson.dumps({"kind": kind, "run_id": self.run_id, **body})
            _write_atomically(record, data)
            self.pending += 1

    def append_create(self, fields: dict[str, Any]) -> None:
        self.append("create", {"fields": fields})

    def append_batch(self, batch: LogBatch) -> None:
        self.append("batch", _batch_json(batch))

    def append_finish(self, status: str, end_time: int) -> None:
        self.append("finish", {"status": status, "end_time": end_time})

    def append_artifact(self, path: str, source: Path | bytes) -> None:
        """Keep a copy of the artifact's content (the file may change or go before it is delivered)."""
        self.append("artifact", {"path": path}, blob=source)

    def append_dataset(self, name: str, context: str, version: dict[str, Any]) -> None:
        self.append("dataset", {"name": name, "context": context, "version": version})

    # delivering ---------------------------------------------------------------------------------------------

    def _record_paths(self) -> list[Path]:
        try:
            return sorted(self.folder.glob(f"*{_RECORD_SUFFIX}"))
        except FileNotFoundError:
            return []

    def records(self) -> Iterator[tuple[Path, dict[str, Any] | None]]:
        """The records on disk, oldest first; None for one that cannot be read (never written by us whole)."""
        for path in self._record_paths():
            try:
                yield path, orjson.loads(path.read_bytes())
            except orjson.JSONDecodeError:
                yield path, None

    def deliver(self, backend: TrackingBackend, budget: float | None = None) -> Delivered:
        """Send the records in order, deleting each once acknowledged. Raises ``Unavailable`` (the rest stays).

        With ``budget`` (seconds) it returns once that time is spent, records left or not, so the caller can
        tend to new data meanwhile. A record the backend refuses for good is reported and deleted, so one bad
        record never blocks the rest.
        """
        records = points = 0
        finished = False
        deadline = None if budget is None else time.monotonic() + budget
        with self._lock:
            for path, record in self.records():
                if deadline is not None and time.monotonic() > deadline:
                    break
                if record is None:
                    log.error("ridgeline: unreadable spool record %s set aside", path)
                    path.rename(path.with_suffix(".bad"))
                else:
                    try:
                        points += self._send(backend, record)
                    except Unavailable:
                        raise
                    except RidgelineError as exc:
                        kind = record["kind"]
                        log.error("ridgeline: run %s: spooled %s refused and dropped: %s", self.run_id, kind, exc)
                    finished = finished or record["kind"] == "finish"
                    _unlink_record(path)
                records += 1
                self.pending -= 1
            self._remove_if_empty()
        return Delivered(records, points, finished)

    def _send(self, backend: TrackingBackend, record: dict[str, Any]) -> int:
        kind = record["kind"]
        if kind == "create":
            backend.create_run(**record["fields"])
            return 0
        if kind == "batch":
            batch = _batch_from_json(record)
            for conflict in backend.log_batch(self.run_id, batch):
                log.warning("ridgeline: run %s: %s", self.run_id, conflict.get("message", conflict))
            return batch.point_count
        if kind == "artifact":
            self._send_artifact(backend, record)
            return 0
        if kind == "dataset":
            backend.log_dataset_input(self.run_id, record["name"], record["context"], record["version"])
            return 0
        backend.finish_run(self.run_id, record["status"], record["end_time"])
        return 0

    def _send_artifact(self, backend: TrackingBackend, record: dict[str, Any]) -> None:
        try:
            stored = backend.upload_artifact(self.run_id, record["path"], self.folder / record["blob"])
        except FileNotFoundError:
            raise RidgelineError(f"artifact {record['path']}: its spooled copy is missing") from None
        if stored.sha256 != record["sha256"]:
            # The copy on disk no longer holds what was logged (damaged since): say so rather than pass it off.
            raise RidgelineError(f"artifact {record['path']}: the spooled copy was damaged; the server holds it as is")

    def drop_oldest(self, exc: Exception) -> None:
        """Give up on the oldest record (it failed the same unexpected way again and again)."""
        with self._lock:
            paths = self._record_paths()
            if paths:
                name = paths[0].name
                log.error("ridgeline: run %s: record %s dropped after failing again: %s", self.run_id, name, exc)
                _unlink_record(paths[0])
                self.pending -= 1
            self._remove_if_empty()

    def last_kind(self) -> str | None:
        """The kind of the newest record (None when there is none or it cannot be read)."""
        paths = self._record_paths()
        if not paths:
            return None
        try:
            kind: str = orjson.loads(paths[-1].read_bytes())["kind"]
        except (OSError, orjson.JSONDecodeError, KeyError):
            return None
        return kind

    def last_activity_ms(self) -> int:
        """When the writer last wrote here (the end time of a run whose writer died without finishing it)."""
        return int(max(path.stat().st_mtime for path in self.folder.iterdir()) * 1000)

    def _remove_if_empty(self) -> None:
        if self.pending <= 0 and not self._record_paths():
            shutil.rmtree(self.folder, ignore_errors=True)
            self.release()

    def release(self) -> None:
        """Let other processes deliver what is left (the writer is done with this run)."""
        with self._lock:
            if self._lock_fd is not None:
                os.close(self._lock_fd)
                self._lock_fd = None


def _unlink_record(path: Path) -> None:
    """The record first, then its blob: a crash in between leaves a stray blob (removed with the folder), never a
    record without its content."""
    path.unlink()
    path.with_suffix(_BLOB_SUFFIX).unlink(missing_ok=True)


def leftover_spools(root: Path) -> Iterator[RunSpool]:
    """Spools in ``root`` whose writer is gone, each locked for the caller until it releases it."""
    try:
        folders = sorted(path for path in root.iterdir() if path.is_dir())
    except FileNotFoundError:
        return
    for folder in folders:
        spool = RunSpool.adopt(folder)
        if spool is not None:
            yield spool


def deliver_leftover(spool: RunSpool, backend: TrackingBackend) -> Delivered:
    """Deliver a spool whose writer is gone; a run it never finished (the process was killed) ends as KILLED."""
    try:
        if spool.last_kind() != "finish":
            spool.append_finish("KILLED", spool.last_activity_ms())
        return spool.deliver(backend)
    finally:
        spool.release()
