"""What the server serves: one slot per role (primary, canary, shadow), each following its model URI.

A slot holds one immutable :class:`Served`; a request reads the reference once and uses that model to the end,
so replacing it (one attribute assignment, atomic under the GIL) never disturbs a request in flight. The watcher
thread polls the registry and loads a new version completely before swapping it in; a failed load keeps the old
version serving.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ridgeline.domain.errors import InvalidArgument

log = logging.getLogger("ridgeline.serving")

_REGISTRY_URI = re.compile(r"models:/(?P<name>[^/@]+)(?:@(?P<alias>[^/]+)|/(?P<version>[^/]+))")

# Turns a model URI into an object with ``prepare``, ``predict_prepared`` and ``signature``
# (ridgeline.load_model's LoadedModel).
Loader = Callable[[str], Any]
# The version a registry URI names now (ridgeline.Client.resolve_model(uri).version in production).
Resolver = Callable[[str], int]


@dataclass(frozen=True, slots=True)
class RegistryUri:
    name: str
    alias: str | None
    version: str | None

    def with_alias(self, alias: str) -> str:
        return f"models:/{self.name}@{alias}"


def registry_uri(uri: str) -> RegistryUri | None:
    """``models:/NAME@ALIAS`` or ``models:/NAME/VERSION`` split up; None for ``runs:/…`` and folders."""
    match = _REGISTRY_URI.fullmatch(uri)
    if match is None:
        return None
    return RegistryUri(match["name"], match["alias"], match["version"])


@dataclass(frozen=True, slots=True)
class Served:
    """A loaded model and the registry version it is (None for a model loaded from a run or a folder)."""

    version: int | None
    model: Any

    def prepare(self, data: Any) -> Any:
        """The request's data checked against, and converted to, the model's signature; InvalidArgument if not."""
        from ridgeline.serving.protocol import as_frame

        return as_frame(data) if self.model.signature is None else self.model.prepare(data)

    def predict(self, prepared: Any) -> Any:
        """Score what :meth:`prepare` made (LoadedModel.predict_prepared: no second check)."""
        return self.model.predict_prepared(prepared)


class Slot:
    def __init__(self, role: str, uri: str, loader: Loader, resolver: Resolver) -> None:
        self.role = role
        self.uri = uri
        self.registry = registry_uri(uri)
        self._loader = loader
        self._resolver = resolver
        self.current: Served | None = None

    @property
    def follows(self) -> bool:
        """Only an alias can move; a fixed version, run or folder is loaded once."""
        return self.registry is not None and self.registry.alias is not None

    def load(self) -> None:
        """Load what the URI names now; the first call raises if that fails (the server does not start)."""
        if self.registry is None:
            self.current = Served(None, self._loader(self.uri))
            return
        version = self._resolver(self.uri)
        self.current = Served(version, self._loader(f"models:/{self.registry.name}/{version}"))

    def refresh(self) -> bool:
        """Swap in the version the alias points at now, if it moved; True when it did."""
        assert self.registry is not None
        version = self._resolver(self.uri)
        current = self.current
        if current is not None and current.version == version:
            return False
        served = Served(version, self._loader(f"models:/{self.registry.name}/{version}"))
        self.current = served
        log.info("%s %s now serves version %s", self.role, self.uri, version)
        return True


class Watcher:
    """Polls the registry every ``interval`` seconds for the slots that follow an alias, off the request path."""

    def __init__(self, slots: list[Slot], interval: float, on_change: Callable[[], None]) -> None:
        self.slots = [slot for slot in slots if slot.follows]
        self.interval = interval
        self.on_change = on_change
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ridgeline-alias-watcher", daemon=True)

    def start(self) -> None:
        if self.slots:
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            changed = False
            for slot in self.slots:
                try:
                    changed = slot.refresh() or changed
                except Exception:
                    # The registry may be down or the new version broken: keep serving what works, try again.
                    log.exception("following %s failed; still serving version %s", slot.uri, _version(slot))
            if changed:
                self.on_change()


def _version(slot: Slot) -> int | None:
    return None if slot.current is None else slot.current.version


def parse_canary(value: str) -> tuple[str, float]:
    """``ALIAS=PCT`` (``challenger=10``) into the alias and the share in percent."""
    alias, sep, share = value.partition("=")
    try:
        percent = float(share)
    except ValueError:
        percent = -1.0
    if not sep or not alias or not 0 < percent < 100:
        raise InvalidArgument(f"--canary takes ALIAS=PERCENT with 0 < PERCENT < 100, got {value!r}", field="canary")
    return alias, percent
