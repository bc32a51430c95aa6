"""Accounts on the real server: strong passwords only, kept as argon2id hashes; no default account or password (a
fresh server has no user and refuses everything but its public routes); the first admin comes from a one-time
invitation that ``ridgeline server --auth`` prints; listening beyond loopback needs accounts or an explicit waiver;
sign-up is off unless switched on, and a signed-up account joins no workspace."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import select
from team_fixtures import (
    API,
    _clean_failure_counts,  # noqa: F401 (an autouse fixture)
    app_routes,
    concrete,
    error_of,
    module_team,
)

from ridgeline.config import Settings
from ridgeline.domain.addresses import accounts_required, check_server_mode
from ridgeline.domain.errors import InvalidArgument
from ridgeline.services.accounts import AccountService
from ridgeline.store.metadata import MetadataStore
from ridgeline.store.schema import metadata, users
from ridgeline.store.scope import DEFAULT_WORKSPACE_ID
from support.accounts import PASSWORD, Team
from support.servers import free_port, running_server

RIDGELINE = str(Path(sys.executable).parent / "ridgeline")
WEAK_PASSWORDS = {
    "empty": "",
    "short": "k7#pQ2!x",
    "common": "password1234",
    "common, other case": "Administrator1",
    "few characters": "abababababababab",
    "contains the name": "xx-weakling-2931-yy",
}


@pytest.fixture(scope="module")
def team(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Team]:
    with module_team(request, tmp_path_factory, "sqlite") as team:
        yield team


@pytest.fixture(scope="module")
def fresh_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A server with accounts on that nobody has set up yet: its URL and database."""
    home = tmp_path_factory.mktemp("fresh-home")
    uri = f"sqlite:///{home / 'meta.db'}"
    with running_server(home, uri, auth=True) as url:
        yield url, uri


def _all_values(store: MetadataStore) -> list[str]:
    """Every value of every row of every table, as text."""
    with store.database.read() as conn:
        return [str(value) for table in metadata.sorted_tables for row in conn.execute(select(table)) for value in row]


# passwords


@pytest.mark.parametrize("password", WEAK_PASSWORDS.values(), ids=WEAK_PASSWORDS.keys())
def test_weak_passwords_are_refused_and_nothing_is_created(team: Team, password: str) -> None:
    admin = team.client("admin")
    answer = admin.post(f"{API}/users", json={"name": "weakling", "password": password})
    assert answer.status_code == 400, answer.text
    assert error_of(answer)["field"] == "password", answer.text
    assert admin.get(f"{API}/users/weakling").status_code == 404
    assert "weakling" not in {user["name"] for user in admin.get(f"{API}/users").json()["users"]}

    # The same rule when someone accepts an invitation: refused, and the invitation is still unused.
    invitation = admin.post(f"{API}/invitations", json={"workspace": "default", "role": "viewer"}).json()
    accepted = team.client(None).post(
        f"{API}/invitations/accept", json={"token": invitation["token"], "name": "weakling", "password": password}
    )
    assert accepted.status_code == 400 and error_of(accepted)["field"] == "password", accepted.text
    assert admin.get(f"{API}/users/weakling").status_code == 404
    assert team.client(None).get(f"{API}/invitations/{invitation['token']}").status_code == 200
    assert admin.delete(f"{API}/invitations/{invitation['id']}").status_code == 204


def test_a_password_change_to_a_weak_password_is_refused(team: Team) -> None:
    name = "changer"
    team.accounts.create_user(name, PASSWORD, created_by="test")
    session = team.browser_session(name)
    for weak in WEAK_PASSWORDS.values():
        answer = session.post(
            f"{API}/account/password",
            json={"current_password": PASSWORD, "new_password": weak.replace("weakling", name)},
        )
        assert answer.status_code == 400 and "password" in error_of(answer)["field"], answer.text
    # Still the old password, and the session still works.
    assert session.get(f"{API}/account").status_code == 200
    assert team.accounts.check_password(name, PASSWORD).name == name


def test_passwords_are_stored_as_argon2id_hashes_only(team: Team) -> None:
    secret = "Tr0ub4dor & a much longer tail 8841"
    created = team.client("admin").post(f"{API}/users", json={"name": "hashed", "password": secret})
    assert created.status_code == 201, created.text
    assert "password" not in created.text and secret not in created.text
    with team.store.database.read() as conn:
        stored = conn.execute(select(users.c.password_hash).where(users.c.name == "hashed")).scalar_one()
    assert stored.startswith("$argon2id$")
    assert secret not in _all_values(team.store)
    # Service accounts have no password at all.
    service = team.client("admin").post(f"{API}/users", json={"name": "ci-bot", "kind": "service"})
    assert service.status_code == 201, service.text
    with team.store.database.read() as conn:
        assert conn.execute(select(users.c.password_hash).where(users.c.name == "ci-bot")).scalar_one() is None
    refused = team.client(None).post(f"{API}/session", json={"name": "ci-bot", "password": ""})
    assert refused.status_code == 401


# no default account


def test_a_fresh_server_has_no_user_and_refuses_everything_but_public_routes(
    fresh_server: tuple[str, str], tmp_path: Path
) -> None:
    url, uri = fresh_server
    store = MetadataStore(uri)
    try:
        assert AccountService(store).count_users() == 0
    finally:
        store.close()
    routes = app_routes(tmp_path)
    assert any(kind == "public" for _, _, kind in routes)
    checked = 0
    with httpx.Client(base_url=url, timeout=30) as anonymous:
        for method, template, kind in routes:
            if kind == "public":
                continue
            answer = anonymous.request(method, concrete(template), json={} if method != "GET" else None)
            assert answer.status_code == 401, f"{method} {template}: {answer.status_code} {answer.text[:300]}"
            assert error_of(answer)["code"] == "UNAUTHENTICATED"
            checked += 1
        # No built-in account answers to a usual default password.
        for name, password in (("admin", "admin"), ("admin", "password"), ("ridgeline", "ridgeline"), ("root", "")):
            assert anonymous.get(f"{API}/account", auth=(name, password)).status_code == 401
            login = anonymous.post(f"{API}/session", json={"name": name, "password": password})
            assert login.status_code == 401, login.text
        assert anonymous.get(f"{API}/session").json() == {"accounts": True, "signed_in": False}
    assert checked > 100


# the first admin


def test_the_first_admin_invitation_works_once(home: Path, backend_uri: str) -> None:
    with running_server(home, backend_uri, auth=True) as url:
        store = MetadataStore(backend_uri)
        try:
            accounts = AccountService(store)
            assert accounts.count_users() == 0
            secret = accounts.first_admin_invitation()
            # Each start without an account prints a new link; once one is used, the others stop working.
            earlier = accounts.first_admin_invitation()
            assert secret and earlier and secret != earlier
            with httpx.Client(base_url=url, timeout=30) as http:
                offer = http.get(f"{API}/invitations/{secret}")
                assert offer.status_code == 200, offer.text
                assert offer.json()["workspace"] == "default" and offer.json()["system_role"] == "admin"
                body = {"token": secret, "name": "first", "password": PASSWORD}
                accepted = http.post(f"{API}/invitations/accept", json=body)
                assert accepted.status_code == 201, accepted.text
                assert accepted.json()["user"]["system_role"] == "admin"
                # Signed in at once: the session can manage accounts.
                http.headers["X-CSRF-Token"] = accepted.json()["csrf_token"]
                assert http.get(f"{API}/users").status_code == 200
                again = httpx.post(f"{url}{API}/invitations/accept", json={**body, "name": "second"})
                assert again.status_code == 404, again.text
                assert httpx.get(f"{url}{API}/invitations/{secret}").status_code == 404
                late = httpx.post(f"{url}{API}/invitations/accept", json={**body, "token": earlier, "name": "third"})
                assert late.status_code == 404, late.text
            first = accounts.get_user("first")
            assert first.system_role == "admin" and first.default_workspace_id == DEFAULT_WORKSPACE_ID
            roles = {m.workspace_id: m.role for m in store.members.memberships(user_id=first.id)}
            assert roles == {DEFAULT_WORKSPACE_ID: "owner"}
            assert accounts.count_users() == 1
            assert accounts.first_admin_invitation() is None
        finally:
            store.close()


def _wait_for(path: Path, pattern: re.Pattern[str], process: subprocess.Popen[bytes], timeout: float) -> re.Match[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = pattern.search(path.read_text(errors="replace"))
        if found:
            return found
        assert process.poll() is None, f"the server exited: {path.read_text(errors='replace')}"
        time.sleep(0.1)
    raise AssertionError(f"no match for {pattern.pattern} in {path.read_text(errors='replace')}")


def _cli_environment() -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("RIDGELINE_")},
        "RIDGELINE_CAPTURE": "none",
        "COLUMNS": "250",
        "NO_COLOR": "1",
    }


def test_server_auth_prints_a_first_admin_link_that_works(tmp_path: Path) -> None:
    port = free_port()
    stderr = tmp_path / "stderr.txt"
    command = [RIDGELINE, "server", "--auth", "--home", str(tmp_path / "home"), "--port", str(port)]
    with stderr.open("wb") as sink:
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=sink, env=_cli_environment())
    try:
        link = _wait_for(stderr, re.compile(r"(http://\S+/invitation\?token=[\w-]+)"), process, 60).group(1)
        assert "accounts on" in stderr.read_text()
        parts = urlsplit(link)
        assert (parts.hostname, parts.port) == ("127.0.0.1", port)
        token = parse_qs(parts.query)["token"][0]
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline and process.poll() is None, stderr.read_text()
            time.sleep(0.1)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            page = http.get(link, headers={"Accept": "text/html"})
            assert page.status_code == 200, page.text[:500]
            accepted = http.post(
                f"{API}/invitations/accept", json={"token": token, "name": "boss", "password": PASSWORD}
            )
            assert accepted.status_code == 201, accepted.text
            assert accepted.json()["user"]["system_role"] == "admin"
            assert http.get(f"{API}/users").json()["users"][0]["name"] == "boss"
            again = http.post(f"{API}/invitations/accept", json={"token": token, "name": "boss2", "password": PASSWORD})
            assert again.status_code == 404
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_server_on_all_addresses_without_auth_exits_at_once(tmp_path: Path) -> None:
    command = [RIDGELINE, "server", "--host", "0.0.0.0", "--home", str(tmp_path), "--port", str(free_port())]
    done = subprocess.run(command, capture_output=True, env=_cli_environment(), timeout=60)
    assert done.returncode != 0
    message = " ".join(done.stderr.decode(errors="replace").split())
    assert "--auth" in message and "--insecure-no-auth" in message, message
    assert "0.0.0.0" in message


@pytest.mark.parametrize(
    ("host", "auth", "insecure", "accounts"),
    [
        ("127.0.0.1", False, False, False),
        ("localhost", False, False, False),
        ("::1", False, False, False),
        ("127.0.0.1", True, False, True),
        ("0.0.0.0", True, False, True),
        ("0.0.0.0", False, True, False),
        ("192.168.1.20", False, True, False),
        ("0.0.0.0", True, True, True),
    ],
)
def test_which_servers_start_and_whether_with_accounts(
    tmp_path: Path, host: str, auth: bool, insecure: bool, accounts: bool
) -> None:
    settings = Settings.load(home=tmp_path, host=host, auth=auth, insecure_no_auth=insecure)
    check_server_mode(settings)
    assert accounts_required(settings) is accounts


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "example.com"])
def test_beyond_loopback_without_accounts_or_waiver_is_refused(tmp_path: Path, host: str) -> None:
    settings = Settings.load(home=tmp_path, host=host)
    assert accounts_required(settings)
    with pytest.raises(InvalidArgument) as refused:
        check_server_mode(settings)
    assert "--auth" in str(refused.value) and "--insecure-no-auth" in str(refused.value)


# sign-up


def test_signup_is_off_by_default(team: Team) -> None:
    answer = team.client(None).post(f"{API}/signup", json={"name": "newcomer", "password": PASSWORD})
    assert answer.status_code == 403, answer.text
    assert "sign-up is off" in error_of(answer)["message"]
    assert team.client("admin").get(f"{API}/users/newcomer").status_code == 404


def test_signup_when_on_creates_an_account_in_no_workspace(tmp_path: Path) -> None:
    with running_server(tmp_path, f"sqlite:///{tmp_path / 'meta.db'}", auth=True, signup=True) as url:
        with httpx.Client(base_url=url, timeout=30) as http:
            weak = http.post(f"{API}/signup", json={"name": "newcomer", "password": "password1234"})
            assert weak.status_code == 400 and error_of(weak)["field"] == "password"
            answer = http.post(f"{API}/signup", json={"name": "newcomer", "password": PASSWORD})
            assert answer.status_code == 201, answer.text
            assert answer.json()["user"]["system_role"] == "user"
            taken = httpx.post(f"{url}{API}/signup", json={"name": "newcomer", "password": PASSWORD + "!"})
            assert taken.status_code == 409, taken.text
            http.headers["X-CSRF-Token"] = answer.json()["csrf_token"]
            account = http.get(f"{API}/account").json()
            assert account["name"] == "newcomer" and account["workspaces"] == []
            token = http.post(f"{API}/account/tokens", json={"name": "mine", "scope": "write"})
            assert token.status_code == 201, token.text
            secret = token.json()["token"]
        with httpx.Client(base_url=url, timeout=30, headers={"Authorization": f"Bearer {secret}"}) as bearer:
            assert bearer.get(f"{API}/account").status_code == 200
            for method, path, body in (
                ("GET", f"{API}/projects", None),
                ("POST", f"{API}/projects", {"name": "mine"}),
                ("POST", f"{API}/runs", {"project": "mine"}),
                ("GET", f"{API}/models", None),
            ):
                refused = bearer.request(method, path, json=body)
                assert refused.status_code == 403, f"{method} {path}: {refused.text}"
            assert bearer.get(f"{API}/users").status_code == 403
