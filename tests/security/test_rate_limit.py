"""Failed-attempt limits on the real server: ten wrong passwords for one account, or thirty failed credentials from
one address, within five minutes, and further attempts are refused with 429 RATE_LIMITED and the time to wait,
even right ones; password guesses through Basic auth and the password-change form count too, a success clears
the account's count, and other accounts and addresses are unaffected.

Every request of the real server comes from 127.0.0.1; requests from another address go to a second app on the
same database through httpx's ASGI transport, which names the client address (the counts live in the process, so
both apps share them). The counts are reset before and after each test.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from team_fixtures import (
    API,
    _clean_failure_counts,  # noqa: F401 (an autouse fixture)
    error_of,
    login,
    new_user,
)

from ridgeline.config import Settings
from ridgeline.server.app import create_app
from ridgeline.server.rate_limit import FailureLimit
from support.accounts import PASSWORD, Team, team_server
from support.coroutines import run_coroutine

WRONG = "this is not the password"
ELSEWHERE = "192.0.2.7"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Team, FastAPI]]:
    """The team's real server, and a second app on its database for requests from another address."""
    home = tmp_path_factory.mktemp("limits-home")
    uri = f"sqlite:///{home / 'meta.db'}"
    with team_server(home, uri) as team:
        app = create_app(Settings.load(home=home, backend_uri=uri, auth=True))
        try:
            yield team, app
        finally:
            app.state.store.close()


@pytest.fixture
def team(world: tuple[Team, FastAPI]) -> Team:
    return world[0]


def from_elsewhere(world: tuple[Team, FastAPI], method: str, path: str, **options: Any) -> httpx.Response:
    """A request to the team's database from another client address."""

    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=world[1], client=(ELSEWHERE, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost:5170") as client:
            return await client.request(method, path, **options)

    return run_coroutine(send())


def _log_in(team: Team, name: str, password: str) -> httpx.Response:
    return team.client(None).post(f"{API}/session", json={"name": name, "password": password})


def _assert_limited(answer: httpx.Response) -> None:
    assert answer.status_code == 429, answer.text
    error = error_of(answer)
    assert error["code"] == "RATE_LIMITED" and "try again in" in error["message"]
    assert 0 < error["details"]["retry_after"] <= 300


def test_ten_wrong_passwords_lock_the_account(world: tuple[Team, FastAPI], team: Team) -> None:
    name = new_user(team)
    token = team.accounts.create_token(team.accounts.get_user(name), "ci", "write").secret
    for _ in range(10):
        assert _log_in(team, name, WRONG).status_code == 401
    # The eleventh attempt is refused unread, the right password included, through every way to give it.
    _assert_limited(_log_in(team, name, PASSWORD))
    _assert_limited(team.client(None).get(f"{API}/account", auth=(name, PASSWORD)))
    _assert_limited(from_elsewhere(world, "POST", f"{API}/session", json={"name": name, "password": PASSWORD}))
    # Its API tokens are no password: automation goes on. So do other accounts, from here and elsewhere.
    assert team.client(None).get(f"{API}/account", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert _log_in(team, "editor", PASSWORD).status_code == 201
    assert (
        from_elsewhere(world, "POST", f"{API}/session", json={"name": "viewer", "password": PASSWORD}).status_code
        == 201
    )


def test_a_success_clears_the_count_of_the_account(team: Team) -> None:
    name = new_user(team)
    for _ in range(9):
        assert _log_in(team, name, WRONG).status_code == 401
    assert _log_in(team, name, PASSWORD).status_code == 201
    for _ in range(9):
        assert _log_in(team, name, WRONG).status_code == 401
    assert _log_in(team, name, PASSWORD).status_code == 201


def test_basic_auth_guesses_count(team: Team) -> None:
    name = new_user(team)
    anonymous = team.client(None)
    for _ in range(10):
        assert anonymous.get(f"{API}/account", auth=(name, WRONG)).status_code == 401
    _assert_limited(anonymous.get(f"{API}/account", auth=(name, PASSWORD)))
    _assert_limited(_log_in(team, name, PASSWORD))


def test_guessing_the_current_password_in_a_session_counts(team: Team) -> None:
    name = new_user(team)
    session = login(team, name)
    for _ in range(10):
        answer = session.post(f"{API}/account/password", json={"current_password": WRONG, "new_password": WRONG * 2})
        assert answer.status_code == 403 and error_of(answer)["field"] == "current_password"
    change = {"current_password": PASSWORD, "new_password": "a new and long passphrase 7731"}
    _assert_limited(session.post(f"{API}/account/password", json=change))
    _assert_limited(_log_in(team, name, PASSWORD))
    assert team.accounts.check_password(name, PASSWORD).name == name  # unchanged


def test_thirty_bad_credentials_from_one_address_block_it(world: tuple[Team, FastAPI], team: Team) -> None:
    anonymous = team.client(None)
    for attempt in range(30):
        secret = f"rl_guess{attempt:02d}" + "x" * 35 if attempt % 3 else f"not-even-a-token-{attempt}"
        answer = anonymous.get(f"{API}/account", headers={"Authorization": f"Bearer {secret}"})
        assert answer.status_code == 401, answer.text
    # This address is refused whatever it sends, a valid token included; another address is not.
    _assert_limited(team.client("editor").get(f"{API}/account"))
    _assert_limited(_log_in(team, "viewer", PASSWORD))
    _assert_limited(anonymous.get(f"{API}/account", auth=("viewer", team.tokens["viewer"])))
    valid = {"Authorization": f"Bearer {team.tokens['editor']}"}
    assert from_elsewhere(world, "GET", f"{API}/account", headers=valid).status_code == 200
    # Public routes and requests without credentials are not credential checks.
    assert anonymous.get("/healthz").status_code == 200
    assert anonymous.get(f"{API}/account").status_code == 401


def test_failures_for_many_accounts_add_up_per_address(team: Team) -> None:
    """Wrong passwords spread over accounts (none of them locked) and bad tokens add up to the address's thirty."""
    names = [new_user(team) for _ in range(4)]
    anonymous = team.client(None)
    for attempt in range(26):
        assert anonymous.get(f"{API}/account", headers={"Authorization": f"Bearer rl_{attempt}"}).status_code == 401
    for name in names:
        assert _log_in(team, name, WRONG).status_code == 401
    _assert_limited(_log_in(team, names[0], PASSWORD))
    _assert_limited(_log_in(team, "editor", PASSWORD))


def test_a_limit_forgets_failures_once_they_leave_its_window() -> None:
    limit = FailureLimit(max_failures=2, window_s=0.2)
    limit.fail("k")
    limit.fail("k")
    with pytest.raises(Exception, match="too many failed attempts"):
        limit.check("k")
    limit.check("other")
    import time

    time.sleep(0.25)
    limit.check("k")
    # Long keys (a user name in a Basic header can be kilobytes long) are counted by their digest, still apart.
    long_a, long_b = "a" * 10_000, "a" * 9_999 + "b"
    limit.fail(long_a, long_a)
    with pytest.raises(Exception, match="too many failed attempts"):
        limit.check(long_a)
    limit.check(long_b)
    assert max(map(len, limit._failures)) < 100
