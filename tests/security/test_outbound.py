"""Outbound requests (alert webhooks, Slack, email, MLflow import) and server-side request forgery: every way of
spelling a loopback, private, link-local or cloud-metadata destination is refused unless RIDGELINE_OUTBOUND_ALLOW
names it, against real receivers on loopback that must see nothing; the allow-list admits each of its forms;
redirects are checked hop by hop; the connection goes to the address that was checked (a DNS answer that changes
afterwards cannot move it), with the name kept for the Host header and TLS.

DNS is the one thing faked: ``socket.getaddrinfo`` answers for names under ``.example`` (rebinding cannot be
staged with a real resolver); addresses still go to the real one, so connections are real."""

from __future__ import annotations

import re
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from typer.testing import CliRunner

from ridgeline.cli.main import app
from ridgeline.domain.errors import InvalidArgument
from ridgeline.domain.outbound import OutboundPolicy, OutboundRefused, check_url
from ridgeline.services.alert_channels import AlertMessage, build_channel, check_destination
from ridgeline.services.mlflow_import import open_source
from ridgeline.services.mlflow_import.http import MlflowHttp
from ridgeline.services.monitoring.spec import MonitorSpec
from ridgeline.services.outbound import check_smtp_host, safe_client

SETTING = "RIDGELINE_OUTBOUND_ALLOW"
NOBODY = OutboundPolicy()
LOOPBACK = OutboundPolicy.parse("127.0.0.1")
POLL_S = 0.02


@pytest.fixture(autouse=True)
def _no_allow_list(monkeypatch: pytest.MonkeyPatch) -> None:
    """The default: whatever the developer's shell allows, these tests start from nothing allowed."""
    monkeypatch.delenv(SETTING, raising=False)


@dataclass
class Seen:
    method: str
    path: str
    host: str


class Receiver(ThreadingHTTPServer):
    """Answers 200, or a redirect to ``location``; keeps every request it gets."""

    daemon_threads = True

    def __init__(self, address: str = "127.0.0.1", port: int = 0, location: str | None = None) -> None:
        super().__init__((address, port), _Handler)
        self.location = location
        self.seen: list[Seen] = []

    @property
    def port(self) -> int:
        return int(self.server_address[1])


class _Handler(BaseHTTPRequestHandler):
    server: Receiver

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        self.server.seen.append(Seen(self.command, self.path, self.headers.get("Host", "")))
        if self.server.location is not None:
            self.send_response(302)
            self.send_header("Location", self.server.location)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = b'{"experiments": []}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def serving(server: Receiver) -> Iterator[Receiver]:
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": POLL_S}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with serving(Receiver()) as server:
        yield server


@dataclass
class FakeDns:
    """Answers for names under .example: each lookup takes the next answer, the last one repeats."""

    answers: dict[str, list[list[str]]] = field(default_factory=dict)
    lookups: list[str] = field(default_factory=list)


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> FakeDns:
    fake = FakeDns()
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else host
        if not (isinstance(name, str) and name.endswith(".example")):
            return real(host, port, *args, **kwargs)
        fake.lookups.append(name)
        queue = fake.answers.get(name)
        if not queue:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        addresses = queue.pop(0) if len(queue) > 1 else queue[0]
        return [
            (socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, port, 0, 0))
            if ":" in address
            else (socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))
            for address in addresses
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return fake


def alert() -> AlertMessage:
    return AlertMessage(
        monitor="churn",
        model="models:/churn@champion",
        rule="psi > 0.2",
        severity="warning",
        status="raised",
        segment="",
        window_start="2026-01-01T00:00:00Z",
        window_end="2026-01-01T01:00:00Z",
        message="psi 0.4 on age",
    )


# The host of each URL, in every spelling that means a forbidden place, and what the refusal must say.
TRICKS = [
    ("127.0.0.1", "127.0.0.1: it is a loopback address"),
    ("localhost", "localhost: it resolves to 127.0.0.1, a loopback address"),
    ("app.localhost", "a loopback address"),
    ("0.0.0.0", "an unspecified address"),
    ("[::1]", "::1: it is a loopback address"),
    ("[::]", "an unspecified address"),
    ("[::ffff:127.0.0.1]", "the IPv4-mapped form of 127.0.0.1, a loopback address"),
    ("[::ffff:7f00:1]", "the IPv4-mapped form of 127.0.0.1, a loopback address"),
    ("[::ffff:169.254.169.254]", "the IPv4-mapped form of 169.254.169.254, a cloud metadata address"),
    ("[::127.0.0.1]", "the IPv4-compatible form of 127.0.0.1"),
    ("2130706433", "127.0.0.1: it is a loopback address"),
    ("0x7f000001", "127.0.0.1: it is a loopback address"),
    ("0177.0.0.1", "127.0.0.1: it is a loopback address"),
    ("0x7f.1", "127.0.0.1: it is a loopback address"),
    ("127.1", "127.0.0.1: it is a loopback address"),
    ("127.0.0.1.", "127.0.0.1: it is a loopback address"),
    ("\uff11\uff12\uff17.0.0.1", "127.0.0.1: it is a loopback address"),
    ("10.0.0.1", "a private address"),
    ("172.16.0.1", "a private address"),
    ("192.168.1.1", "a private address"),
    ("169.254.169.254", "a cloud metadata address"),
    ("169.254.10.10", "a link-local address"),
    ("metadata.google.internal", "it names the cloud metadata service"),
    ("[fd00:ec2::254]", "a cloud metadata address"),
    ("[fd12:3456::1]", "a private (unique local) address"),
    ("[fe80::1]", "a link-local address"),
    ("100.64.0.1", "a shared (carrier-grade NAT) address"),
    ("224.0.0.1", "a multicast address"),
    ("240.0.0.1", "a reserved address"),
    ("[2002:7f00:1::]", "the 6to4 form of 127.0.0.1"),
    ("[2002:a00:1::]", "the 6to4 form of 10.0.0.1, a private address"),
    ("[64:ff9b::a9fe:a9fe]", "the NAT64 form of 169.254.169.254, a cloud metadata address"),
    ("[2001:0:4136:e378:8000:63bf:f5ff:fffe]", "the Teredo form of 10.0.0.1, a private address"),
]


@pytest.mark.parametrize(("host", "said"), TRICKS, ids=[host for host, _ in TRICKS])
def test_every_spelling_of_a_forbidden_address_is_refused_and_nothing_connects(
    receiver: Receiver, host: str, said: str
) -> None:
    url = f"http://{host}:{receiver.port}/hook?token=secret"
    with pytest.raises(OutboundRefused) as refused:
        check_url(url, NOBODY)
    assert said in refused.value.message and SETTING in refused.value.message
    assert "secret" not in refused.value.message  # the path and query may be credentials: never repeated
    # httpx refuses some spellings itself (0177.0.0.1, full-width digits); the others reach the transport's check.
    with safe_client(NOBODY, timeout=5) as client, pytest.raises((OutboundRefused, httpx.InvalidURL)) as sent:
        client.get(url)
    assert isinstance(sent.value, httpx.InvalidURL) or SETTING in str(sent.value)
    assert receiver.seen == []


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("file:///etc/passwd", "http:// or https://"),
        ("gopher://127.0.0.1:70/_HELO", "http:// or https://"),
        ("dict://127.0.0.1:11211/stats", "http:// or https://"),
        ("ftp://example.com/x", "http:// or https://"),
        ("http://user@127.0.0.1/", "user name or password"),
        ("http://good.example.com@127.0.0.1/", "user name or password"),
        ("http://user:pw@example.com/", "user name or password"),
        ("http://127.0.0.1\\@example.com/", "backslashes"),
        ("http://exa mple.com/", "spaces"),
        ("http://1.2.3.09/", "not a host name or an address"),
        ("http://256.0.0.1/", "not a host name or an address"),
        ("http://1.2.3.4.5/", "not a host name or an address"),
        ("http://%31%32%37.0.0.1/", "not a host name or an address"),
        ("http:///path", "with a host"),
        ("http://example.com:99999/", "port"),
    ],
)
def test_urls_that_parsers_read_two_ways_are_refused(url: str, said: str) -> None:
    with pytest.raises(InvalidArgument, match=re.escape(said)) as refused:
        check_url(url, OutboundPolicy.parse("0.0.0.0/0, ::/0"))  # even with every address allowed
    assert refused.value.field == "url"


def test_public_destinations_pass_the_checks_that_need_no_dns() -> None:
    for url in ("https://hooks.slack.com/services/T0/B0/X", "http://93.184.216.34:8080/", "http://[2606:4700::1]/"):
        check_url(url, NOBODY)
    check_url("http://[::ffff:93.184.216.34]/", NOBODY)  # the mapped form of a public address is that address
    check_url("http://[64:ff9b::5db8:d822]/", NOBODY)  # NAT64 to a public address


def test_a_name_is_judged_by_every_address_it_resolves_to(receiver: Receiver, dns: FakeDns) -> None:
    dns.answers["mixed.example"] = [["93.184.216.34", "127.0.0.1"]]
    dns.answers["internal.example"] = [["10.1.2.3"]]
    dns.answers["v6.example"] = [["::ffff:127.0.0.1"]]
    with safe_client(NOBODY, timeout=5) as client:
        for name, said in [
            ("mixed.example", "mixed.example: it resolves to 127.0.0.1, a loopback address"),
            ("internal.example", "internal.example: it resolves to 10.1.2.3, a private address"),
            ("v6.example", "the IPv4-mapped form of 127.0.0.1"),
        ]:
            with pytest.raises(OutboundRefused) as refused:
                client.get(f"http://{name}:{receiver.port}/")
            assert said in refused.value.message
    assert receiver.seen == []


def test_the_allow_list_admits_each_of_its_forms(receiver: Receiver, dns: FakeDns) -> None:
    dns.answers["build.example"] = [["127.0.0.1"]]
    port = receiver.port
    admitted = [
        ("127.0.0.1", f"http://127.0.0.1:{port}/"),
        ("127.0.0.0/8", f"http://127.0.0.1:{port}/"),
        ("[::1], 127.1", f"http://127.0.0.1:{port}/"),
        ("127.0.0.1", f"http://2130706433:{port}/"),  # a numeric spelling reaches the address it means
        ("127.0.0.1", f"http://[::ffff:127.0.0.1]:{port}/"),
        ("build.example", f"http://build.example:{port}/"),
        ("BUILD.example.", f"http://build.example:{port}/"),
        ("10.0.0.0/8, 127.0.0.1", f"http://build.example:{port}/"),
    ]
    for allowed, url in admitted:
        policy = OutboundPolicy.parse(allowed)
        check_url(url, policy)
        with safe_client(policy, timeout=5) as client:
            assert client.get(url).status_code == 200, (allowed, url)
    assert len(receiver.seen) == len(admitted)
    # The Host header keeps the name (or spelling) of the URL; only the connection uses the checked address.
    assert receiver.seen[3].host == f"2130706433:{port}"
    assert receiver.seen[5].host == f"build.example:{port}"


def test_the_allow_list_is_exact() -> None:
    policy = OutboundPolicy.parse("10.0.0.0/24, build.example")
    with pytest.raises(OutboundRefused):
        check_url("http://10.0.1.1/", policy)
    with pytest.raises(OutboundRefused):
        check_url("http://[::ffff:10.0.1.1]/", policy)
    assert not policy.allows_name("other.build.example")


def test_metadata_addresses_need_their_own_entry() -> None:
    url = "http://169.254.169.254/latest/meta-data/"
    for broad in ("169.254.0.0/16", "0.0.0.0/0", "metadata.google.internal, 169.254.169.0/24"):
        with pytest.raises(OutboundRefused, match="cloud metadata"):
            check_url(url, OutboundPolicy.parse(broad))
    check_url(url, OutboundPolicy.parse("169.254.169.254"))
    check_url("http://169.254.10.10/", OutboundPolicy.parse("169.254.0.0/16"))  # the rest of the range: yes


@pytest.mark.parametrize("entry", ["host:80", "10.0.0.0/33", "http://x/", "a b", "1.2.3.09", "-bad-.example"])
def test_a_bad_allow_list_entry_names_the_setting(entry: str) -> None:
    with pytest.raises(InvalidArgument, match=re.escape(f"{SETTING}: '{entry}' is not a host name, an address or a")):
        OutboundPolicy.parse(f"127.0.0.1, {entry}")


def test_a_redirect_is_checked_like_the_first_request() -> None:
    """The first receiver is allowed and redirects to a second one (127.0.0.2, loopback too, not allowed)."""
    with serving(Receiver("127.0.0.2")) as hidden:
        target = f"http://127.0.0.2:{hidden.port}/admin"
        with serving(Receiver(location=target)) as first:
            url = f"http://127.0.0.1:{first.port}/"
            # Followed (the MLflow import follows redirects): the hop is refused.
            with (
                safe_client(LOOPBACK, timeout=5, follow_redirects=True) as client,
                pytest.raises(OutboundRefused, match=re.escape("127.0.0.2: it is a loopback address")),
            ):
                client.get(url)
            http = MlflowHttp(url, LOOPBACK)
            try:
                with pytest.raises(OutboundRefused, match=SETTING) as refused:
                    http.call("POST", "/api/2.0/mlflow/experiments/search", body={"max_results": 1})
                assert refused.value.field == "from"
            finally:
                http.close()
            # Not followed (alert channels): the redirect is a failed delivery.
            hook = build_channel({"type": "webhook", "url": url, "secret": "k"}, LOOPBACK)
            delivery = hook.send(alert())
            assert not delivery.ok and delivery.detail.startswith(f"HTTP 302 from 127.0.0.1:{first.port}")
            assert len(first.seen) == 3
        # Allowing both lets the redirect through.
        with serving(Receiver(location=target)) as first:
            both = OutboundPolicy.parse("127.0.0.1, 127.0.0.2")
            with safe_client(both, timeout=5, follow_redirects=True) as client:
                assert client.get(f"http://127.0.0.1:{first.port}/").status_code == 200
        assert [seen.path for seen in hidden.seen] == ["/admin"]


def test_a_redirect_to_the_metadata_service_is_refused() -> None:
    with (
        serving(Receiver(location="http://169.254.169.254/latest/meta-data/iam/")) as first,
        safe_client(LOOPBACK, timeout=5, follow_redirects=True) as client,
        pytest.raises(OutboundRefused, match=re.escape("169.254.169.254: it is a cloud metadata address")),
    ):
        client.get(f"http://127.0.0.1:{first.port}/")


def test_the_connection_goes_to_the_checked_address(dns: FakeDns) -> None:
    """DNS rebinding: the name answers an allowed address when checked and another one afterwards. The request
    still reaches the first, and a later request is judged on the new answer."""
    with serving(Receiver()) as allowed, serving(Receiver("127.0.0.2", allowed.port)) as hidden:
        dns.answers["rebind.example"] = [["127.0.0.1"], ["127.0.0.2"]]
        url = f"http://rebind.example:{allowed.port}/hook"
        with safe_client(LOOPBACK, timeout=5) as client:
            assert client.get(url).status_code == 200
            assert dns.lookups == ["rebind.example"]  # once: the connection used the address, not the name
            with pytest.raises(OutboundRefused, match=re.escape("rebind.example: it resolves to 127.0.0.2")):
                client.get(url)
        assert [seen.host for seen in allowed.seen] == [f"rebind.example:{allowed.port}"]
        assert hidden.seen == []


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for the name pinned.example only (cert file, key file)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "pinned.example")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("pinned.example")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("outbound-tls")
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return folder / "cert.pem", folder / "key.pem"


def test_tls_still_names_the_host(dns: FakeDns, tls_files: tuple[Path, Path]) -> None:
    """Connected to the checked address, the client still sends the name (SNI) and verifies the certificate
    against it: the certificate here is valid for pinned.example only, not for 127.0.0.1."""
    cert, key = tls_files
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(cert, key)
    names: list[str | None] = []

    def sni(_socket: Any, name: str | None, _context: Any) -> None:
        names.append(name)

    server_context.sni_callback = sni
    tls = Receiver()
    tls.socket = server_context.wrap_socket(tls.socket, server_side=True)
    with serving(tls) as server:
        dns.answers["pinned.example"] = [["127.0.0.1"]]
        trusted = ssl.create_default_context(cafile=str(cert))
        with safe_client(OutboundPolicy.parse("pinned.example, 127.0.0.1"), timeout=5, verify=trusted) as client:
            assert client.get(f"https://pinned.example:{server.port}/").status_code == 200
            with pytest.raises(httpx.ConnectError, match=r"CERTIFICATE_VERIFY_FAILED|match"):
                client.get(f"https://127.0.0.1:{server.port}/")  # allowed, but not the certificate's name
    assert names[0] == "pinned.example"
    assert [seen.host for seen in server.seen] == [f"pinned.example:{server.port}"]


def test_an_alert_to_a_forbidden_place_is_a_failed_delivery(receiver: Receiver, dns: FakeDns) -> None:
    dns.answers["intranet.example"] = [["192.168.10.20"]]
    hooks = [
        {"type": "webhook", "url": f"http://127.0.0.1:{receiver.port}/hook", "secret": "k"},
        {"type": "slack", "url": f"http://127.0.0.1:{receiver.port}/services/T0/B0/SECRET-TOKEN"},
        {"type": "webhook", "url": f"http://intranet.example:{receiver.port}/hook", "secret": "k"},
    ]
    for config in hooks:
        delivery = build_channel(config).send(alert())  # the policy as the environment sets it: nothing allowed
        assert not delivery.ok
        assert delivery.detail.startswith("refusing to connect to ") and SETTING in delivery.detail
        assert "SECRET-TOKEN" not in delivery.detail
    assert "192.168.10.20, a private address" in delivery.detail
    assert receiver.seen == []
    with socket.create_server(("127.0.0.1", 0)) as smtp:
        smtp.setblocking(False)
        port = smtp.getsockname()[1]
        mail = build_channel({"type": "email", "host": "127.0.0.1", "port": port, "from": "a@x.io", "to": ["b@x.io"]})
        delivery = mail.send(alert())
        assert not delivery.ok and "127.0.0.1: it is a loopback address" in delivery.detail
        with pytest.raises(BlockingIOError):
            smtp.accept()  # nobody connected
    dns.answers["smtp.example"] = [["10.9.8.7"]]
    with pytest.raises(OutboundRefused, match=re.escape("smtp.example: it resolves to 10.9.8.7")):
        check_smtp_host(NOBODY, "smtp.example", 587)


def test_the_allow_list_is_read_from_the_environment(receiver: Receiver, monkeypatch: pytest.MonkeyPatch) -> None:
    config = {"type": "webhook", "url": f"http://127.0.0.1:{receiver.port}/hook", "secret": "k"}
    monkeypatch.setenv(SETTING, "127.0.0.0/8")
    assert build_channel(config).send(alert()).ok
    monkeypatch.setenv(SETTING, "10.0.0.0/8")
    assert not build_channel(config).send(alert()).ok
    assert len(receiver.seen) == 1


def test_a_new_monitor_channel_is_refused_when_its_destination_is_known_to_be_forbidden() -> None:
    for config, where in [
        ({"type": "webhook", "url": "http://169.254.169.254/latest/meta-data/", "secret": "k"}, "url"),
        ({"type": "slack", "url": "http://0x7f000001:8080/services/X"}, "url"),
        ({"type": "email", "host": "[::1]", "from": "a@x.io", "to": ["b@x.io"]}, "host"),
        ({"type": "email", "host": "localhost", "from": "a@x.io", "to": ["b@x.io"]}, "host"),
    ]:
        with pytest.raises(OutboundRefused, match=SETTING) as refused:
            MonitorSpec(model="churn@champion", channels=[config]).checked()
        assert refused.value.field == where
    # Names are resolved at send time, not when the monitor is saved (the DNS of then may not be the DNS of now).
    check_destination({"type": "webhook", "url": "https://hooks.internal.example/x", "secret": "k"}, NOBODY)
    check_destination({"type": "email", "host": "127.0.0.1"}, LOOPBACK)


def test_an_mlflow_import_from_a_loopback_server_needs_the_allow_list(tmp_path: Path) -> None:
    with pytest.raises(OutboundRefused, match=SETTING) as refused:
        open_source("http://127.0.0.1:5000")
    assert refused.value.field == "from"
    with pytest.raises(OutboundRefused) as refused:
        open_source(str(tmp_path), artifacts_from="http://[::ffff:10.0.0.1]:5000")
    assert refused.value.field == "artifacts-from"
    home = tmp_path / "home"
    result = CliRunner().invoke(
        app, ["import", "mlflow", "--from", "http://2130706433:5000", "--home", str(home)], env={"COLUMNS": "250"}
    )
    assert result.exit_code == 1
    assert "127.0.0.1: it is a loopback address" in result.output and SETTING in result.output
    assert "Traceback" not in result.output
    assert not home.exists()
