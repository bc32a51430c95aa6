"""Which addresses a Ridgeline process may listen on. Pure: the tracking server and the model server both check
here before binding, and the model server must not import the web framework to do it."""

from __future__ import annotations

import ipaddress
from typing import Protocol

from ridgeline.domain.errors import InvalidArgument


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind_address(host: str) -> None:
    """Refuse to serve the model server without authentication anywhere but loopback."""
    if not is_loopback(host):
        raise InvalidArgument(
            f"refusing to listen on {host} without authentication: add --auth (callers then need an API token "
            "the tracking server accepts), or put the model server behind an authenticating proxy on loopback.",
            field="host",
        )


class _ServerSettings(Protocol):
    @property
    def host(self) -> str: ...
    @property
    def auth(self) -> bool: ...
    @property
    def insecure_no_auth(self) -> bool: ...


def accounts_required(settings: _ServerSettings) -> bool:
    """Accounts are on when asked for, and always when the tracking server listens beyond loopback, unless the
    operator explicitly accepted an open server (``insecure_no_auth``)."""
    return settings.auth or (not is_loopback(settings.host) and not settings.insecure_no_auth)


def check_server_mode(settings: _ServerSettings) -> None:
    """``ridgeline server`` beyond loopback needs accounts switched on, or the operator's explicit waiver."""
    if not is_loopback(settings.host) and not settings.auth and not settings.insecure_no_auth:
        raise InvalidArgument(
            f"refusing to listen on {settings.host} without accounts: anyone who reaches it could read and change "
            "everything. Add --auth (RIDGELINE_AUTH=true) to require a login or an API token (the first start "
            "prints a link that creates the first admin), or --insecure-no-auth if an authenticating proxy "
            "guards it.",
            field="host",
        )
