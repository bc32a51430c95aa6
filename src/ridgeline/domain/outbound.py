"""Where Ridgeline's outbound requests (alert webhooks, Slack, email, MLflow import) may go. Pure: no DNS, no
sockets; services/outbound.py resolves names and asks here about every address it got.

A URL or host a user typed can make the server call into its own network (server-side request forgery): the
cloud's metadata service hands out credentials, loopback and private addresses reach admin ports and databases.
So these destinations are refused unless ``RIDGELINE_OUTBOUND_ALLOW`` names them:

- loopback, private (RFC 1918, IPv6 unique local), link-local, unspecified, multicast, reserved, shared
  (100.64.0.0/10, carrier-grade NAT) and every other range that is not globally routable;
- cloud metadata services (169.254.169.254, fd00:ec2::254, ...): only an allow-list entry naming that exact
  address admits one, never a range or a host name, as they hand out the machine's credentials;
- IPv6 forms that carry an IPv4 address (IPv4-mapped ``::ffff:127.0.0.1``, IPv4-compatible, 6to4, Teredo,
  NAT64 ``64:ff9b::/96``) are judged by the IPv4 address they carry;
- ``localhost`` and ``*.localhost`` are loopback without asking DNS (RFC 6761).

Host spellings are read the way ``inet_aton`` and browsers read them (``2130706433``, ``0x7f000001``,
``0177.0.0.1`` and ``127.1`` are all 127.0.0.1), so a numeric trick is judged as the address it really is.
URLs must be http(s) without user info: ``http://good.example@127.0.0.1/`` reads differently to different parsers.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from ridgeline.domain.errors import InvalidArgument

ALLOW_SETTING = "RIDGELINE_OUTBOUND_ALLOW"
SCHEMES = ("http", "https")
DEFAULT_PORTS = {"http": 80, "https": 443}

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

METADATA_ADDRESSES: frozenset[IPAddress] = frozenset(
    ipaddress.ip_address(text)
    for text in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack, DigitalOcean, Oracle
        "169.254.170.2",  # AWS ECS task credentials
        "fd00:ec2::254",  # AWS over IPv6
        "100.100.100.200",  # Alibaba Cloud
    )
)
METADATA_NAMES = frozenset({"metadata.google.internal", "metadata.goog"})

_SHARED = ipaddress.ip_network("100.64.0.0/10")
_PRIVATE_V4 = tuple(ipaddress.ip_network(text) for text in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))
_UNIQUE_LOCAL = ipaddress.ip_network("fc00::/7")
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_LOCAL_NAT64 = ipaddress.ip_network("64:ff9b:1::/48")
_LOOPBACKS = (ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1"))
_LABEL = re.compile(r"[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?")
_NUMBER = re.compile(r"[0-9]+|0x[0-9a-f]*")
_FORBIDDEN_URL_CHARS = re.compile(r"[\x00-\x20\x7f\\]")


class OutboundRefused(InvalidArgument):
    """An outbound request aimed at a destination the policy refuses (the server answers 400)."""


@dataclass(frozen=True)
class OutboundPolicy:
    """The allow-list: host names (compared without case and trailing dot) and address ranges."""

    hosts: frozenset[str] = frozenset()
    networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def parse(cls, text: str | None) -> OutboundPolicy:
        """From ``RIDGELINE_OUTBOUND_ALLOW``: comma-separated host names, addresses (``127.0.0.1``, ``[::1]``)
        and CIDR ranges (``10.0.0.0/8``)."""
        hosts: set[str] = set()
        networks: list[IPNetwork] = []
        for entry in (text or "").split(","):
            entry = entry.strip()
            if not entry:
                continue
            try:
                if "/" in entry:
                    address, _, prefix = entry.partition("/")
                    networks.append(ipaddress.ip_network(f"{address.strip('[]')}/{prefix}", strict=False))
                    continue
                name, literal = parse_host(entry, field="outbound_allow")
            except (ValueError, InvalidArgument):
                raise InvalidArgument(
                    f"{ALLOW_SETTING}: {entry!r} is not a host name, an address or a CIDR range",
                    field="outbound_allow",
                ) from None
            if literal is None:
                hosts.add(name)
            else:
                networks.append(ipaddress.ip_network(literal))
        return cls(frozenset(hosts), tuple(networks))

    def allows_name(self, host: str) -> bool:
        return host.lower().rstrip(".") in self.hosts

    def allows_address(self, address: IPAddress) -> bool:
        if address in METADATA_ADDRESSES:
            return any(network.num_addresses == 1 and address in network for network in self.networks)
        return any(address.version == network.version and address in network for network in self.networks)


@dataclass(frozen=True)
class Destination:
    """An outbound URL taken apart: ``host`` is lower-case ASCII without a trailing dot, or the canonical text of
    ``address`` when the host is an address in any spelling."""

    scheme: str
    host: str
    port: int
    address: IPAddress | None

    @property
    def netloc(self) -> str:
        """``host:port`` for messages: never the path or query, which may hold a secret (Slack tokens)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


def parse_url(url: str, *, field: str = "url") -> Destination:
    """An http(s) URL's destination; anything that parsers could read two ways is refused."""
    if not isinstance(url, str) or _FORBIDDEN_URL_CHARS.search(url):
        raise InvalidArgument(f"{field} must be a URL without spaces, control characters or backslashes", field=field)
    try:
        parts = urlsplit(url)
    except ValueError:
        raise InvalidArgument(f"{field} is not a URL (its host or port cannot be read)", field=field) from None
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES or not parts.netloc:
        raise InvalidArgument(f"{field} must be an http:// or https:// URL with a host", field=field)
    if "@" in parts.netloc:
        raise InvalidArgument(
            f"{field} must not carry a user name or password before the host (user@host): it can hide where the "
            "request really goes",
            field=field,
        )
    try:
        port = parts.port
    except ValueError:
        raise InvalidArgument(f"{field} has a port that is not a number from 0 to 65535", field=field) from None
    if not parts.hostname:
        raise InvalidArgument(f"{field} must be an http:// or https:// URL with a host", field=field)
    host, address = parse_host(parts.hostname, field=field)
    return Destination(scheme, host, port or DEFAULT_PORTS[scheme], address)


def parse_host(host: str, *, field: str = "host") -> tuple[str, IPAddress | None]:
    """The host's canonical name, and its address when it is one in any spelling (brackets, numeric tricks)."""
    bad = InvalidArgument(f"{field}: {host!r} is not a host name or an address", field=field)
    text = host.strip()
    if text.startswith("[") and text.endswith("]"):
        try:
            address = ipaddress.IPv6Address(text[1:-1])
        except ValueError:
            raise bad from None
        return str(address), address
    if ":" in text:
        try:
            address = ipaddress.IPv6Address(text)
        except ValueError:
            raise bad from None
        return str(address), address
    if not text.isascii():
        # Browsers map full-width digits and dots to ASCII before reading the host: full-width "127.0.0.1" is loopback.
        try:
            text = text.encode("idna").decode("ascii")
        except UnicodeError:
            raise bad from None
    text = text.lower()
    if text.endswith("."):
        text = text[:-1]
    number = _numeric_ipv4(text, bad)
    if number is not None:
        return str(number), number
    labels = text.split(".")
    if not text or len(text) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        raise bad
    return text, None


def _numeric_ipv4(text: str, bad: InvalidArgument) -> ipaddress.IPv4Address | None:
    """The address an all-numeric host means (WHATWG URL host parsing, which follows inet_aton): 1 to 4 parts in
    decimal, octal (leading 0) or hex (0x); the last part fills the remaining bytes. None for a name."""
    parts = text.split(".")
    if not _NUMBER.fullmatch(parts[-1]):
        return None
    # A host ending in a number is an address or nothing: "1.2.3.09" must not reach DNS as a name.
    if len(parts) > 4:
        raise bad
    values = []
    for part in parts:
        if not _NUMBER.fullmatch(part):
            raise bad
        if part.startswith("0x"):
            values.append(int(part[2:] or "0", 16))
        elif len(part) > 1 and part.startswith("0"):
            if not set(part) <= set("01234567"):
                raise bad
            values.append(int(part, 8))
        else:
            values.append(int(part))
    *head, last = values
    if any(value > 255 for value in head) or last >= 256 ** (5 - len(values)):
        raise bad
    number = last
    for index, value in enumerate(head):
        number += value << (8 * (3 - index))
    return ipaddress.IPv4Address(number)


def category(address: IPAddress) -> str | None:
    """What kind of non-public address this is (``"loopback"``, ``"cloud metadata"``, ...); None when public."""
    if address in METADATA_ADDRESSES:
        return "cloud metadata"
    if address.is_unspecified:
        return "unspecified"
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    if address.is_multicast:
        return "multicast"
    if isinstance(address, ipaddress.IPv4Address):
        if address in _SHARED:
            return "shared (carrier-grade NAT)"
        if any(address in network for network in _PRIVATE_V4):
            return "private"
    else:
        if address in _UNIQUE_LOCAL:
            return "private (unique local)"
        if address.is_site_local:
            return "site-local"
    if address.is_reserved:
        return "reserved"
    # The rest of the special-purpose registry: documentation, benchmarking, protocol assignments, broadcast.
    if address.is_private or not address.is_global:
        return "special-purpose (not globally routable)"
    return None


def _embedded(address: IPAddress) -> list[tuple[str, ipaddress.IPv4Address]]:
    """The IPv4 addresses an IPv6 address carries, each with the name of the form."""
    if not isinstance(address, ipaddress.IPv6Address):
        return []
    if address.ipv4_mapped is not None:
        return [("IPv4-mapped", address.ipv4_mapped)]
    if address.sixtofour is not None:
        return [("6to4", address.sixtofour)]
    if address.teredo is not None:
        server, client = address.teredo
        return [("Teredo", server), ("Teredo", client)]
    low32 = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address in _NAT64 or address in _LOCAL_NAT64:
        return [("NAT64", low32)]
    if address in _IPV4_COMPATIBLE and int(address) > 1:
        return [("IPv4-compatible", low32)]
    return []


def refusal(address: IPAddress, policy: OutboundPolicy) -> str | None:
    """Why ``address`` may not be reached under ``policy``, as what it is (``"a loopback address"``); None when
    it may."""
    if policy.allows_address(address):
        return None
    embedded = _embedded(address)
    for form, inner in embedded:
        if policy.allows_address(inner):
            continue
        kind = category(inner)
        if kind is not None:
            return f"the {form} form of {inner}, {_a(kind)} address"
    if embedded and embedded[0][0] != "IPv4-compatible":
        # What it carries may be reached, and that is where the packets go.
        return None
    kind = category(address)
    return None if kind is None else f"{_a(kind)} address"


def _a(word: str) -> str:
    return f"{'an' if word[0] in 'aeiou' else 'a'} {word}"


def refused(host: str, reason: str, *, field: str) -> OutboundRefused:
    return OutboundRefused(
        f"refusing to connect to {host}: {reason}. Outbound requests (webhooks, Slack, email, MLflow import) reach "
        f"loopback, private, link-local and cloud-metadata addresses only when {ALLOW_SETTING} names them "
        "(a host name, an address or a CIDR range)",
        field=field,
    )


def check_host(host: str, address: IPAddress | None, policy: OutboundPolicy, *, field: str = "url") -> None:
    """Refuse, without DNS, what a host is known to be before resolving it: an address, localhost, a cloud
    metadata name. ``host``/``address`` as :func:`parse_host` returns them."""
    if address is not None:
        check_addresses(host, [address], policy, field=field)
        return
    if policy.allows_name(host):
        return
    if host in METADATA_NAMES:
        raise refused(host, "it names the cloud metadata service", field=field)
    if host == "localhost" or host.endswith(".localhost"):
        check_addresses(host, _LOOPBACKS, policy, field=field)


def check_addresses(host: str, addresses: Iterable[IPAddress], policy: OutboundPolicy, *, field: str = "url") -> None:
    """Refuse unless every address ``host`` resolved to may be reached: a name that answers with one public and
    one private address must not get a chance at the private one."""
    named = policy.allows_name(host)
    for address in addresses:
        if named and address not in METADATA_ADDRESSES:
            continue
        reason = refusal(address, policy)
        if reason is not None:
            said = "it is" if host == str(address) else f"it resolves to {address},"
            raise refused(host, f"{said} {reason}", field=field)


def check_url(url: str, policy: OutboundPolicy, *, field: str = "url") -> Destination:
    """:func:`parse_url` and :func:`check_host`: everything that can be judged before DNS."""
    destination = parse_url(url, field=field)
    check_host(destination.host, destination.address, policy, field=field)
    return destination
