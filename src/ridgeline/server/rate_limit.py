"""Failed-attempt limits for logins and credential checks: guessing passwords or tokens gets slow at once.

Counts live in this process (each replica counts its own attempts): enough to turn an online guessing attack from
thousands of tries a second into a handful a minute, without a shared store for what is only a brake.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
import weakref
from collections import deque

from ridgeline.domain.errors import RateLimited

# Every limit of this process, so that all their counts can be forgotten at once (reset_all).
_LIMITS: weakref.WeakSet[FailureLimit] = weakref.WeakSet()


_MAX_KEY_LENGTH = 200


def _bounded(key: str) -> str:
    """The key itself, or its digest when long: what is counted comes from the request (a user name in a Basic
    header can be many kilobytes), and a key kept for minutes must not cost that much memory."""
    if len(key) <= _MAX_KEY_LENGTH:
        return key
    return "sha256:" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


class FailureLimit:
    """At most ``max_failures`` failures per key within ``window_s`` seconds; past that, refuse until the
    oldest failure leaves the window."""

    def __init__(self, max_failures: int, window_s: float) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()
        _LIMITS.add(self)

    def _recent(self, key: str, now: float) -> deque[float]:
        failures = self._failures.setdefault(key, deque())
        while failures and failures[0] <= now - self.window_s:
            failures.popleft()
        return failures

    def check(self, *keys: str) -> None:
        now = time.monotonic()
        with self._lock:
            for key in map(_bounded, keys):
                if key not in self._failures:
                    continue  # checking a key that never failed stores nothing
                failures = self._recent(key, now)
                if len(failures) >= self.max_failures:
                    wait = math.ceil(failures[0] + self.window_s - now)
                    raise RateLimited(
                        f"too many failed attempts: try again in {wait} seconds", details={"retry_after": wait}
                    )

    def fail(self, *keys: str) -> None:
        now = time.monotonic()
        with self._lock:
            for key in map(_bounded, keys):
                self._recent(key, now).append(now)
            if len(self._failures) > 100_000:
                # Keys whose failures all aged out are dropped, so random keys cannot grow memory forever.
                self._failures = {k: v for k, v in self._failures.items() if self._recent(k, now)}

    def clear(self, *keys: str) -> None:
        with self._lock:
            for key in map(_bounded, keys):
                self._failures.pop(key, None)

    def reset(self) -> None:
        """Forget every failure counted so far."""
        with self._lock:
            self._failures.clear()


def reset_all() -> None:
    """Forget the failures counted by every limit of this process (the tests' clean slate: their servers run in
    one process and all their requests come from 127.0.0.1)."""
    for limit in list(_LIMITS):
        limit.reset()
