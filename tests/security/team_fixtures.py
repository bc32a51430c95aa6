"""Helpers of the account tests (test_accounts, test_tokens_sessions, test_csrf_and_origin, test_rate_limit,
test_audit_log): module-scoped real servers with accounts on, a clean slate of failed-attempt counts, and a walk
over the routes of the app.

The failed-attempt limits live in the server process, which is the test process: every request of every test comes
from 127.0.0.1, so without a reset one module's wrong passwords would lock the next one out.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from ridgeline.config import Settings
from ridgeline.server.app import create_app
from ridgeline.server.permissions import RULES, route_templates
from ridgeline.server.rate_limit import reset_all
from support.accounts import PASSWORD, Team, team_server

API = "/api/v1"
MUTATING = ("POST", "PUT", "PATCH", "DELETE")


@pytest.fixture(autouse=True)
def _clean_failure_counts() -> Iterator[None]:
    reset_all()
    yield
    reset_all()


def backend_for(request: pytest.FixtureRequest, folder: Path, backend: str) -> str:
    if backend == "sqlite":
        return f"sqlite:///{folder / 'meta.db'}"
    return str(request.getfixturevalue("postgres_cluster").create_database())


@contextmanager
def module_team(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, backend: str, **settings: Any
) -> Iterator[Team]:
    """``team_server`` on a fresh database of ``backend`` (sqlite or postgresql), for a whole module."""
    home = tmp_path_factory.mktemp("team-home")
    reset_all()
    with team_server(home, backend_for(request, home, backend), **settings) as team:
        yield team


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def new_user(team: Team, name: str | None = None, **options: Any) -> str:
    """A fresh account (password PASSWORD) the test may disable, log out or lock without touching the team's."""
    name = name or unique("user")
    team.accounts.create_user(name, PASSWORD, created_by="test", **options)
    return name


def login(team: Team, name: str, password: str = PASSWORD) -> httpx.Client:
    """A client holding a web session of ``name`` and sending its CSRF token (closed with the team)."""
    client = httpx.Client(base_url=team.url, timeout=30)
    team.clients.append(client)
    answer = client.post(f"{API}/session", json={"name": name, "password": password})
    assert answer.status_code == 201, answer.text
    client.headers["X-CSRF-Token"] = answer.json()["csrf_token"]
    return client


def error_of(response: httpx.Response) -> dict[str, Any]:
    """The error object of a refusal, in either API's shape (native ``error``, or MLflow's ``error_code``)."""
    body = response.json()
    if "error" in body:
        return dict(body["error"])
    return {"code": body["error_code"], "message": body["message"]}


_PARAMETER = re.compile(r"\{([^}:]+)(?::[^}]+)?\}")


def concrete(template: str) -> str:
    """A path for a route template: every parameter a harmless value that names nothing."""
    return _PARAMETER.sub(lambda match: "x" if match.group(1) != "path" else "x/y", template)


def app_routes(home: Path) -> list[tuple[str, str, str]]:
    """(method, path template, rule kind) of every route of an accounts-on app, as the permission table reads them."""
    app = create_app(Settings.load(home=home, auth=True))
    try:
        found = set()
        for (_, method), template in route_templates(app).items():
            rule = RULES.get((method, template))
            found.add((method, template, rule.kind if rule else "none"))
        return sorted(found, key=lambda route: (route[1], route[0]))
    finally:
        app.state.store.close()
