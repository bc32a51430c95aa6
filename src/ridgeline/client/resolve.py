"""Choosing the backend for a tracking URI: argument > RIDGELINE_TRACKING_URI > the local data folder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, cast

from ridgeline.client.backend import TrackingBackend
from ridgeline.config import Settings, sqlite_uri
from ridgeline.domain.errors import Unavailable

_DATABASE_SCHEMES = ("sqlite", "postgresql", "postgres")


def backend_for(tracking_uri: str | None, settings: Settings) -> TrackingBackend:
    uri = tracking_uri or settings.tracking_uri
    if uri and uri.startswith(("http://", "https://")):
        from ridgeline.client.http import HttpBackend

        return HttpBackend(
            uri, timeout=settings.http_timeout, token=settings.tracking_token, workspace=settings.workspace
        )
    from ridgeline.client.local import LocalBackend

    if uri is None:
        return LocalBackend(sqlite_uri(settings.home))
    scheme = uri.split("://", 1)[0].split("+", 1)[0] if "://" in uri else ""
    if scheme in _DATABASE_SCHEMES:
        return LocalBackend(uri)
    if scheme == "file":
        uri = uri.removeprefix("file://")
    elif scheme:
        raise ValueError(
            f"unsupported tracking URI {uri!r}: use http(s)://HOST:PORT, a folder path or a "
            "database URI (sqlite:///…, postgresql+psycopg://…)"
        )
    return LocalBackend(sqlite_uri(Path(uri).expanduser()))


def target_uri(tracking_uri: str | None, settings: Settings) -> str:
    """The tracking URI a run goes to, spelled so that another process finds the same place (recorded in spools)."""
    uri = tracking_uri or settings.tracking_uri
    if uri is None:
        return sqlite_uri(settings.home)
    if uri.startswith(("http://", "https://")) or ("://" in uri and not uri.startswith("file://")):
        return uri
    return sqlite_uri(Path(uri.removeprefix("file://")).expanduser().resolve())


class _OfflineBackend:
    """Stands in for the backend of a run logged offline: every call answers "not now" (``Unavailable``) without
    touching a network or a database, so the run's data takes the spool path, as during an outage."""

    def __getattr__(self, name: str) -> Callable[..., NoReturn]:
        def unavailable(*args: Any, **kwargs: Any) -> NoReturn:
            raise Unavailable(f"{name} is not available in offline mode; `ridgeline sync` uploads the run later")

        return unavailable

    def close(self) -> None:
        """Nothing to release."""


def run_backend(tracking_uri: str | None, settings: Settings) -> tuple[TrackingBackend, str | None]:
    """The backend a new run writes through, and its target URI (None: offline, written to the spool only)."""
    if settings.mode == "offline":
        # A stand-in whatever methods the protocol grows: any call means "offline".
        return cast(TrackingBackend, _OfflineBackend()), None
    return backend_for(tracking_uri, settings), target_uri(tracking_uri, settings)
