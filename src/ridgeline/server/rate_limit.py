"""Failed-attempt limits for logins and credential checks: guessing passwords or tokens gets slow at once.

Counts live in this process (each replica counts its own attempts): enough to turn an online guessing attack from
thousands of tries a second into a handful a minute, without a shared store for what is only a brake.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque

from ridgeline.domain.errors import RateLimited


class FailureLimit:
    """At most ``max_failures`` failures per key within ``window_s`` seconds; past that, refuse until the
    oldest failure leaves the window."""

    def __init__(self, max_failures: int, window_s: float) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        failures = self._failures.setdefault(key, deque())
        while failures and failures[0] <= now - self.window_s:
            failures.popleft()
        return failures

    def check(self, *keys: str) -> None:
        now = time.monotonic()
        with self._lock:
            for key in keys:
                failures = self._recent(key, now)
                if len(failures) >= self.max_failures:
                    wait = math.ceil(failures[0] + self.window_s - now)
                    raise RateLimited(
                        f"too many failed attempts: try again in {wait} seconds", details={"retry_after": wait}
                    )

    def fail(self, *keys: str) -> None:
        now = time.monotonic()
        with self._lock:
            for key in keys:
                self._recent(key, now).append(now)
            if len(self._failures) > 100_000:
                # Keys whose failures all aged out are dropped, so random keys cannot grow memory forever.
                self._failures = {k: v for k, v in self._failures.items() if self._recent(k, now)}

    def clear(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)
