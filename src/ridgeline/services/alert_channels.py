"""Alert delivery: an :class:`AlertMessage` sent through a :class:`Channel` built from a dict config.

``build_channel(config)`` checks the config and returns one of:

- ``{"type": "webhook", "url": ..., "secret": ...}``: POSTs ``AlertMessage.to_json()`` as compact JSON, signed.
- ``{"type": "slack", "url": ...}``: a Slack-compatible incoming webhook (Slack, Mattermost, Rocket.Chat …):
  ``{"text": ...}`` with a short readable message.
- ``{"type": "email", "host": ..., "port": 587, "from": ..., "to": [...], "starttls": true, "username": ...,
  "password": ..., "ca_file": ...}``: a plain-text mail through SMTP. ``port`` defaults to 587 with ``starttls``
  and to 25 without; ``ca_file`` trusts a private CA for STARTTLS. Login needs STARTTLS: a password is never sent
  in clear.

Every config takes an optional ``name`` (what :class:`Delivery` reports; the type by default) and ``timeout`` in
seconds (default 10). Unknown keys are refused, so a misspelt ``secret`` cannot silently drop the signature.

``channel.send(message)`` returns a :class:`Delivery` and never raises: alerting must not break the monitor run
that calls it. A connection that cannot be opened (refused, unreachable, name not resolved) is tried once more
after half a second; nothing else is retried, since a receiver that timed out or answered an error may have acted
on the alert already. Details name the host, never the URL: a Slack webhook URL is itself a secret.

Destinations. Channels connect through services/outbound.py: a loopback, private, link-local or cloud-metadata
destination is refused unless ``RIDGELINE_OUTBOUND_ALLOW`` names it (a failed :class:`Delivery` that says so), and
the connection goes to the address that was checked. :func:`check_destination` refuses, without DNS, what is
known to be forbidden before resolving (an address, ``localhost``) when a monitor is created.

Webhook signature. Each request carries ``X-Ridgeline-Timestamp`` (Unix seconds) and ``X-Ridgeline-Signature:
sha256=<hex>``, the HMAC-SHA256 under the configured secret of the timestamp, a dot and the exact body bytes. The
timestamp is signed so a captured request cannot be replayed later. To verify, in the receiver::

    timestamp = request.headers["X-Ridgeline-Timestamp"]
    body = request.body  # the raw bytes, before any JSON parsing
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    valid = hmac.compare_digest(request.headers["X-Ridgeline-Signature"], "sha256=" + expected)
    fresh = abs(time.time() - int(timestamp)) <= 300  # refuse older requests: they may be replays

and accept the alert only when both hold.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import math
import smtplib
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx

from ridgeline.domain.errors import InvalidArgument
from ridgeline.domain.outbound import OutboundPolicy, OutboundRefused, check_host, parse_host, parse_url
from ridgeline.monitoring.rule_eval import Firing
from ridgeline.services.outbound import PinnedSMTP, check_smtp_host, default_policy, safe_client

STATUSES = ("raised", "resolved")
CHANNEL_TYPES = ("webhook", "slack", "email")
DEFAULT_TIMEOUT_S = 10.0
RETRY_DELAY_S = 0.5
SIGNATURE_HEADER = "X-Ridgeline-Signature"
TIMESTAMP_HEADER = "X-Ridgeline-Timestamp"
# How much of a refusing receiver's answer a Delivery quotes.
DETAIL_BODY_CHARS = 200

_COMMON_KEYS = ("type", "name", "timeout")
_KEYS = {
    "webhook": ("url", "secret"),
    "slack": ("url",),
    "email": ("host", "port", "from", "to", "starttls", "username", "password", "ca_file"),
}


def iso_time(epoch_ms: int) -> str:
    moment = datetime.fromtimestamp(epoch_ms / 1000, tz=UTC)
    return moment.isoformat(timespec="milliseconds" if epoch_ms % 1000 else "seconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class AlertMessage:
    """One notification. ``window_start``/``window_end`` are ISO 8601 UTC times; ``values`` what broke the rule."""

    monitor: str
    model: str
    rule: str
    severity: str
    status: str
    segment: str
    window_start: str
    window_end: str
    message: str
    values: Mapping[str, float | None] = field(default_factory=dict)
    url: str | None = None

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise InvalidArgument(f"status must be one of {', '.join(STATUSES)}, got {self.status!r}", field="status")

    @classmethod
    def from_firing(
        cls, firing: Firing, *, monitor: str, model: str, status: str = "raised", url: str | None = None
    ) -> AlertMessage:
        return cls(
            monitor=monitor,
            model=model,
            rule=firing.rule.text,
            severity=firing.rule.severity,
            status=status,
            segment=firing.segment,
            window_start=iso_time(firing.window_start),
            window_end=iso_time(firing.window_end),
            message=firing.message,
            values=dict(firing.values),
            url=url,
        )

    def to_json(self) -> dict[str, Any]:
        """JSON-ready; a value that is not finite (an infinite distance) is null."""
        values = {key: value if value is None or math.isfinite(value) else None for key, value in self.values.items()}
        return {**self.__dict__, "values": values}

    @property
    def headline(self) -> str:
        """One line: ``[WARNING] churn (models:/churn@champion): <message>``, or the rule when resolved."""
        if self.status == "resolved":
            return f"[RESOLVED] {self.monitor} ({self.model}): {self.rule}"
        return f"[{self.severity.upper()}] {self.monitor} ({self.model}): {self.message}"

    @property
    def where(self) -> str:
        segment = f"segment {self.segment}" if self.segment else "whole population"
        return f"{segment}, window {self.window_start} to {self.window_end}"


@dataclass(frozen=True)
class Delivery:
    channel: str
    ok: bool
    detail: str


class Channel(Protocol):
    @property
    def name(self) -> str: ...

    def send(self, message: AlertMessage) -> Delivery: ...


@dataclass(frozen=True)
class WebhookChannel:
    name: str
    url: str = field(repr=False)
    secret: str = field(repr=False)
    timeout: float = DEFAULT_TIMEOUT_S
    # Read when the channel is built, so a changed environment applies to the next monitor run.
    outbound: OutboundPolicy = field(default_factory=default_policy, repr=False, compare=False)

    def send(self, message: AlertMessage) -> Delivery:
        body = json.dumps(message.to_json(), separators=(",", ":"), ensure_ascii=False).encode()
        timestamp = str(int(time.time()))
        digest = hmac.new(self.secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        headers = {TIMESTAMP_HEADER: timestamp, SIGNATURE_HEADER: f"sha256={digest}"}
        return _post(self.name, self.url, body, headers, self.timeout, self.outbound)


@dataclass(frozen=True)
class SlackChannel:
    name: str
    url: str = field(repr=False)
    timeout: float = DEFAULT_TIMEOUT_S
    outbound: OutboundPolicy = field(default_factory=default_policy, repr=False, compare=False)

    def send(self, message: AlertMessage) -> Delivery:
        body = json.dumps({"text": slack_text(message)}).encode()
        return _post(self.name, self.url, body, {}, self.timeout, self.outbound)


def slack_text(message: AlertMessage) -> str:
    # Slack reads &, < and > as markup (links, mentions): "psi > 0.2" must reach it escaped.
    lines = [f"*{_slack_escape(message.headline)}*", _slack_escape(message.where)]
    if message.url:
        lines.append(f"<{_slack_escape(message.url)}|Open in Ridgeline>")
    return "\n".join(lines)


@dataclass(frozen=True)
class EmailChannel:
    name: str
    host: str
    port: int
    sender: str
    recipients: tuple[str, ...]
    starttls: bool = False
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    ca_file: str | None = None
    timeout: float = DEFAULT_TIMEOUT_S
    outbound: OutboundPolicy = field(default_factory=default_policy, repr=False, compare=False)

    def send(self, message: AlertMessage) -> Delivery:
        try:
            email = self.email(message)
            smtp = self._connect()
        except OutboundRefused as error:
            return Delivery(self.name, False, error.message)
        except OSError as error:
            return Delivery(self.name, False, f"cannot connect to SMTP {self.host}:{self.port}: {_describe(error)}")
        except Exception as error:  # a send never raises (module documentation)
            return Delivery(self.name, False, f"cannot build the mail: {_describe(error)}")
        try:
            if self.starttls:
                smtp.starttls(context=ssl.create_default_context(cafile=self.ca_file))
            if self.username is not None and self.password is not None:
                smtp.login(self.username, self.password)
            refused = smtp.send_message(email)
            # The mail is queued once DATA is accepted: a failing goodbye changes nothing. (`with smtp` would say
            # QUIT on failure too, and its error would hide the one that matters.)
            with contextlib.suppress(OSError):
                smtp.quit()
        except smtplib.SMTPResponseException as error:
            answer = error.smtp_error
            text = answer.decode(errors="replace") if isinstance(answer, bytes) else str(answer)
            return Delivery(self.name, False, f"SMTP {self.host} answered {error.smtp_code} {text}")
        except Exception as error:  # a send never raises (module documentation)
            return Delivery(self.name, False, f"SMTP {self.host}:{self.port}: {_describe(error)}")
        finally:
            smtp.close()
        if refused:
            return Delivery(self.name, False, f"SMTP {self.host} refused {', '.join(sorted(refused))}")
        return Delivery(self.name, True, f"sent to {len(self.recipients)} recipient(s) through {self.host}")

    def email(self, message: AlertMessage) -> EmailMessage:
        email = EmailMessage()
        # A header holding a line break is refused by the email package; names are user input.
        email["Subject"] = " ".join(f"[Ridgeline] {message.headline}".split())
        email["From"] = self.sender
        email["To"] = ", ".join(self.recipients)
        email["Date"] = formatdate(usegmt=True)
        email["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2])
        email.set_content(email_body(message))
        return email

    def _connect(self) -> smtplib.SMTP:
        try:
            return self._open()
        except TimeoutError:
            raise
        except OSError:
            time.sleep(RETRY_DELAY_S)
            return self._open()

    def _open(self) -> smtplib.SMTP:
        # Resolved and checked on each try: the retry must not skip the check.
        address = check_smtp_host(self.outbound, self.host, self.port)
        return PinnedSMTP(address, self.host, self.port, timeout=self.timeout)


def email_body(message: AlertMessage) -> str:
    lines = [
        message.headline,
        "",
        f"Status:    {message.status}",
        f"Monitor:   {message.monitor}",
        f"Model:     {message.model}",
        f"Rule:      {message.rule}",
        f"Severity:  {message.severity}",
        f"Segment:   {message.segment or 'whole population'}",
        f"Window:    {message.window_start} to {message.window_end}",
    ]
    if message.status == "raised":
        lines += [f"Finding:   {message.message}"]
        lines += [f"  {name}: {'n/a' if value is None else f'{value:.6g}'}" for name, value in message.values.items()]
    if message.url:
        lines += ["", message.url]
    return "\n".join(lines) + "\n"


def build_channel(config: Mapping[str, Any], outbound: OutboundPolicy | None = None) -> Channel:
    """A channel from its config (see the module documentation); a bad config raises ``InvalidArgument``.
    ``outbound``: the policy its sends follow (None: ``RIDGELINE_OUTBOUND_ALLOW`` now). The policy is not applied
    here: a stored channel must still build after the allow-list shrank, and its sends fail saying why."""
    policy = default_policy() if outbound is None else outbound
    if not isinstance(config, Mapping):
        raise InvalidArgument("a channel config must be a mapping", field="channel")
    kind = config.get("type")
    if kind not in _KEYS:
        raise InvalidArgument(f"channel type must be one of {', '.join(CHANNEL_TYPES)}, got {kind!r}", field="type")
    unknown = sorted(set(config) - {*_COMMON_KEYS, *_KEYS[kind]})
    if unknown:
        allowed = ", ".join((*_COMMON_KEYS, *_KEYS[kind]))
        raise InvalidArgument(
            f"unknown {kind} channel keys {', '.join(unknown)}: allowed are {allowed}", field="channel"
        )
    name = _optional(config, "name") or kind
    timeout = config.get("timeout", DEFAULT_TIMEOUT_S)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not 0 < timeout <= 300:
        raise InvalidArgument(f"timeout must be seconds above 0 and at most 300, got {timeout!r}", field="timeout")
    if kind == "webhook":
        return WebhookChannel(name, _url(config), _required(config, "secret"), float(timeout), policy)
    if kind == "slack":
        return SlackChannel(name, _url(config), float(timeout), policy)
    starttls = config.get("starttls", False)
    if not isinstance(starttls, bool):
        raise InvalidArgument(f"starttls must be true or false, got {starttls!r}", field="starttls")
    port = config.get("port", 587 if starttls else 25)
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        raise InvalidArgument(f"port must be an integer from 1 to 65535, got {port!r}", field="port")
    recipients = config.get("to")
    if isinstance(recipients, str) or not isinstance(recipients, list | tuple) or not recipients:
        raise InvalidArgument("to must be a non-empty list of email addresses", field="to")
    username, password = _optional(config, "username"), _optional(config, "password")
    if (username is None) != (password is None):
        raise InvalidArgument("username and password go together", field="username")
    if username is not None and not starttls:
        raise InvalidArgument("login needs starttls: the password would cross the network in clear", field="starttls")
    host = _required(config, "host")
    parse_host(host, field="host")
    return EmailChannel(
        name=name,
        host=host,
        port=port,
        sender=_address(config.get("from"), "from"),
        recipients=tuple(_address(address, "to") for address in recipients),
        starttls=starttls,
        username=username,
        password=password,
        ca_file=_optional(config, "ca_file"),
        timeout=float(timeout),
        outbound=policy,
    )


def check_destination(config: Mapping[str, Any], outbound: OutboundPolicy | None = None) -> None:
    """Refuse, without DNS, a new channel whose URL or SMTP host is already known to be forbidden (an address,
    ``localhost``, a metadata name). Names are resolved, and judged, at each send."""
    if not isinstance(config, Mapping):
        return
    policy = default_policy() if outbound is None else outbound
    if config.get("type") in ("webhook", "slack") and isinstance(config.get("url"), str):
        destination = parse_url(config["url"])
        check_host(destination.host, destination.address, policy, field="url")
    elif config.get("type") == "email" and isinstance(config.get("host"), str) and config["host"].strip():
        host, address = parse_host(config["host"], field="host")
        check_host(host, address, policy, field="host")


def _post(
    name: str, url: str, body: bytes, headers: Mapping[str, str], timeout: float, outbound: OutboundPolicy
) -> Delivery:
    host = urlsplit(url).netloc
    all_headers = {"Content-Type": "application/json", "User-Agent": "ridgeline-alerts", **headers}
    try:
        # Redirects are not followed: a receiver that answers 3xx did not take the alert.
        with safe_client(outbound, timeout=timeout) as client:
            try:
                response = client.post(url, content=body, headers=all_headers)
            except httpx.ConnectError:
                time.sleep(RETRY_DELAY_S)
                response = client.post(url, content=body, headers=all_headers)
    except OutboundRefused as error:
        return Delivery(name, False, error.message)
    except httpx.ConnectError as error:
        return Delivery(name, False, f"cannot connect to {host} (tried twice): {_describe(error)}")
    except httpx.TimeoutException as error:
        return Delivery(name, False, f"{host} did not answer within {timeout:g} s ({type(error).__name__})")
    except Exception as error:  # a send never raises (module documentation)
        return Delivery(name, False, f"POST to {host} failed: {_describe(error)}")
    if response.is_success:
        return Delivery(name, True, f"HTTP {response.status_code} from {host}")
    answer = " ".join(response.text[:DETAIL_BODY_CHARS].split())
    return Delivery(name, False, f"HTTP {response.status_code} from {host}: {answer}".rstrip(": "))


def _describe(error: BaseException) -> str:
    text = str(error)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _required(config: Mapping[str, Any], key: str) -> str:
    value = config.get(key)
    if not isinstance(value, str) or not value.strip():
        raise InvalidArgument(f"{key} must be a non-empty string", field=key)
    return value


def _optional(config: Mapping[str, Any], key: str) -> str | None:
    return _required(config, key) if config.get(key) is not None else None


def _url(config: Mapping[str, Any]) -> str:
    url = _required(config, "url")
    parse_url(url)
    return url


def _address(value: Any, key: str) -> str:
    if not isinstance(value, str) or value.count("@") != 1 or any(char.isspace() for char in value):
        raise InvalidArgument(f"{key} must hold email addresses like alerts@example.com, got {value!r}", field=key)
    return value


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
