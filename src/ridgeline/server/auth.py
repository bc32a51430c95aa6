"""Authentication and authorisation: one dependency every route passes through.

Accounts are not built yet, so the server only runs in local single-user mode, which ``check_bind_address``
allows on loopback addresses alone. When accounts arrive they plug in here, and every route is covered.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from fastapi import Request

from ridgeline.domain.errors import InvalidArgument


@dataclass(frozen=True)
class Principal:
    name: str
    local: bool


LOCAL_USER = Principal(name="local", local=True)


def authenticate(request: Request) -> Principal:
    request.state.principal = LOCAL_USER
    return LOCAL_USER


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind_address(host: str) -> None:
    """Refuse to serve local single-user mode (no login) anywhere but loopback."""
    if not is_loopback(host):
        raise InvalidArgument(
            f"refusing to listen on {host}: without accounts Ridgeline only serves loopback "
            "(127.0.0.1, ::1, localhost). Accounts and authentication for shared servers are on the roadmap; "
            "until then put the server behind an authenticating reverse proxy on the same host.",
            field="host",
        )
