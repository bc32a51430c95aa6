"""Refuse requests that reach the server under a name that is not its own, or come from another site.

DNS rebinding: a page on ``evil.example`` re-points its name at 127.0.0.1 and then talks to a local server as if
it were its own site; the ``Host`` header still says ``evil.example``, so only known names are accepted. A
cross-site request (a form or ``fetch`` from another origin) carries that origin in ``Origin``: it must be the
server's own, the host and port the request was sent to.
"""

from __future__ import annotations

import contextlib
import socket
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send

from ridgeline.config import Settings
from ridgeline.server.errors import error_response

_LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
_WILDCARDS = frozenset({"0.0.0.0", "::", ""})


def allowed_hosts(settings: Settings) -> frozenset[str] | None:
    """The host names (lower-case, without port) requests may name; None: any (``RIDGELINE_ALLOWED_HOSTS=*``)."""
    configured = {name.strip().lower().strip("[]") for name in (settings.allowed_hosts or "").split(",")}
    if "*" in configured:
        return None
    names = set(_LOOPBACK_NAMES) | (configured - {""})
    bound = settings.host.lower().strip("[]")
    if bound not in _WILDCARDS:
        names.add(bound)
    else:
        # Listening everywhere: this machine's own names and addresses are its own too.
        for name in {socket.gethostname(), socket.getfqdn()}:
            names.add(name.lower())
            with contextlib.suppress(OSError):
                names.update(str(info[4][0]) for info in socket.getaddrinfo(name, None))
    return frozenset(names)


def host_name(netloc: str) -> str:
    """``example.com:5170`` → ``example.com``; ``[::1]:5170`` → ``::1``."""
    netloc = netloc.strip().lower()
    if netloc.startswith("["):
        return netloc[1:].partition("]")[0]
    return netloc.rsplit(":", 1)[0] if netloc.count(":") == 1 else netloc


class HostCheck:
    def __init__(self, app: ASGIApp, allowed: frozenset[str] | None) -> None:
        self.app = app
        self.allowed = allowed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        host = headers.get(b"host", b"").decode("latin-1")
        if host and self.allowed is not None and host_name(host) not in self.allowed:
            response = error_response(
                400,
                "INVALID_ARGUMENT",
                f"this server does not answer to the name {host_name(host)!r}: add it to RIDGELINE_ALLOWED_HOSTS",
                "Host",
            )
            await response(scope, receive, send)
            return
        origin = headers.get(b"origin")
        if origin is not None and not _same_origin(origin.decode("latin-1"), host):
            response = error_response(
                403, "PERMISSION_DENIED", "requests from another site (Origin header) are refused", "Origin"
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _same_origin(origin: str, host: str) -> bool:
    """The origin's host and port are the ones the request was sent to (``null``, from sandboxes and files,
    never is)."""
    parts = urlsplit(origin.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return False
    default_port = {"http": 80, "https": 443}[parts.scheme]
    origin_port = parts.port or default_port
    host_parts = urlsplit(f"//{host}")
    return bool(host) and parts.hostname == host_parts.hostname and origin_port == (host_parts.port or default_port)
