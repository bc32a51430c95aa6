"""Which addresses a Ridgeline process may listen on. Pure: the tracking server and the model server both check
here before binding, and the model server must not import the web framework to do it."""

from __future__ import annotations

import ipaddress

from ridgeline.domain.errors import InvalidArgument


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
