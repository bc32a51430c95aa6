"""Cross-site requests on the real server: every state-changing route refuses a web session's request without its
CSRF token (a bearer token needs none); requests naming an unknown host (DNS rebinding) or coming from another
origin are refused before anything runs; a cross-site form post changes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from team_fixtures import (
    API,
    MUTATING,
    _clean_failure_counts,  # noqa: F401 (an autouse fixture)
    app_routes,
    concrete,
    error_of,
    login,
    module_team,
    unique,
)

from ridgeline.server.auth import SESSION_COOKIE
from support.accounts import Team
from support.servers import running_server


@pytest.fixture(scope="module")
def team(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Team]:
    with module_team(request, tmp_path_factory, "sqlite") as team:
        yield team


@pytest.fixture(scope="module")
def changing_routes(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, str]]:
    """(method, template) of every state-changing route that needs a signed-in caller."""
    routes = app_routes(tmp_path_factory.mktemp("routes"))
    changing = [(method, template) for method, template, kind in routes if method in MUTATING and kind != "public"]
    assert len(changing) > 100 and ("POST", f"{API}/projects") in changing
    return changing


def _port(team: Team) -> int:
    return int(team.url.rsplit(":", 1)[1])


def _project_exists(team: Team, name: str) -> bool:
    answer = team.client("admin").get(f"{API}/projects/by-name", params={"name": name})
    assert answer.status_code in (200, 404), answer.text
    return answer.status_code == 200


def _is_csrf_refusal(answer: httpx.Response) -> bool:
    if answer.status_code != 403:
        return False
    error = error_of(answer)
    return error.get("field") == "csrf" or "CSRF" in error["message"]


# CSRF


def test_every_changing_route_needs_the_csrf_token_of_the_session(
    team: Team, changing_routes: list[tuple[str, str]]
) -> None:
    session = login(team, "admin")
    right = session.headers.pop("X-CSRF-Token")
    problems = []
    for method, template in changing_routes:
        path = concrete(template)
        for label, headers in (("no token", {}), ("a wrong token", {"X-CSRF-Token": right[:-4] + "AAAA"})):
            answer = session.request(method, path, json={}, headers=headers)
            if not _is_csrf_refusal(answer):
                problems.append(f"{method} {template} with {label}: {answer.status_code} {answer.text[:200]}")
            elif path.startswith(API) and error_of(answer).get("field") != "csrf":
                problems.append(f"{method} {template}: the refusal names no field csrf: {answer.text[:200]}")
        answer = session.request(method, path, json={}, headers={"X-CSRF-Token": right})
        if answer.status_code == 403 or answer.status_code >= 500:
            problems.append(f"{method} {template} with the right token: {answer.status_code} {answer.text[:200]}")
    assert not problems, "\n".join(problems)


def test_a_session_of_another_account_has_another_csrf_token(team: Team) -> None:
    editor, other = login(team, "editor"), login(team, "maintainer")
    editor.headers["X-CSRF-Token"] = other.headers["X-CSRF-Token"]
    refused = editor.post(f"{API}/projects", json={"name": unique("crossed")})
    assert refused.status_code == 403 and error_of(refused)["field"] == "csrf"
    # Reads need no token; the session's own token lets it write.
    assert editor.get(f"{API}/projects").status_code == 200
    token = editor.get(f"{API}/session").json()["csrf_token"]
    name = unique("own-token")
    assert editor.post(f"{API}/projects", json={"name": name}, headers={"X-CSRF-Token": token}).status_code == 201


def test_a_bearer_token_needs_no_csrf_token(team: Team, changing_routes: list[tuple[str, str]]) -> None:
    admin = team.client("admin")
    name = unique("bearer")
    assert admin.post(f"{API}/projects", json={"name": name}).status_code == 201
    # A token wins over a cookie sent beside it, so a session cookie cannot make a token's request need one.
    cookie_holder = login(team, "viewer")
    with_cookie = team.client("editor")
    with_cookie.cookies.set(SESSION_COOKIE, cookie_holder.cookies[SESSION_COOKIE])
    assert with_cookie.post(f"{API}/projects", json={"name": unique("both")}).status_code == 201
    problems = []
    for method, template in changing_routes:
        answer = admin.request(method, concrete(template), json={})
        if answer.status_code == 403 or answer.status_code >= 500:
            problems.append(f"{method} {template}: {answer.status_code} {answer.text[:200]}")
    assert not problems, "\n".join(problems)


def test_refusals_never_ask_the_browser_for_basic_credentials(team: Team) -> None:
    """A browser that was once given Basic credentials sends them with every request, cross-site ones too: the
    server never asks for them, so no browser keeps any."""
    for answer in (
        httpx.get(f"{team.url}{API}/projects"),
        httpx.get(f"{team.url}{API}/projects", auth=("editor", "wrong password 123")),
        httpx.get(f"{team.url}/api/2.0/mlflow/experiments/search"),
    ):
        assert answer.status_code == 401
        assert "basic" not in answer.headers.get("www-authenticate", "").lower()


# Host


def test_an_unknown_host_name_is_refused(team: Team) -> None:
    admin = team.client("admin")
    for path in ("/healthz", f"{API}/projects"):
        for host in ("evil.example", f"evil.example:{_port(team)}", "127.0.0.1.evil.example"):
            answer = admin.get(path, headers={"Host": host})
            assert answer.status_code == 400, answer.text
            error = error_of(answer)
            assert error["field"] == "Host" and "RIDGELINE_ALLOWED_HOSTS" in error["message"]
    name = unique("rebound")
    assert admin.post(f"{API}/projects", json={"name": name}, headers={"Host": "evil.example"}).status_code == 400
    assert not _project_exists(team, name)


def test_loopback_names_are_the_servers_own(team: Team) -> None:
    admin = team.client("admin")
    port = _port(team)
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"LOCALHOST:{port}", "localhost"):
        assert admin.get(f"{API}/account", headers={"Host": host}).status_code == 200, host


def test_allowed_hosts_admits_the_names_configured(tmp_path: Path) -> None:
    with running_server(
        tmp_path, f"sqlite:///{tmp_path / 'a.db'}", allowed_hosts="ml.example.com, Other.Example"
    ) as url:
        port = url.rsplit(":", 1)[1]
        for host in ("ml.example.com", f"ml.example.com:{port}", "other.example"):
            assert httpx.get(f"{url}/healthz", headers={"Host": host}).status_code == 200, host
        refused = httpx.get(f"{url}/healthz", headers={"Host": "evil.example"})
        assert refused.status_code == 400 and "RIDGELINE_ALLOWED_HOSTS" in refused.text
        # A page the configured name served may post to it.
        origin = {"Host": f"ml.example.com:{port}", "Origin": f"http://ml.example.com:{port}"}
        assert httpx.post(f"{url}{API}/projects", json={"name": "p"}, headers=origin).status_code == 201
    with running_server(tmp_path, f"sqlite:///{tmp_path / 'b.db'}", allowed_hosts="*") as url:
        for host in ("evil.example", "anything.at.all:81"):
            assert httpx.get(f"{url}/healthz", headers={"Host": host}).status_code == 200, host


# Origin


def test_requests_from_another_origin_are_refused(team: Team) -> None:
    admin = team.client("admin")
    port = _port(team)
    foreign = ["http://evil.example", "null", f"http://evil.example:{port}", f"http://127.0.0.1:{port + 1}", "file://"]
    for origin in foreign:
        name = unique("cross-site")
        posted = admin.post(f"{API}/projects", json={"name": name}, headers={"Origin": origin})
        assert posted.status_code == 403, f"{origin}: {posted.text}"
        assert error_of(posted)["field"] == "Origin"
        assert not _project_exists(team, name)
        read = admin.get(f"{API}/projects", headers={"Origin": origin})
        assert read.status_code == 403, f"{origin}: {read.text}"
    # The server's own origin, under each of its names.
    for host in (f"127.0.0.1:{port}", f"localhost:{port}"):
        headers = {"Host": host, "Origin": f"http://{host}"}
        assert admin.get(f"{API}/projects", headers=headers).status_code == 200
        assert admin.post(f"{API}/projects", json={"name": unique("same-site")}, headers=headers).status_code == 201


@pytest.mark.parametrize(
    "content_type", ["application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "text/plain"]
)
def test_a_cross_site_form_post_changes_nothing(team: Team, content_type: str) -> None:
    """The three content types a page of another site may post without asking (no CORS preflight)."""
    session = login(team, "editor")
    session.headers.pop("X-CSRF-Token")
    name = unique("form")
    body = f"name={name}" if "urlencoded" in content_type else f'{{"name": "{name}"}}'
    if content_type.startswith("multipart"):
        body = f'--x\r\nContent-Disposition: form-data; name="name"\r\n\r\n{name}\r\n--x--\r\n'
    headers = {"Content-Type": content_type}
    for extra in ({"Origin": "http://evil.example"}, {}):
        answer = session.post(f"{API}/projects", content=body, headers={**headers, **extra})
        assert answer.status_code in (403, 415), answer.text
        mlflow = session.post("/api/2.0/mlflow/experiments/create", content=body, headers={**headers, **extra})
        assert mlflow.status_code in (403, 415), mlflow.text
    assert not _project_exists(team, name)
