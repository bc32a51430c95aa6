"""Every route against every role: what the permission table (server/permission_table.py) says is what the server
does.

- The table names every route of the app and nothing else; a route it does not name is refused to everyone.
- Without credentials every route but the public ones answers 401 (or, for a web page, sends to /login).
- Each route is asked by the system administrator, a workspace owner, maintainer, editor and viewer, and an
  outsider who owns another workspace, with real ids in it. The expected outcome comes from the table's rule and
  the role (``role_allows``), so table and test agree by construction: allowed means authorisation let the request
  through (whatever the handler then makes of the small body), denied means 403, or 404 when the object named lies
  in a workspace the caller is no member of. A handful of expectations the issue states are also written out by
  hand, so that a wrong table line cannot pass unnoticed.
- Token scopes cap roles; expired, revoked and disabled accounts' tokens are refused.

One server serves the module. Requests go route by route, reads first, then writes, then deletes (children before
parents), and per route the least privileged caller first: the denied ones ask before an allowed one can delete
what the route names.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI
from fastapi.routing import iter_route_contexts
from hostile import API, MLFLOW, T0, World, seed_world

from ridgeline.config import Settings
from ridgeline.domain.accounts import role_allows
from ridgeline.server.app import create_app
from ridgeline.server.permissions import RULES, Check, Rule, authorize
from ridgeline.store.scope import DEFAULT_WORKSPACE_ID
from support.accounts import PASSWORD, Team, team_server
from support.servers import running_server

Route = tuple[str, str]  # (method, path template), as the table spells it

# Callers, least privileged first. Roles in the default workspace, where every object asked for lives...
ROLE_HERE: dict[str, str | None] = {
    "outsider": None,
    "viewer": "viewer",
    "editor": "editor",
    "maintainer": "maintainer",
    "owner": "owner",
    "admin": "owner",  # a system administrator may do anything anywhere
}
# ... and in the workspace a request acts in when it names none: the outsider's is their own.
ROLE_IN_OWN_WORKSPACE = {**ROLE_HERE, "outsider": "owner"}
CALLERS = tuple(ROLE_HERE)


def app_routes(app: FastAPI) -> set[Route]:
    return {
        (method, str(context.path))
        for context in iter_route_contexts(app.router.routes)
        for method in context.methods or ()
    }


@pytest.fixture(scope="module")
def routes(tmp_path_factory: pytest.TempPathFactory) -> set[Route]:
    return app_routes(create_app(Settings.load(home=tmp_path_factory.mktemp("routes-home"), auth=True)))


def test_the_table_names_every_route(routes: set[Route]) -> None:
    missing = sorted(routes - RULES.keys())
    assert not missing, "routes without a line in server/permission_table.py (nobody may call them):\n" + "\n".join(
        f"{method} {path}" for method, path in missing
    )


def test_every_line_of_the_table_names_a_route(routes: set[Route]) -> None:
    stale = sorted(RULES.keys() - routes)
    assert not stale, "table lines that match no route:\n" + "\n".join(f"{method} {path}" for method, path in stale)


# --- a route the table does not name ----------------------------------------------------------------------------

UNLISTED = "/api/v1/not-in-the-table"


def add_unlisted_routes(app: FastAPI) -> None:
    """Routes behind the one authorisation check, as app.py includes every router, but missing from the table."""
    router = APIRouter(dependencies=[Depends(authorize)])

    @router.get(UNLISTED)
    def read() -> dict[str, str]:
        return {"secret": "should never be seen"}

    @router.post(UNLISTED)
    def write() -> dict[str, str]:
        return {"secret": "should never be seen"}

    app.include_router(router)


def test_a_route_the_table_does_not_name_is_refused_to_everyone(tmp_path: Path) -> None:
    with team_server(tmp_path, f"sqlite:///{tmp_path / 'meta.db'}", customize=add_unlisted_routes) as team:
        for who in (*CALLERS, None):
            client = team.client(who)
            for method in ("GET", "POST"):
                answer = client.request(method, UNLISTED, json={} if method == "POST" else None)
                assert answer.status_code == 403, (who, method, answer.text)
                assert answer.json()["error"]["code"] == "PERMISSION_DENIED"
                assert "declares no permission" in answer.text


def test_a_route_the_table_does_not_name_is_refused_in_local_mode_too(tmp_path: Path) -> None:
    with running_server(tmp_path, f"sqlite:///{tmp_path / 'meta.db'}", customize=add_unlisted_routes) as url:
        for method in ("GET", "POST"):
            answer = httpx.request(method, url + UNLISTED, json={} if method == "POST" else None)
            assert answer.status_code == 403, answer.text
            assert "should never be seen" not in answer.text


# --- the module's server and what its requests name ----------------------------------------------------------------


@dataclass
class Place:
    """The team's server, the seeded world of the default workspace, and a client per caller."""

    team: Team
    world: World
    values: dict[str, Any]
    clients: dict[str | None, httpx.Client] = field(default_factory=dict)


SERVER_ID = "5e" * 16


@pytest.fixture(scope="module")
def place(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Place]:
    home = tmp_path_factory.mktemp("matrix-home")
    with team_server(home, f"sqlite:///{home / 'meta.db'}") as team:
        admin = team.client("admin")
        world = seed_world(admin)
        server = {"model": world.model_name, "uri": "models:/seed-model@champion", "url": "http://10.0.0.5:8080"}
        assert admin.put(f"{API}/model-servers/{SERVER_ID}", json={**server, "started_at": T0}).status_code == 200
        accounts = team.accounts
        # Someone to add, remove and give tokens to, so that no caller's own membership or token is touched.
        spare = accounts.create_user("spare", PASSWORD, created_by="test", workspace_id=DEFAULT_WORKSPACE_ID)
        spare_token = accounts.create_token(spare, "spare", "read").token.id
        values = {
            "project": world.project_id,
            "run": world.run_id,
            "model": world.model_name,
            "monitor": world.monitor_name,
            "dataset": world.dataset_name,
            "dataset_version": world.dataset_version_id,
            "logged_model": world.logged_model_id,
            "artifact": world.artifact_path,
            "server": SERVER_ID,
            "spare_token": spare_token,
        }
        clients: dict[str | None, httpx.Client] = {who: team.client(who) for who in CALLERS}
        clients[None] = team.client(None)
        yield Place(team, world, values, clients)


# --- one request per route -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    """What a route is sent besides its path: strings name seeded objects in braces ({run}, {project}, …)."""

    query: dict[str, Any] = field(default_factory=dict)
    json: Any = None
    content: bytes | None = None


def path_value(name: str, template: str) -> str:
    """A real value for a path parameter (an object of the seeded world, or the spare user)."""
    if name == "name":
        for part, value in (("/models", "{model}"), ("/monitors", "{monitor}"), ("/users", "spare")):
            if template.startswith((f"/api/v1{part}", part)):
                return value
        return "x.js"  # static files and docs assets
    if name == "key":
        return "{dataset}" if template.startswith("/datasets") else "k"
    if name == "path":
        if template.startswith(f"{API}/runs"):
            return "{artifact}"
        if "mlflow-artifacts" in template:
            return "{project}/{run}/artifacts/{artifact}"
        return "not/a/route"
    if name == "token_id" and template.startswith(f"{API}/tokens"):
        return "{spare_token}"
    values = {
        "project_id": "{project}",
        "run_id": "{run}",
        "version_id": "{dataset_version}",
        "model_id": "{logged_model}",
        "server_id": "{server}",
        "workspace": "default",
        "user": "spare",
        "version": "1",
        "alias": "champion",
    }
    return values.get(name, "x")


# Where the table's rules look (body.run_id, query.experiment_id, …): a seeded object each, so that every check runs.
PLACE_VALUES: dict[str, Any] = {
    "run_id": "{run}",
    "run_ids": ["{run}"],
    "runs": "{run}",
    "source_run_id": "{run}",
    "parent_run_id": "{run}",
    "model_id": "{logged_model}",
    "dataset_version_id": "{dataset_version}",
    "source": "runs:/{run}/model",
    "project_id": "{project}",
    "project_ids": ["{project}"],
    "experiment_id": "{project}",
    "experiment_ids": ["{project}"],
    "path": "{project}/{run}/artifacts",
}

METRIC = {"key": "m", "value": 1.0, "timestamp": T0, "step": 0}
# Bodies beyond what the rules look at, where a route needs one to reach its real work. Routes not listed get the
# values their rule reads (and an empty JSON object when they take a body): the handler may refuse that, which is
# fine: authorisation let it through.
CALLS: dict[str, Call] = {
    "POST /api/v1/projects": Call(json={"name": "matrix-project"}),
    "PATCH /api/v1/projects/{project_id}": Call(json={"description": "changed"}),
    "PUT /api/v1/projects/{project_id}/retention": Call(json={"keep_last": 1000}),
    "POST /api/v1/projects/{project_id}/retention/apply": Call(json={"dry_run": True}),
    "POST /api/v1/runs": Call(json={"project_id": "{project}", "name": "matrix-run"}),
    "PATCH /api/v1/runs/{run_id}": Call(json={"notes": "changed"}),
    "POST /api/v1/runs/move": Call(json={"run_ids": ["{run}"], "project_id": "{project}"}),
    "POST /api/v1/runs/{run_id}/batches": Call(
        json={"batch_id": "matrix-batch", "metrics": [{"key": "m", "steps": [0], "values": [1.0], "timestamps": [T0]}]}
    ),
    "PUT /api/v1/runs/{run_id}/artifacts/{path:path}": Call(content=b"x,y\n1,2\n"),
    "POST /api/v1/models": Call(json={"name": "matrix-model"}),
    "POST /api/v1/models/{name}/versions": Call(json={"source": "runs:/{run}/model"}),
    "PUT /api/v1/models/{name}/aliases/{alias}": Call(json={"version": 1}),
    "PUT /api/v1/models/{name}/tags/{key:path}": Call(json={"value": "v"}),
    "PUT /api/v1/model-servers/{server_id}": Call(
        json={"model": "{model}", "uri": "models:/{model}@champion", "url": "http://10.0.0.5:8080", "started_at": T0}
    ),
    "GET /api/v1/datasets/by-name": Call(query={"name": "{dataset}"}),
    "GET /api/v1/projects/by-name": Call(query={"name": "seed-project"}),
    "PUT /api/v1/workspaces/{workspace}/members/{user}": Call(json={"role": "viewer"}),
    "PUT /api/v1/projects/{project_id}/members/{user}": Call(json={"role": "viewer"}),
    "POST /api/v1/workspaces": Call(json={"name": "matrix-workspace"}),
    "POST /api/v1/invitations": Call(json={"workspace": "default", "role": "viewer"}),
    "POST /api/v1/account/tokens": Call(json={"name": "matrix", "scope": "read"}),
    "POST /api/v1/users/{name}/tokens": Call(json={"name": "matrix", "scope": "read"}),
    "POST /api/2.0/mlflow/experiments/create": Call(json={"name": "matrix-experiment"}),
    "POST /api/2.0/mlflow/runs/log-metric": Call(json={"run_id": "{run}", **METRIC}),
    "POST /api/2.0/mlflow/runs/log-batch": Call(json={"run_id": "{run}", "metrics": [METRIC]}),
    "POST /api/2.0/mlflow/registered-models/create": Call(json={"name": "matrix-registered"}),
    "GET /api/2.0/mlflow/registered-models/get": Call(query={"name": "{model}"}),
    "POST /api/2.0/mlflow/model-versions/create": Call(
        json={"name": "{model}", "source": "runs:/{run}/model", "run_id": "{run}"}
    ),
    "GET /api/2.0/mlflow/model-versions/get": Call(query={"name": "{model}", "version": "1"}),
    "PUT /api/2.0/mlflow-artifacts/artifacts/{path:path}": Call(content=b"x"),
}


def fill(value: Any, values: dict[str, Any]) -> Any:
    """``value`` with the seeded objects' names in braces replaced by their ids."""
    if isinstance(value, str):
        return re.sub(r"{(\w+)}", lambda match: str(values[match.group(1)]), value)
    if isinstance(value, list):
        return [fill(item, values) for item in value]
    if isinstance(value, dict):
        return {key: fill(item, values) for key, item in value.items()}
    return value


@dataclass(frozen=True)
class Request:
    method: str
    url: str
    query: dict[str, Any]
    json: Any
    content: bytes | None

    def send(self, client: httpx.Client) -> httpx.Response:
        if self.content is not None:
            return client.request(self.method, self.url, params=self.query, content=self.content)
        return client.request(self.method, self.url, params=self.query, json=self.json)


def request_for(route: Route, values: dict[str, Any]) -> Request:
    method, template = route
    call = CALLS.get(f"{method} {template}", Call())
    query, body = dict(call.query), call.json
    for check in RULES[route].checks:
        if check.place is None or check.place.startswith("path."):
            continue
        source, name = check.place.split("/")[0].split(".", 1)
        listed, _, item = name.partition("[].")
        if source == "query":
            query.setdefault(name, PLACE_VALUES[name])
        elif item:
            body = {listed: [{item: PLACE_VALUES[item]}], **(body or {})}
        else:
            body = {name: PLACE_VALUES[name], **(body or {})}
    if body is None and method in ("POST", "PUT", "PATCH") and call.content is None:
        body = {}
    url = re.sub(r"{(\w+)(?::path)?}", lambda match: path_value(match.group(1), template), template)
    return Request(method, fill(url, values), fill(query, values), fill(body, values), call.content)


# --- what the table promises -----------------------------------------------------------------------------------

ALLOWED = "allowed"


def expected(rule: Rule, who: str | None) -> str | int:
    """ALLOWED, or the status a refusal has, for ``who`` (None: no credentials) asking a route whose every
    object lies in the default workspace. Every caller's token is admin-scoped: roles alone decide."""
    if rule.kind == "public":
        return ALLOWED
    if who is None:
        return 401
    if rule.kind == "signed-in":
        return ALLOWED
    if rule.kind == "admin":
        return ALLOWED if who == "admin" else 403
    for check in rule.checks:
        role = ROLE_IN_OWN_WORKSPACE[who] if check.kind == "workspace" else ROLE_HERE[who]
        if role is None:
            return 404  # a stranger to the object's workspace does not learn that it exists
        if not role_allows(role, check.action):
            return 403
    return ALLOWED


def outcome(answer: httpx.Response) -> str | int:
    status = answer.status_code
    return status if status in (401, 403, 404) else ALLOWED


def agrees(answer: httpx.Response, promised: str | int) -> bool:
    """Whether the answer is what the table promised: a refusal's status exactly, or for ALLOWED any answer of
    the handler's but a refusal or a server error (404 included: the handler's own, for the dummy request)."""
    if promised == ALLOWED:
        return answer.status_code not in (401, 403) and answer.status_code < 500
    return answer.status_code == promised


def _phase(route: Route) -> tuple[int, int, str]:
    """Reads, then writes, then deletes; deleting children before their parents."""
    method, template = route
    deletes = method == "DELETE" or template.endswith(("/delete", "/apply"))
    phase = 0 if method == "GET" else 2 if deletes else 1
    return phase, -template.count("/") if phase == 2 else 0, f"{template} {method}"


ORDERED = sorted(RULES, key=_phase)
IDS = [f"{method} {template}" for method, template in ORDERED]


def _is_page(template: str) -> bool:
    return not template.startswith("/api/")


@pytest.mark.parametrize("route", ORDERED, ids=IDS)
def test_without_credentials(place: Place, route: Route) -> None:
    method, template = route
    answer = request_for(route, place.values).send(place.clients[None])
    if RULES[route].kind == "public":
        assert agrees(answer, ALLOWED), f"{method} {template}: {answer.status_code} {answer.text[:300]}"
        return
    if _is_page(template) and answer.status_code in (303, 307):
        assert answer.headers["location"].startswith("/login"), answer.headers
        return
    assert answer.status_code == 401, f"{method} {template}: {answer.status_code} {answer.text[:300]}"
    if not _is_page(template):
        body = answer.json()
        code = body["error"]["code"] if template.startswith(API) else body["error_code"]  # MLflow's shape
        assert code == "UNAUTHENTICATED", body


@pytest.mark.parametrize("route", ORDERED, ids=IDS)
def test_each_role_gets_what_the_table_gives(place: Place, route: Route) -> None:
    request = request_for(route, place.values)
    rule = RULES[route]
    wrong = []
    for who in CALLERS:
        answer = request.send(place.clients[who])
        if not agrees(answer, expected(rule, who)):
            wrong.append(f"{who}: expected {expected(rule, who)}, got {answer.status_code} {answer.text[:300]}")
    assert not wrong, f"{request.method} {request.url}:\n" + "\n".join(wrong)


def test_every_check_of_the_table_is_exercised() -> None:
    """The requests name a seeded object wherever a rule looks, so no check is skipped for want of a value."""
    values = {name: f"<{name}>" for name in ("project", "run", "model", "monitor", "dataset", "dataset_version")}
    values |= {name: f"<{name}>" for name in ("logged_model", "artifact", "server", "spare_token")}
    for route, rule in RULES.items():
        request = request_for(route, values)
        for check in rule.checks:
            if check.place is not None:
                assert _found(check, request, route), (route, check)


def _found(check: Check, request: Request, route: Route) -> bool:
    source, name = (check.place or "").split("/")[0].split(".", 1)
    if source == "path":
        return f"{{{name}" in route[1]
    found = request.query.get(name) if source == "query" else (request.json or {}).get(name.partition("[]")[0])
    return bool(found) and "<" in str(found)


# --- what the issue says, written out independently of the table ---------------------------------------------------


@dataclass(frozen=True)
class Expectation:
    who: str
    method: str
    path: str
    status: int | Callable[[int], bool]
    json: Any = None


def _allowed(status: int) -> bool:
    return status not in (401, 403, 404) and status < 500


def test_what_the_issue_states(place: Place) -> None:
    admin = place.clients["admin"]
    # Objects of this test alone: the matrix deletes the seeded ones.
    project = admin.post(f"{API}/projects", json={"name": "issue-project"}).json()["id"]
    doomed = admin.post(f"{API}/projects", json={"name": "issue-doomed"}).json()["id"]
    doomed_experiment = admin.post(f"{API}/projects", json={"name": "issue-doomed-2"}).json()["id"]
    run = admin.post(f"{API}/runs", json={"project_id": project}).json()["id"]
    metric = {"run_id": run, **METRIC}
    batch = {"batch_id": "issue-batch", "metrics": [{"key": "m", "steps": [0], "values": [1.0], "timestamps": [T0]}]}
    member = f"{API}/workspaces/default/members/spare"
    admin_only = [("GET", f"{API}/users"), ("POST", f"{API}/users"), ("GET", f"{API}/tokens")]
    admin_only += [("DELETE", f"{API}/tokens/x"), ("GET", f"{API}/invitations"), ("POST", f"{API}/invitations")]
    admin_only += [("POST", f"{API}/workspaces")]
    expectations = [
        # A viewer reads and cannot write.
        Expectation("viewer", "GET", f"{API}/runs/{run}", 200),
        Expectation("viewer", "POST", f"{API}/projects", 403, {"name": "viewer-project"}),
        Expectation("viewer", "POST", f"{API}/runs", 403, {"project_id": project}),
        Expectation("viewer", "POST", f"{API}/runs/{run}/batches", 403, batch),
        Expectation("viewer", "POST", f"{API}/models", 403, {"name": "viewer-model"}),
        Expectation("viewer", "POST", f"{API}/models/seed-model/versions", 403, {"source": f"runs:/{run}/m"}),
        Expectation("viewer", "POST", f"{MLFLOW}/runs/create", 403, {"experiment_id": project}),
        Expectation("viewer", "POST", f"{MLFLOW}/runs/log-metric", 403, metric),
        # An editor writes runs, but deletes no project and manages no member.
        Expectation("editor", "POST", f"{API}/runs", 201, {"project_id": project}),
        Expectation("editor", "POST", f"{API}/runs/{run}/batches", 200, batch),
        Expectation("editor", "POST", f"{MLFLOW}/runs/log-metric", 200, metric),
        Expectation("editor", "DELETE", f"{API}/projects/{doomed}", 403),
        Expectation("editor", "POST", f"{MLFLOW}/experiments/delete", 403, {"experiment_id": doomed_experiment}),
        Expectation("editor", "PUT", f"{API}/workspaces/default/members/x", 403, {"role": "viewer"}),
        Expectation("editor", "PUT", member, 403, {"role": "viewer"}),
        # A maintainer does, but makes no owner: only owners do.
        Expectation("maintainer", "PUT", member, 200, {"role": "editor"}),
        Expectation("maintainer", "PUT", member, 403, {"role": "owner"}),
        Expectation("maintainer", "PUT", f"{API}/projects/{project}/members/spare", 403, {"role": "owner"}),
        Expectation("maintainer", "PUT", f"{API}/projects/{project}/members/owner", 403, {"role": "viewer"}),
        Expectation("owner", "PUT", member, 200, {"role": "owner"}),
        Expectation("owner", "PUT", member, 200, {"role": "viewer"}),
        Expectation("maintainer", "DELETE", f"{API}/projects/{doomed}", _allowed),
        Expectation("maintainer", "POST", f"{MLFLOW}/experiments/delete", 200, {"experiment_id": doomed_experiment}),
        # Administration is for system administrators, not for workspace owners.
        *(Expectation("owner", method, path, 403, {} if method == "POST" else None) for method, path in admin_only),
        *(Expectation("admin", method, path, _allowed) for method, path in admin_only if method == "GET"),
    ]
    wrong = []
    for each in expectations:
        answer = place.clients[each.who].request(each.method, each.path, json=each.json)
        good = each.status(answer.status_code) if callable(each.status) else answer.status_code == each.status
        if not good:
            wrong.append(f"{each.who} {each.method} {each.path}: {answer.status_code} {answer.text[:200]}")
    assert not wrong, "\n".join(wrong)


# --- token scopes and dead tokens --------------------------------------------------------------------------------


def _with(place: Place, who: str, scope: str) -> httpx.Client:
    return place.team.client(None, Authorization=f"Bearer {place.team.token(who, scope)}")


def test_a_read_token_reads_only(place: Place) -> None:
    client = _with(place, "owner", "read")
    assert client.get(f"{API}/projects").status_code == 200
    assert client.get(f"{MLFLOW}/experiments/search").status_code == 200
    refused = client.post(f"{API}/projects", json={"name": "read-scoped"})
    assert refused.status_code == 403
    assert "scope (read)" in refused.json()["error"]["message"]
    assert client.post(f"{MLFLOW}/experiments/create", json={"name": "read-scoped"}).status_code == 403
    assert client.patch(f"{API}/account", json={}).status_code == 403  # managing an account needs more


def test_a_write_token_writes_and_deletes_but_manages_nothing(place: Place) -> None:
    client = _with(place, "owner", "write")
    project = client.post(f"{API}/projects", json={"name": "write-scoped"})
    assert project.status_code == 201, project.text
    assert client.post(f"{API}/runs", json={"project_id": project.json()["id"]}).status_code == 201
    assert client.delete(f"{API}/projects/{project.json()['id']}").status_code < 300
    refused = client.put(f"{API}/workspaces/default/members/spare", json={"role": "viewer"})
    assert refused.status_code == 403
    assert "scope (write)" in refused.json()["error"]["message"]
    admin = _with(place, "admin", "write")
    assert admin.get(f"{API}/projects").status_code == 200
    for method, path in (("GET", f"{API}/users"), ("GET", f"{API}/tokens"), ("POST", f"{API}/workspaces")):
        assert admin.request(method, path, json={} if method == "POST" else None).status_code == 403


def test_an_admin_token_may_do_what_its_holder_may(place: Place) -> None:
    owner = _with(place, "owner", "admin")
    assert owner.put(f"{API}/workspaces/default/members/spare", json={"role": "viewer"}).status_code == 200
    assert owner.get(f"{API}/users").status_code == 403  # the owner is no administrator
    admin = _with(place, "admin", "admin")
    assert admin.get(f"{API}/users").status_code == 200
    assert admin.get(f"{API}/tokens").status_code == 200


def _refused(secret: str, place: Place) -> httpx.Response:
    client = place.team.client(None, Authorization=f"Bearer {secret}")
    answer = client.get(f"{API}/projects")
    assert answer.status_code == 401, answer.text
    assert answer.json()["error"]["code"] == "UNAUTHENTICATED"
    assert client.get(f"{MLFLOW}/experiments/search").status_code == 401
    return answer


def test_dead_tokens_are_refused(place: Place) -> None:
    accounts = place.team.accounts
    viewer = accounts.get_user("viewer")
    expired = accounts.create_token(viewer, "expired", "read")
    place.team.store.accounts.update_token(expired.token.id, expires_at=1_000)
    assert "expired" in _refused(expired.secret, place).json()["error"]["message"]
    revoked = accounts.create_token(viewer, "revoked", "read")
    accounts.revoke_token(revoked.token.id)
    _refused(revoked.secret, place)
    gone = accounts.create_user("leaver", PASSWORD, created_by="test", workspace_id=DEFAULT_WORKSPACE_ID, role="owner")
    token = accounts.create_token(gone, "leaver", "admin")
    assert place.team.client(None, Authorization=f"Bearer {token.secret}").get(f"{API}/projects").status_code == 200
    accounts.set_disabled("leaver", True)
    _refused(token.secret, place)
