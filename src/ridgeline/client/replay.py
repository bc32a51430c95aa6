"""Delivering what earlier processes left in the spool: in the background of any new run, and ``ridgeline sync``."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from ridgeline.client.backend import TrackingBackend
from ridgeline.client.resolve import backend_for
from ridgeline.client.sender import backoff_delay
from ridgeline.client.spool import Delivered, RunSpool, deliver_leftover, leftover_spools
from ridgeline.config import Settings
from ridgeline.domain.errors import Unavailable

log = logging.getLogger("ridgeline")

_LEFTOVER_BACKOFF_MAX_S = 60.0
_scanned: set[Path] = set()
_scanned_lock = threading.Lock()


def backend_for_spool(spool: RunSpool, tracking_uri: str | None, settings: Settings) -> TrackingBackend:
    """An explicit tracking URI wins; else where the run was meant to go; an offline run (no target) goes to the
    configured tracking URI, or the local data folder."""
    return backend_for(tracking_uri or spool.target, settings)


def deliver_leftovers_in_background(settings: Settings) -> None:
    """Once per spool folder and process: deliver the runs earlier processes left there, on a daemon thread.

    Only runs spooled while online (they know their target); offline runs wait for an explicit ``ridgeline sync``.
    """
    root = settings.spool_location
    with _scanned_lock:
        if root in _scanned or not root.is_dir():
            return
        _scanned.add(root)
    threading.Thread(target=_deliver_leftovers, args=(root, settings), name="ridgeline-spool", daemon=True).start()


def _deliver_leftovers(root: Path, settings: Settings) -> None:
    failures = 0
    while True:
        waiting = False
        for spool in leftover_spools(root):
            if spool.target is None:
                spool.release()
                continue
            try:
                waiting |= not _deliver_quietly(spool, backend_for_spool(spool, None, settings))
            except Exception:
                # A bad target (say a database driver missing here) must not take the training process down.
                log.exception("ridgeline: could not deliver the spooled run %s", spool.run_id)
                spool.release()
        if not waiting:
            return
        failures += 1
        time.sleep(backoff_delay(failures, _LEFTOVER_BACKOFF_MAX_S))


def _deliver_quietly(spool: RunSpool, backend: TrackingBackend) -> bool:
    """True when the spool was delivered; False when its backend is still unavailable."""
    try:
        done: Delivered = deliver_leftover(spool, backend)
    except Unavailable:
        return False
    finally:
        backend.close()
    log.info("ridgeline: delivered run %s from the spool (%d points)", spool.run_id, done.points)
    return True
