"""Console capture: a run keeps what the script printed, while the terminal sees exactly what it always did.

``sys.stdout`` and ``sys.stderr`` are replaced by tees that write to the original stream first (same text,
same flushing, so progress bars and pipes behave as before) and then append a copy to a shared, bounded store:
the first ``head_limit`` bytes go to a temporary file, and past that only the last ``tail_limit`` bytes are
kept in memory, because a crash's traceback at the end matters more than the middle of a long log.

Only writes made through Python's ``sys.stdout``/``sys.stderr`` are seen; output a subprocess or C code writes
straight to file descriptors 1 and 2 is not.
"""

from __future__ import annotations

import sys
import tempfile
import threading
from collections import deque
from typing import Any, TextIO, cast

HEAD_LIMIT = 8 * 1024 * 1024
TAIL_LIMIT = 2 * 1024 * 1024


class _Store:
    def __init__(self, head_limit: int, tail_limit: int) -> None:
        self._lock = threading.Lock()
        # Lives as long as the capture: closed (and so deleted) by text().
        self._head = tempfile.TemporaryFile(prefix="ridgeline-console-")  # noqa: SIM115
        self._head_room = head_limit
        self._tail: deque[bytes] = deque()
        self._tail_size = 0
        self._tail_limit = tail_limit
        self._dropped = 0

    def add(self, text: str) -> None:
        data = text.encode("utf-8", "replace")
        with self._lock:
            if self._head.closed:
                return
            if self._head_room > 0:
                part = data[: self._head_room]
                self._head.write(part)
                self._head_room -= len(part)
                data = data[len(part) :]
            if data:
                self._tail.append(data)
                self._tail_size += len(data)
                while self._tail_size > self._tail_limit:
                    excess = self._tail_size - self._tail_limit
                    first = self._tail[0]
                    if len(first) <= excess:
                        self._tail.popleft()
                        cut = len(first)
                    else:
                        self._tail[0] = first[excess:]
                        cut = excess
                    self._tail_size -= cut
                    self._dropped += cut

    def text(self) -> str:
        """Everything kept, as text (a cut inside a multi-byte character shows as U+FFFD), then closed."""
        with self._lock:
            if self._head.closed:
                return ""
            self._head.seek(0)
            parts = [self._head.read()]
            if self._dropped:
                parts.append(f"\n[ridgeline: {self._dropped} bytes of console output left out here]\n".encode())
            parts.extend(self._tail)
            self._head.close()
            self._tail.clear()
        return b"".join(parts).decode("utf-8", "replace")


class _Tee:
    """Stands in for a text stream: every write reaches the original stream unchanged, then the store."""

    def __init__(self, original: TextIO, store: _Store) -> None:
        self._original = original
        self._store = store
        self.active = True

    def write(self, text: str) -> int:
        written = self._original.write(text)
        if self.active:
            self._store.add(text)
        return written

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        self._original.flush()

    def isatty(self) -> bool:
        return self._original.isatty()

    def fileno(self) -> int:
        return self._original.fileno()

    def __getattr__(self, name: str) -> Any:
        # encoding, errors, buffer, closed, …: whatever else the script (or a library) asks of the stream.
        return getattr(self._original, name)


class ConsoleCapture:
    """Tees ``sys.stdout`` and ``sys.stderr`` from :meth:`start` until :meth:`stop`, which returns the text."""

    def __init__(self, head_limit: int = HEAD_LIMIT, tail_limit: int = TAIL_LIMIT) -> None:
        self._store = _Store(head_limit, tail_limit)
        self._tees: dict[str, _Tee] = {}

    def start(self) -> None:
        for name in ("stdout", "stderr"):
            original = getattr(sys, name)
            if original is None:  # pythonw, some embedded interpreters
                continue
            tee = _Tee(original, self._store)
            self._tees[name] = tee
            setattr(sys, name, cast(TextIO, tee))

    def stop(self) -> str:
        """Restore the streams and return what was captured. Idempotent (a second call returns "")."""
        for name, tee in self._tees.items():
            tee.active = False
            # Only undo our own layer: if something wrapped the stream after us, removing ours would drop theirs;
            # our inactive tee then simply passes writes through.
            if getattr(sys, name) is tee:
                setattr(sys, name, tee._original)
        self._tees.clear()
        return self._store.text()
