"""Alert channels against real receivers on loopback: a webhook and a Slack-compatible endpoint (http.server) and
an SMTP server speaking STARTTLS and AUTH PLAIN.

The SMTP server is a small one written here: the standard library's smtpd has neither STARTTLS nor AUTH, is gone
from Python 3.12, and its import warning is an error under this suite's filterwarnings.
"""

from __future__ import annotations

import base64
import email
import email.policy
import hashlib
import hmac
import ipaddress
import json
import math
import socketserver
import ssl
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage, Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ridgeline.domain.errors import InvalidArgument
from ridgeline.monitoring.rule_eval import evaluate
from ridgeline.monitoring.rules import parse_rule
from ridgeline.services.alert_channels import AlertMessage, EmailChannel, build_channel, iso_time
from support.servers import free_port

HOUR = 3_600_000
# How often a test server checks for shutdown (the standard library's 0.5 s would add that to every test).
POLL_S = 0.02


@dataclass
class Received:
    path: str
    headers: Message
    body: bytes


class Receiver(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int = 0) -> None:
        super().__init__(("127.0.0.1", port), _ReceiverHandler)
        self.received: list[Received] = []
        self.status, self.answer, self.delay = 200, b"ok", 0.0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up (the timeout test) leaves a broken pipe here: expected, not news."""


class _ReceiverHandler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.received.append(Received(self.path, self.headers, body))
        time.sleep(self.server.delay)
        self.send_response(self.server.status)
        self.send_header("Content-Length", str(len(self.server.answer)))
        self.end_headers()
        self.wfile.write(self.server.answer)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@dataclass
class Mail:
    sender: str
    recipients: list[str]
    message: EmailMessage
    user: str | None
    tls: bool


class SmtpServer(socketserver.ThreadingTCPServer):
    daemon_threads = True

    def __init__(self, tls: ssl.SSLContext | None = None, credentials: tuple[str, str] | None = None) -> None:
        super().__init__(("127.0.0.1", 0), _SmtpHandler)
        self.tls, self.credentials = tls, credentials
        self.mails: list[Mail] = []

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client refusing the certificate aborts the handshake here: the test reads the client's side."""


class _SmtpHandler(socketserver.StreamRequestHandler):
    server: SmtpServer

    def finish(self) -> None:
        super().finish()
        # After STARTTLS this is the TLS socket, which the server's own close of the request does not reach.
        self.connection.close()

    def reply(self, *lines: str) -> None:
        text = "".join(f"{line[:3]}{'-' if i < len(lines) - 1 else ' '}{line[4:]}\r\n" for i, line in enumerate(lines))
        self.connection.sendall(text.encode())

    def handle(self) -> None:
        tls, user, sender, recipients = False, None, "", list[str]()
        self.reply("220 loopback ESMTP")
        while line := self.rfile.readline():
            verb, _, argument = line.decode().rstrip("\r\n").partition(" ")
            verb = verb.upper()
            if verb in ("EHLO", "HELO"):
                offers = ["STARTTLS"] if self.server.tls and not tls else []
                offers += ["AUTH PLAIN"] if self.server.credentials and tls else []
                self.reply("250 loopback", *(f"250 {offer}" for offer in offers))
            elif verb == "STARTTLS" and self.server.tls and not tls:
                self.reply("220 go ahead")
                self.connection = self.server.tls.wrap_socket(self.connection, server_side=True)
                self.rfile, tls = self.connection.makefile("rb"), True
            elif verb == "AUTH" and self.server.credentials and tls:
                _, given_user, password = base64.b64decode(argument.split()[1]).decode().split("\0")
                if (given_user, password) != self.server.credentials:
                    self.reply("535 5.7.8 authentication credentials invalid")
                    continue
                user = given_user
                self.reply("235 2.7.0 authenticated")
            elif verb == "MAIL":
                sender, recipients = argument.split(":", 1)[1].split()[0].strip("<>"), []
                self.reply("250 ok")
            elif verb == "RCPT":
                recipient = argument.split(":", 1)[1].strip().strip("<>")
                if recipient.startswith("nobody@"):
                    self.reply("550 5.1.1 no such user")
                    continue
                recipients.append(recipient)
                self.reply("250 ok")
            elif verb == "DATA":
                self.reply("354 end with <CRLF>.<CRLF>")
                data = b"".join(iter(self.rfile.readline, b".\r\n")).replace(b"\r\n..", b"\r\n.")
                message = email.message_from_bytes(data, _class=EmailMessage, policy=email.policy.default)
                self.server.mails.append(Mail(sender, recipients, message, user, tls))
                self.reply("250 queued")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("502 command not implemented")


@contextmanager
def serving(server: socketserver.BaseServer) -> Iterator[Any]:
    thread = threading.Thread(target=server.serve_forever, args=(POLL_S,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture(autouse=True)
def _loopback_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    """The receivers here listen on loopback, which outbound requests reach only when the allow-list names it
    (tests/security/test_outbound.py checks the refusal)."""
    monkeypatch.setenv("RIDGELINE_OUTBOUND_ALLOW", "127.0.0.1")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with serving(Receiver()) as server:
        yield server


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (cert file, key file): the test's own CA."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ridgeline test SMTP")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_bytes = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    (folder / "key.pem").write_bytes(key_bytes)
    return folder / "cert.pem", folder / "key.pem"


@pytest.fixture
def tls_smtp(certificate: tuple[Path, Path]) -> Iterator[SmtpServer]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    with serving(SmtpServer(tls=context, credentials=("alerts", "s3cret"))) as server:
        yield server


def alert(status: str = "raised", url: str | None = "https://ridgeline.example/monitors/7?window=2") -> AlertMessage:
    rows = [
        {"window_start": 2 * HOUR, "window_end": 3 * HOUR, "segment": "country=IT", "feature": name, "psi": psi}
        for name, psi in (("age", 0.31), ("income", math.inf))
    ]
    [firing] = evaluate(parse_rule("psi > 0.2 on any feature", severity="critical"), rows)
    return AlertMessage.from_firing(firing, monitor="churn", model="models:/churn@champion", status=status, url=url)


def verify(secret: str, headers: Mapping[str, str], body: bytes, max_age_s: float = 300) -> bool:
    """The verification recipe of the alert_channels module documentation, as a receiver would write it."""
    timestamp = headers["X-Ridgeline-Timestamp"]
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    valid = hmac.compare_digest(headers["X-Ridgeline-Signature"], "sha256=" + expected)
    fresh = abs(time.time() - int(timestamp)) <= max_age_s
    return valid and fresh


def test_webhook_posts_signed_json(receiver: Receiver) -> None:
    channel = build_channel({"type": "webhook", "name": "ops-hook", "url": f"{receiver.url}/hook", "secret": "k3y"})
    message = alert()
    delivery = channel.send(message)
    assert (delivery.channel, delivery.ok) == ("ops-hook", True)
    assert delivery.detail == f"HTTP 200 from {receiver.url.removeprefix('http://')}"
    [received] = receiver.received
    assert received.path == "/hook" and received.headers["Content-Type"] == "application/json"
    payload = json.loads(received.body)
    assert payload == message.to_json()
    assert payload["values"] == {"age": 0.31, "income": None}
    assert payload["window_start"] == "1970-01-01T02:00:00Z" and payload["status"] == "raised"
    assert payload["rule"] == "psi > 0.2 on any feature" and payload["severity"] == "critical"
    headers = dict(received.headers.items())
    assert verify("k3y", headers, received.body)
    assert not verify("wrong secret", headers, received.body)
    assert not verify("k3y", headers, received.body.replace(b"churn", b"churm"))
    # The timestamp is signed: a captured request replayed under a fresh timestamp fails, and an old one is stale.
    fresh = str(int(headers["X-Ridgeline-Timestamp"]) + 60)
    assert not verify("k3y", {**headers, "X-Ridgeline-Timestamp": fresh}, received.body)
    assert not verify("k3y", headers, received.body, max_age_s=-1)


def test_webhook_error_answer_and_timeout(receiver: Receiver) -> None:
    receiver.status, receiver.answer = 500, b"boom\n"
    delivery = build_channel({"type": "webhook", "url": receiver.url, "secret": "k"}).send(alert())
    assert not delivery.ok and delivery.detail.endswith(": boom") and "HTTP 500 from 127.0.0.1:" in delivery.detail
    receiver.status, receiver.delay = 200, 1.0
    slow = build_channel({"type": "slack", "url": receiver.url, "timeout": 0.2}).send(alert())
    assert not slow.ok and "did not answer within 0.2 s" in slow.detail
    # Not retried: the receiver may have acted on it.
    assert len(receiver.received) == 2


def test_slack_text_is_short_and_escaped(receiver: Receiver) -> None:
    channel = build_channel({"type": "slack", "url": f"{receiver.url}/services/T0/B0/XYZ"})
    assert channel.send(alert()).ok
    assert channel.send(alert("resolved", url=None)).ok
    raised, resolved = (json.loads(received.body) for received in receiver.received)
    assert set(raised) == {"text"}
    assert raised["text"] == (
        "*[CRITICAL] churn (models:/churn@champion): psi &gt; 0.2 on 2 features (income inf, age 0.31) in segment "
        "country=IT*\nsegment country=IT, window 1970-01-01T02:00:00Z to 1970-01-01T03:00:00Z\n"
        "<https://ridgeline.example/monitors/7?window=2|Open in Ridgeline>"
    )
    assert resolved["text"].startswith("*[RESOLVED] churn (models:/churn@champion): psi &gt; 0.2 on any feature*\n")
    assert "Open in Ridgeline" not in resolved["text"]


def test_closed_port_gives_a_failed_delivery_not_an_exception() -> None:
    port = free_port()
    configs: list[dict[str, Any]] = [
        {"type": "webhook", "url": f"http://127.0.0.1:{port}/hook", "secret": "k"},
        {"type": "slack", "url": f"http://127.0.0.1:{port}/services/T0/B0/SECRET-TOKEN"},
    ]
    for config in configs:
        delivery = build_channel(config).send(alert())
        assert not delivery.ok
        assert delivery.detail.startswith(f"cannot connect to 127.0.0.1:{port} (tried twice): ConnectError")
        assert "SECRET-TOKEN" not in delivery.detail
    mail = build_channel({"type": "email", "host": "127.0.0.1", "port": port, "from": "a@x.io", "to": ["b@x.io"]})
    delivery = mail.send(alert())
    assert not delivery.ok and delivery.detail.startswith(f"cannot connect to SMTP 127.0.0.1:{port}: ConnectionRefused")


def test_a_receiver_up_by_the_retry_gets_the_alert_once() -> None:
    port = free_port()
    channel = build_channel({"type": "webhook", "url": f"http://127.0.0.1:{port}/", "secret": "k"})
    late: list[Receiver] = []

    def come_up() -> None:
        late.append(Receiver(port))
        threading.Thread(target=late[0].serve_forever, args=(POLL_S,), daemon=True).start()

    # The first attempt finds the port closed; the receiver is up before the retry half a second later.
    starter = threading.Timer(0.1, come_up)
    starter.start()
    try:
        delivery = channel.send(alert())
    finally:
        starter.join()
        for server in late:
            server.shutdown()
            server.server_close()
    assert delivery.ok and len(late[0].received) == 1


def test_email_plain() -> None:
    with serving(SmtpServer()) as server:
        config = {"type": "email", "host": "127.0.0.1", "port": server.server_address[1], "from": "ridgeline@x.io"}
        delivery = build_channel({**config, "to": ["ops@x.io", "ml@x.io"]}).send(alert())
        assert delivery.ok and delivery.detail == "sent to 2 recipient(s) through 127.0.0.1"
        partly = build_channel({**config, "to": ["ops@x.io", "nobody@x.io"]}).send(alert())
        assert not partly.ok and partly.detail == "SMTP 127.0.0.1 refused nobody@x.io"
        refused = build_channel({**config, "to": ["nobody@x.io"]}).send(alert())
        assert not refused.ok and "SMTPRecipientsRefused" in refused.detail and "no such user" in refused.detail
        no_tls = build_channel({**config, "to": ["ops@x.io"], "starttls": True}).send(alert())
        assert not no_tls.ok and "STARTTLS extension not supported by server" in no_tls.detail
    mail = server.mails[0]
    assert (mail.sender, mail.recipients, mail.user, mail.tls) == (
        "ridgeline@x.io",
        ["ops@x.io", "ml@x.io"],
        None,
        False,
    )
    assert mail.message["Subject"] == (
        "[Ridgeline] [CRITICAL] churn (models:/churn@champion): psi > 0.2 on 2 features (income inf, age 0.31) in "
        "segment country=IT"
    )
    assert mail.message["To"] == "ops@x.io, ml@x.io" and mail.message["Message-ID"].endswith("@x.io>")
    body = mail.message.get_content()
    for line in ("Rule:      psi > 0.2 on any feature", "Segment:   country=IT", "  income: inf", "  age: 0.31"):
        assert line in body.splitlines()
    assert "Window:    1970-01-01T02:00:00Z to 1970-01-01T03:00:00Z" in body
    assert body.rstrip().endswith("https://ridgeline.example/monitors/7?window=2")


def test_email_starttls_and_login(tls_smtp: SmtpServer, certificate: tuple[Path, Path]) -> None:
    config = {
        **{"type": "email", "host": "127.0.0.1", "port": tls_smtp.server_address[1], "starttls": True},
        **{"from": "ridgeline@x.io", "to": ["ops@x.io"], "username": "alerts", "password": "s3cret"},
    }
    channel = build_channel({**config, "ca_file": str(certificate[0])})
    assert "s3cret" not in repr(channel)
    assert channel.send(alert("resolved")).ok
    [mail] = tls_smtp.mails
    assert (mail.user, mail.tls) == ("alerts", True)
    assert mail.message["Subject"] == "[Ridgeline] [RESOLVED] churn (models:/churn@champion): psi > 0.2 on any feature"
    assert "Finding:" not in mail.message.get_content()
    wrong = build_channel({**config, "password": "guess", "ca_file": str(certificate[0])}).send(alert())
    assert not wrong.ok and wrong.detail == "SMTP 127.0.0.1 answered 535 5.7.8 authentication credentials invalid"
    untrusted = build_channel(config).send(alert())
    assert not untrusted.ok and "CERTIFICATE_VERIFY_FAILED" in untrusted.detail
    assert len(tls_smtp.mails) == 1


MAIL = {"type": "email", "host": "h", "from": "a@x.io", "to": ["b@x.io"]}


@pytest.mark.parametrize(
    ("config", "field", "message"),
    [
        ("webhook", "channel", "a channel config must be a mapping"),
        ({"type": "pager"}, "type", "channel type must be one of webhook, slack, email, got 'pager'"),
        ({"type": "webhook", "url": "http://h/x"}, "secret", "secret must be a non-empty string"),
        ({"type": "webhook", "url": "http://h/x", "secrte": "k"}, "channel", "unknown webhook channel keys secrte"),
        ({"type": "webhook", "url": "ftp://h/x", "secret": "k"}, "url", "url must be an http:// or https:// URL"),
        ({"type": "slack", "url": "hooks.slack.com/x"}, "url", "url must be an http:// or https:// URL"),
        ({"type": "slack", "url": "https://h/x", "timeout": 0}, "timeout", "timeout must be seconds above 0"),
        ({"type": "slack", "url": "https://h/x", "timeout": "5"}, "timeout", "timeout must be seconds above 0"),
        ({**MAIL, "to": "b@x.io"}, "to", "to must be a non-empty list"),
        ({**MAIL, "to": []}, "to", "to must be a non-empty list"),
        ({**MAIL, "to": ["bob"]}, "to", "to must hold email addresses"),
        ({**MAIL, "from": "a\n@x.io"}, "from", "from must hold email"),
        ({**MAIL, "host": None}, "host", "host must be a non-empty string"),
        ({**MAIL, "port": 0}, "port", "port must be an integer from 1 to 65535"),
        ({**MAIL, "starttls": "yes"}, "starttls", "starttls must be true or false"),
        ({**MAIL, "username": "u"}, "username", "username and password go together"),
        ({**MAIL, "username": "u", "password": "p"}, "starttls", "login needs starttls"),
    ],
)
def test_bad_configs_are_refused(config: Any, field: str, message: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        build_channel(config)
    assert caught.value.field == field and message in caught.value.message


def test_email_defaults_and_message_checks() -> None:
    plain, secure = build_channel(MAIL), build_channel({**MAIL, "starttls": True})
    assert isinstance(plain, EmailChannel) and isinstance(secure, EmailChannel)
    assert (plain.name, plain.port, secure.port) == ("email", 25, 587)
    with pytest.raises(InvalidArgument, match="status must be one of raised, resolved"):
        AlertMessage("m", "models:/m/1", "f1 < 0.8", "warning", "firing", "", "a", "b", "f1 < 0.8 (0.7)")
    assert iso_time(1_714_521_600_000) == "2024-05-01T00:00:00Z" and iso_time(1_500) == "1970-01-01T00:00:01.500Z"
    # A line break in a user-given name cannot split the subject header.
    odd = AlertMessage("a\r\nBcc: x@evil.io", "m", "r", "info", "raised", "", "s", "e", "line\nbreak")
    assert plain.email(odd)["Subject"] == "[Ridgeline] [INFO] a Bcc: x@evil.io (m): line break"
