"""API tokens and web sessions on the real server (SQLite and PostgreSQL).

Tokens: shown once, stored as a hash only, their last use recorded, refused once expired or revoked or when their
account is disabled; the SDK sends RIDGELINE_TRACKING_TOKEN and, without it, says clearly that it must sign in.
Sessions: the cookie is HttpOnly and SameSite=Lax (Secure over HTTPS), logging out ends the session on the
server, an idle session expires, and a password change ends the account's sessions. MLflow's client with tokens
and passwords is tested in tests/server/test_mlflow_auth.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from http.cookies import SimpleCookie
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from team_fixtures import (
    API,
    _clean_failure_counts,  # noqa: F401 (an autouse fixture)
    error_of,
    login,
    module_team,
    new_user,
    unique,
)

import ridgeline
from ridgeline.config import Settings
from ridgeline.domain.errors import Unauthenticated
from ridgeline.domain.ids import now_ms
from ridgeline.server.app import create_app
from ridgeline.server.auth import SESSION_COOKIE
from ridgeline.services.accounts import AccountService, digest
from ridgeline.store.metadata import MetadataStore
from ridgeline.store.schema import metadata, web_sessions
from support.accounts import PASSWORD, Team
from support.coroutines import run_coroutine


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def team(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Team]:
    with module_team(request, tmp_path_factory, request.param) as team:
        yield team


def _all_values(store: MetadataStore) -> list[str]:
    with store.database.read() as conn:
        return [str(value) for table in metadata.sorted_tables for row in conn.execute(select(table)) for value in row]


def _bearer(team: Team, secret: str) -> httpx.Client:
    client = httpx.Client(base_url=team.url, timeout=30, headers={"Authorization": f"Bearer {secret}"})
    team.clients.append(client)
    return client


def _new_token(session: httpx.Client, **body: object) -> dict[str, object]:
    answer = session.post(f"{API}/account/tokens", json={"name": unique("token"), **body})
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def _set_cookie(response: httpx.Response) -> str:
    (header,) = [value for value in response.headers.get_list("set-cookie") if value.startswith(SESSION_COOKIE)]
    return header


# tokens


def test_a_token_is_shown_once_and_stored_only_as_a_hash(team: Team) -> None:
    name = new_user(team)
    session = login(team, name)
    created = _new_token(session, scope="write", expires_days=30)
    secret = str(created["token"])
    assert secret.startswith("rl_") and len(secret) > 40
    assert created["prefix"] == secret[:10] and created["user"] == name and created["scope"] == "write"
    listed = session.get(f"{API}/account/tokens")
    everywhere = [listed.text, team.client("admin").get(f"{API}/tokens").text]
    everywhere.append(team.client("admin").get(f"{API}/users/{name}").text)
    for text in everywhere:
        assert str(created["id"]) in text
        assert secret not in text and digest(secret) not in text
    assert all("token" not in token for token in listed.json()["tokens"])
    # In the database: the sha256 of the token, never the token itself.
    values = _all_values(team.store)
    assert digest(secret) in values
    assert not any(secret in value for value in values)
    assert _bearer(team, secret).get(f"{API}/account").json()["name"] == name


def test_last_use_is_recorded(team: Team) -> None:
    name = new_user(team, workspace_id=None)
    session = login(team, name)
    created = _new_token(session)
    assert created["last_used_at"] is None
    before = now_ms()
    assert _bearer(team, str(created["token"])).get(f"{API}/account").status_code == 200
    (listed,) = [t for t in session.get(f"{API}/account/tokens").json()["tokens"] if t["id"] == created["id"]]
    assert listed["last_used_at"] is not None and before - 1000 <= listed["last_used_at"] <= now_ms()


def test_expired_revoked_and_disabled_tokens_are_refused(team: Team) -> None:
    name = new_user(team)
    user = team.accounts.get_user(name)
    expired = team.accounts.create_token(user, "old", "write", expires_days=1)
    team.store.accounts.update_token(expired.token.id, expires_at=now_ms() - 1)
    answer = _bearer(team, expired.secret).get(f"{API}/account")
    assert answer.status_code == 401 and "expired" in error_of(answer)["message"]

    session = login(team, name)
    assert session.post(f"{API}/account/tokens", json={"name": "x", "expires_days": 0}).status_code == 400
    assert session.post(f"{API}/account/tokens", json={"name": "x", "expires_days": 5000}).status_code == 400
    never = _new_token(session, expires_days=None)
    assert never["expires_at"] is None
    revoked = _new_token(session)
    holder = _bearer(team, str(revoked["token"]))
    assert holder.get(f"{API}/account").status_code == 200
    # Someone else cannot revoke it (nor learn it exists); its owner can.
    other = team.client("editor").delete(f"{API}/account/tokens/{revoked['id']}")
    assert other.status_code == 404
    assert holder.get(f"{API}/account").status_code == 200
    gone = session.delete(f"{API}/account/tokens/{revoked['id']}")
    assert gone.status_code == 200 and gone.json()["revoked_at"] is not None
    answer = holder.get(f"{API}/account")
    assert answer.status_code == 401 and "revoked" in error_of(answer)["message"]

    # An administrator revokes anyone's token.
    by_admin = team.accounts.create_token(user, "by-admin", "write")
    assert team.client("admin").delete(f"{API}/tokens/{by_admin.token.id}").status_code == 200
    assert _bearer(team, by_admin.secret).get(f"{API}/account").status_code == 401

    # A disabled account: its tokens, password and sessions stop working; enabled again, its tokens work again.
    admin = team.client("admin")
    active = _bearer(team, str(never["token"]))
    session = login(team, name)
    assert admin.patch(f"{API}/users/{name}", json={"disabled": True}).json()["disabled"] is True
    for refused in (
        active.get(f"{API}/account"),
        session.get(f"{API}/account"),
        httpx.get(f"{team.url}{API}/account", auth=(name, PASSWORD)),
        httpx.post(f"{team.url}{API}/session", json={"name": name, "password": PASSWORD}),
    ):
        assert refused.status_code == 401, refused.text
    assert admin.patch(f"{API}/users/{name}", json={"disabled": False}).json()["disabled"] is False
    assert active.get(f"{API}/account").status_code == 200
    assert session.get(f"{API}/account").status_code == 401  # sessions ended for good


def test_a_read_token_only_reads(team: Team) -> None:
    reader = _bearer(team, team.token("editor", "read"))
    assert reader.get(f"{API}/projects").status_code == 200
    refused = reader.post(f"{API}/projects", json={"name": unique("read-only")})
    assert refused.status_code == 403 and "scope" in error_of(refused)["message"]
    writer = _bearer(team, team.token("editor", "write"))
    assert writer.post(f"{API}/projects", json={"name": unique("writer")}).status_code == 201
    # Managing accounts needs a login or an admin-scoped token.
    assert writer.post(f"{API}/account/tokens", json={"name": "more"}).status_code == 403


# the SDK


def test_the_sdk_logs_with_a_token(team: Team, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RIDGELINE_TRACKING_TOKEN", team.token("editor", "write"))
    project = unique("sdk")
    with ridgeline.start_run(project=project, tracking_uri=team.url, config={"lr": 0.1}) as run:
        run.log_metric("acc", 0.5, step=1)
        run.log_metric("acc", 0.75, step=2)
    with ridgeline.Client(tracking_uri=team.url) as client:
        record = client.get_run(run.id)
        assert [found.id for found in client.search_runs(project)] == [run.id]
        assert [point.value for point in client.get_metric_history(run.id, "acc")] == [0.5, 0.75]
    assert record.status == "FINISHED" and record.params == {"lr": "0.1"} and record.metrics == {"acc": 0.75}


def test_the_sdk_without_a_token_says_to_sign_in(team: Team, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("RIDGELINE_TRACKING_TOKEN", raising=False)
    monkeypatch.setenv("RIDGELINE_HOME", str(tmp_path))
    with ridgeline.Client(tracking_uri=team.url) as client, pytest.raises(Unauthenticated, match="sign in"):
        client.search_runs("anything")
    # Starting a run asks the server at once, so the script stops with the reason instead of spooling data that
    # could never be delivered.
    with pytest.raises(Unauthenticated, match="sign in"):
        ridgeline.start_run(project=unique("sdk-refused"), tracking_uri=team.url)
    assert not [path for path in tmp_path.rglob("*") if path.is_file()]
    monkeypatch.setenv("RIDGELINE_TRACKING_TOKEN", "rl_" + "n" * 43)
    with ridgeline.Client(tracking_uri=team.url) as client, pytest.raises(Unauthenticated, match="unknown API token"):
        client.search_runs("anything")


# sessions


def test_the_session_cookie_is_httponly_and_samesite_lax(team: Team) -> None:
    name = new_user(team)
    answer = httpx.post(f"{team.url}{API}/session", json={"name": name, "password": PASSWORD})
    assert answer.status_code == 201
    cookie = SimpleCookie(_set_cookie(answer))[SESSION_COOKIE]
    assert cookie["httponly"] and cookie["samesite"].lower() == "lax" and cookie["path"] == "/"
    assert not cookie["secure"]  # plain http: a Secure cookie would never come back
    # No lifetime of its own: it lasts the browser session, and the server ends a session idle for 12 hours.
    assert not cookie["max-age"] and not cookie["expires"]
    assert cookie.value not in answer.text and answer.json()["csrf_token"] not in _set_cookie(answer)
    # Behind a TLS-terminating proxy on this host (uvicorn trusts X-Forwarded-Proto from 127.0.0.1 by default).
    proxied = httpx.post(
        f"{team.url}{API}/session", json={"name": name, "password": PASSWORD}, headers={"X-Forwarded-Proto": "https"}
    )
    assert SimpleCookie(_set_cookie(proxied))[SESSION_COOKIE]["secure"]


def test_the_session_cookie_is_secure_over_https(tmp_path: Path) -> None:
    """The app itself, called as over HTTPS: whatever proxy settings uvicorn has, the cookie says Secure."""
    uri = f"sqlite:///{tmp_path / 'meta.db'}"
    app = create_app(Settings.load(home=tmp_path, backend_uri=uri, auth=True))
    try:
        AccountService(app.state.store).create_user("tls", PASSWORD, created_by="test")

        async def log_in() -> httpx.Response:
            transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
            async with httpx.AsyncClient(transport=transport, base_url="https://localhost:5170") as client:
                return await client.post(f"{API}/session", json={"name": "tls", "password": PASSWORD})

        answer = run_coroutine(log_in())
    finally:
        app.state.store.close()
    assert answer.status_code == 201, answer.text
    cookie = SimpleCookie(_set_cookie(answer))[SESSION_COOKIE]
    assert cookie["secure"] and cookie["httponly"] and cookie["samesite"].lower() == "lax"


def test_logging_out_ends_the_session_on_the_server(team: Team) -> None:
    name = new_user(team)
    session = login(team, name)
    secret = session.cookies[SESSION_COOKIE]
    other = login(team, name)
    assert session.get(f"{API}/session").json()["signed_in"] is True
    out = session.delete(f"{API}/session")
    assert out.status_code == 204
    deleted = SimpleCookie(_set_cookie(out))[SESSION_COOKIE]
    assert deleted.value in ("", '""') and int(deleted["max-age"] or 0) <= 0
    with team.store.database.read() as conn:
        assert conn.execute(select(web_sessions).where(web_sessions.c.id_hash == digest(secret))).first() is None
    # The old cookie, replayed, is worth nothing; the account's other session goes on.
    replayed = httpx.get(f"{team.url}{API}/account", cookies={SESSION_COOKIE: secret})
    assert replayed.status_code == 401, replayed.text
    assert httpx.get(f"{team.url}{API}/session", cookies={SESSION_COOKIE: secret}).json()["signed_in"] is False
    assert other.get(f"{API}/account").status_code == 200


def test_an_idle_session_expires(team: Team) -> None:
    name = new_user(team)
    session = login(team, name)
    assert session.get(f"{API}/account").status_code == 200
    secret = session.cookies[SESSION_COOKIE]
    # Used 11 hours ago: still valid (12 hours without use end it), and using it now counts as use.
    team.store.accounts.touch_session(digest(secret), now_ms() - 11 * 3_600_000)
    assert session.get(f"{API}/account").status_code == 200
    team.store.accounts.touch_session(digest(secret), now_ms() - 13 * 3_600_000)
    answer = session.get(f"{API}/account")
    assert answer.status_code == 401 and "session has ended" in error_of(answer)["message"]
    assert session.post(f"{API}/projects", json={"name": unique("late")}).status_code == 401


def test_a_password_change_ends_the_sessions_of_the_account(team: Team) -> None:
    name = new_user(team)
    here, elsewhere = login(team, name), login(team, name)
    assert here.headers["X-CSRF-Token"] != elsewhere.headers["X-CSRF-Token"]
    token = _new_token(here)
    wrong = here.post(f"{API}/account/password", json={"current_password": "not it at all", "new_password": "x" * 20})
    assert wrong.status_code == 403 and error_of(wrong)["field"] == "current_password"
    assert elsewhere.get(f"{API}/account").status_code == 200
    new_password = "a new and long passphrase 7731"
    changed = here.post(f"{API}/account/password", json={"current_password": PASSWORD, "new_password": new_password})
    assert changed.status_code == 204, changed.text
    assert elsewhere.get(f"{API}/account").status_code == 401
    assert here.get(f"{API}/account").status_code == 401
    # API tokens are not sessions: they keep working until revoked.
    assert _bearer(team, str(token["token"])).get(f"{API}/account").status_code == 200
    assert httpx.post(f"{team.url}{API}/session", json={"name": name, "password": PASSWORD}).status_code == 401
    assert login(team, name, new_password).get(f"{API}/account").json()["name"] == name
