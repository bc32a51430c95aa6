"""Outbound connections that go only where the outbound policy (domain/outbound.py) lets them.

Every caller that reaches out (alert webhooks and Slack, SMTP, MLflow import) comes through here:

- :func:`safe_client` is an ``httpx.Client`` whose transport resolves each request's host, refuses it unless
  every address is allowed, and connects to the checked address. The URL keeps its name, so the ``Host`` header
  and TLS (SNI and certificate check) still use the name; a DNS answer that changes between check and connect
  (rebinding) cannot move the connection. Each redirect hop is a request of its own through the same transport,
  so a redirect into a forbidden range is refused like a direct request.
- :func:`check_smtp_host` and :class:`PinnedSMTP` do the same for mail.
"""

from __future__ import annotations

import smtplib
import socket
from typing import Any

import httpx

from ridgeline.domain.outbound import (
    DEFAULT_PORTS,
    IPAddress,
    OutboundPolicy,
    OutboundRefused,
    check_addresses,
    check_host,
    parse_host,
    refused,
)


def default_policy() -> OutboundPolicy:
    """The policy ``RIDGELINE_OUTBOUND_ALLOW`` sets, read when called (a server's environment, a test's)."""
    from ridgeline.config import Settings

    return OutboundPolicy.parse(Settings.load().outbound_allow)


def resolve(policy: OutboundPolicy, host: str, port: int, *, field: str = "url") -> IPAddress:
    """The address to connect to for ``host``: every address it resolves to is checked, the first is returned.
    Raises OutboundRefused, or OSError (socket.gaierror) when the name does not resolve."""
    name, literal = parse_host(host, field=field)
    check_host(name, literal, policy, field=field)
    if literal is not None:
        return _connectable(literal)
    found = socket.getaddrinfo(name, port, type=socket.SOCK_STREAM)
    addresses: list[IPAddress] = []
    for _family, _type, _proto, _canonical, sockaddr in found:
        # A link-local IPv6 answer may carry its zone ("fe80::1%eth0"); the address is judged without it.
        address = parse_host(str(sockaddr[0]).partition("%")[0], field=field)[1]
        if address is not None and address not in addresses:
            addresses.append(address)
    if not addresses:
        raise socket.gaierror(socket.EAI_NONAME, f"{name} resolved to no address")
    check_addresses(name, addresses, policy, field=field)
    return _connectable(addresses[0])


def _connectable(address: IPAddress) -> IPAddress:
    # An IPv4-mapped IPv6 address is judged as, and reaches, its IPv4 address: connect there directly, which also
    # works where IPv6 is switched off.
    mapped = getattr(address, "ipv4_mapped", None)
    return mapped if mapped is not None else address


class PinnedTransport(httpx.BaseTransport):
    """Checks and pins every request's destination, then sends it through an ``httpx.HTTPTransport``.

    One inner transport per host name: their pools key connections by address, and two names behind one address
    must not share a TLS connection made (and verified) for the other name."""

    def __init__(self, policy: OutboundPolicy, **transport_options: Any) -> None:
        self.policy = policy
        self._options = transport_options
        self._transports: dict[str, httpx.HTTPTransport] = {}

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        # The ASCII host is what a plain transport would connect to (url.host is decoded from IDNA).
        host = url.raw_host.decode("ascii")
        if url.scheme not in DEFAULT_PORTS:
            raise refused(host or url.scheme, f"{url.scheme}: is not http or https", field="url")
        port = url.port or DEFAULT_PORTS[url.scheme]
        try:
            address = resolve(self.policy, host, port)
        except OutboundRefused:
            raise
        except OSError as error:
            raise httpx.ConnectError(f"cannot resolve {host}: {error}", request=request) from None
        extensions = dict(request.extensions)
        name, literal = parse_host(host)
        if literal is None and url.scheme == "https":
            extensions["sni_hostname"] = name
        # The headers were built from the original URL: Host keeps the name.
        pinned = httpx.Request(
            request.method,
            url.copy_with(host=str(address)),
            headers=request.headers,
            stream=request.stream,
            extensions=extensions,
        )
        transport = self._transports.get(name)
        if transport is None:
            transport = self._transports[name] = httpx.HTTPTransport(**self._options)
        return transport.handle_request(pinned)

    def close(self) -> None:
        for transport in self._transports.values():
            transport.close()
        self._transports.clear()


def safe_client(
    policy: OutboundPolicy,
    *,
    timeout: float,
    follow_redirects: bool = False,
    verify: Any = True,
    **client_options: Any,
) -> httpx.Client:
    """An ``httpx.Client`` whose every request (and redirect hop) is checked against ``policy`` and pinned.
    ``verify`` is the TLS verification (True, False, or an ``ssl.SSLContext``); the rest goes to the client."""
    return httpx.Client(
        transport=PinnedTransport(policy, verify=verify),
        timeout=timeout,
        follow_redirects=follow_redirects,
        **client_options,
    )


def check_smtp_host(policy: OutboundPolicy, host: str, port: int) -> str:
    """The checked address to open an SMTP connection to ``host`` with (see :class:`PinnedSMTP`)."""
    return str(resolve(policy, host, port, field="host"))


class PinnedSMTP(smtplib.SMTP):
    """An SMTP connection to ``address``, already checked, that otherwise talks to ``host``: STARTTLS verifies
    the server's certificate for the name, not for the address."""

    def __init__(self, address: str, host: str, port: int, *, timeout: float) -> None:
        self._address = address
        super().__init__(host, port, timeout=timeout)

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        return socket.create_connection((self._address, port), timeout, self.source_address)
