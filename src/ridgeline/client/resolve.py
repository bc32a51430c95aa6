"""Choosing the backend for a tracking URI: argument > RIDGELINE_TRACKING_URI > the local data folder."""

from __future__ import annotations

from pathlib import Path

from ridgeline.client.backend import TrackingBackend
from ridgeline.config import Settings, sqlite_uri

_DATABASE_SCHEMES = ("sqlite", "postgresql", "postgres")


def backend_for(tracking_uri: str | None, settings: Settings) -> TrackingBackend:
    uri = tracking_uri or settings.tracking_uri
    if uri and uri.startswith(("http://", "https://")):
        from ridgeline.client.http import HttpBackend

        return HttpBackend(uri, timeout=settings.http_timeout)
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
