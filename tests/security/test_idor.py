"""Objects of another workspace, asked for by id or by name, through every kind of route (insecure direct object
references).

Two workspaces hold the same world (seed_world: a project with a run, metrics, an artifact, a dataset version, a
registered model ``seed-model`` with a version and an alias, a monitor, an MLflow logged model; and a reporting
model server), under the same names. The outsider (owner of workspace "other") attacks the default workspace's
objects, and a viewer of the default workspace attacks the other's: reading, writing and deleting them by id
through the native API, the MLflow-compatible API and the web pages, naming them in bodies beside objects of
their own, and registering model versions from them.

Every attack answers 404, as for an id that does not exist: never 200, and never 403, which would confirm the
object exists. No answer carries anything of the other workspace (its ids and a marker written into its
objects), and the victim's owner, reading everything again afterwards, finds nothing changed. By name each
workspace sees its own object; the same name may be created in both. The workspace header selects a workspace
for its members only.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from hostile import API, MLFLOW, T0, World, seed_world

from support.accounts import Team, team_server

SERVER_IDS = {"default": "d0" * 16, "other": "0e" * 16}
BATCH = {"batch_id": "idor-batch", "metrics": [{"key": "loss", "steps": [9], "values": [9.0], "timestamps": [T0]}]}
METRIC = {"key": "loss", "value": 9.0, "timestamp": T0, "step": 9}
DATASET = {"name": "seed-data", "digest": "cd" * 32, "kind": "dataframe", "rows": 1}
EVALUATION = {
    "version": 1,
    "metrics": {"accuracy": 0.9},
    "dataset_name": "seed-data",
    "dataset_digest": "ab" * 32,
    "task": "classification",
    "rows": 10,
}


@dataclass
class Side:
    """One workspace's world, its owner, and the strings that must never reach anyone outside it."""

    workspace: str
    owner: str
    world: World
    values: dict[str, str]
    secrets: set[str] = field(default_factory=set)


@dataclass
class Two:
    team: Team
    sides: dict[str, Side]


def _seed(team: Team, workspace: str, owner: str) -> Side:
    client = team.client(owner)
    world = seed_world(client)
    marker = f"marker-of-{workspace}-{'x' * 8}"
    server = {
        "model": "seed-model",
        "uri": "models:/seed-model@champion",
        "url": "http://10.0.0.5:80",
        "started_at": T0,
    }
    assert client.put(f"{API}/model-servers/{SERVER_IDS[workspace]}", json=server).status_code == 200
    assert client.patch(f"{API}/projects/{world.project_id}", json={"description": marker}).status_code == 200
    assert client.patch(f"{API}/runs/{world.run_id}", json={"notes": marker}).status_code == 200
    assert client.patch(f"{API}/models/seed-model", json={"description": marker}).status_code == 200
    model = client.get(f"{API}/models/seed-model").json()
    version = client.get(f"{API}/models/seed-model/versions/1").json()
    monitor = client.get(f"{API}/monitors/{world.monitor_name}").json()
    token = team.accounts.create_token(team.accounts.get_user(owner), "kept", "read").token.id
    values = {
        "project": world.project_id,
        "run": world.run_id,
        "dataset_version": world.dataset_version_id,
        "logged_model": world.logged_model_id,
        "server": SERVER_IDS[workspace],
        "artifact": world.artifact_path,
        "token": token,
        "workspace": workspace,
        "owner": owner,
    }
    secrets = {*values.values(), model["id"], version["id"], monitor["id"], marker} - {world.artifact_path}
    secrets -= {workspace, owner}
    return Side(workspace, owner, world, values, secrets)


@pytest.fixture(scope="module")
def two(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Two]:
    home = tmp_path_factory.mktemp("idor-home")
    with team_server(home, f"sqlite:///{home / 'meta.db'}") as team:
        sides = {"default": _seed(team, "default", "owner"), "other": _seed(team, "other", "outsider")}
        yield Two(team, sides)


# Who attacks whom: the outsider the default workspace, a viewer of the default workspace the other one.
ATTACKS_ON = {"outsider": ("other", "default"), "viewer": ("default", "other")}


@dataclass(frozen=True)
class Attack:
    """A request naming the victim's objects as {run}, {project}, … and the attacker's own as {own_run}, …"""

    method: str
    path: str
    query: dict[str, Any] = field(default_factory=dict)
    json: Any = None
    content: bytes | None = None

    def send(self, client: httpx.Client, values: dict[str, str]) -> tuple[httpx.Response, str]:
        fill = _filler(values)
        path, query, body = fill(self.path), fill(self.query), fill(self.json)
        if self.content is not None:
            answer = client.request(self.method, path, params=query, content=self.content)
        else:
            answer = client.request(self.method, path, params=query, json=body)
        return answer, f"{path} {query} {body}"


def _filler(values: dict[str, str]) -> Any:
    def fill(value: Any) -> Any:
        if isinstance(value, str):
            return re.sub(r"{(\w+)}", lambda match: values[match.group(1)], value)
        if isinstance(value, list):
            return [fill(item) for item in value]
        if isinstance(value, dict):
            return {key: fill(item) for key, item in value.items()}
        return value

    return fill


RUN = f"{API}/runs/{{run}}"
PROJECT = f"{API}/projects/{{project}}"
VERSION = f"{API}/dataset-versions/{{dataset_version}}"
LOGGED = f"{MLFLOW}/logged-models/{{logged_model}}"
PROXIED = "/api/2.0/mlflow-artifacts/artifacts/{project}/{run}/artifacts/{artifact}"
SERVER = f"{API}/model-servers/{{server}}"
SERVED = {"model": "seed-model", "uri": "models:/seed-model@champion", "url": "http://10.9.9.9:80", "started_at": T0}
PREDICTION = {
    "request_id": "r",
    "row": 0,
    "timestamp": T0,
    "model": "seed-model",
    "version": 1,
    "role": "primary",
    "latency_ms": 1.0,
    "inputs": "{}",
    "output": "1",
    "error": None,
}

ATTACKS = [
    # Native runs by id.
    Attack("GET", RUN),
    Attack("PATCH", RUN, json={"notes": "pwned"}),
    Attack("DELETE", RUN),
    Attack("DELETE", f"{RUN}/tags", query={"key": "team"}),
    Attack("POST", f"{RUN}/finish", json={}),
    Attack("POST", f"{RUN}/resume", json={}),
    Attack("POST", f"{RUN}/restore", json={}),
    Attack("POST", f"{RUN}/batches", json=BATCH),
    Attack("GET", f"{RUN}/metrics"),
    Attack("GET", f"{RUN}/metrics/history", query={"key": "loss"}),
    Attack("GET", f"{RUN}/metrics/histories", query={"keys": "loss"}),
    Attack("GET", f"{RUN}/storage"),
    Attack("GET", f"{RUN}/lineage"),
    Attack("POST", f"{RUN}/datasets", json=DATASET),
    Attack("GET", f"{RUN}/artifacts"),
    Attack("GET", f"{RUN}/artifacts/{{artifact}}"),
    Attack("PUT", f"{RUN}/artifacts/{{artifact}}", content=b"pwned"),
    Attack("PUT", f"{RUN}/artifacts/new.txt", content=b"pwned"),
    Attack("DELETE", f"{RUN}/artifacts/{{artifact}}"),
    Attack("GET", f"{API}/runs/{{run}}/artifacts-preview/{{artifact}}"),
    # Projects by id.
    Attack("GET", PROJECT),
    Attack("PATCH", PROJECT, json={"description": "pwned"}),
    Attack("DELETE", PROJECT),
    Attack("POST", f"{PROJECT}/restore", json={}),
    Attack("GET", f"{PROJECT}/keys"),
    Attack("GET", f"{PROJECT}/storage"),
    Attack("GET", f"{PROJECT}/retention"),
    Attack("PUT", f"{PROJECT}/retention", json={"keep_last": 1}),
    Attack("DELETE", f"{PROJECT}/retention"),
    Attack("POST", f"{PROJECT}/retention/apply", json={"dry_run": False}),
    Attack("GET", f"{PROJECT}/members"),
    Attack("PUT", f"{PROJECT}/members/viewer", json={"role": "owner"}),
    Attack("DELETE", f"{PROJECT}/members/viewer"),
    # Their workspace's members, and their tokens.
    Attack("GET", f"{API}/workspaces/{{workspace}}/members"),
    Attack("PUT", f"{API}/workspaces/{{workspace}}/members/{{me}}", json={"role": "owner"}),
    Attack("DELETE", f"{API}/workspaces/{{workspace}}/members/{{owner}}"),
    Attack("DELETE", f"{API}/account/tokens/{{token}}"),
    # Their ids in bodies, alone or beside the attacker's own.
    Attack("POST", f"{API}/runs/search", json={"project_ids": ["{project}"]}),
    Attack("POST", f"{API}/runs/search", json={"project_ids": ["{own_project}", "{project}"]}),
    Attack("POST", f"{API}/runs/count", json={"project_ids": ["{project}"]}),
    Attack("POST", f"{API}/runs/histories", json={"run_ids": ["{own_run}", "{run}"], "keys": ["loss"]}),
    Attack("POST", f"{API}/runs/delete", json={"run_ids": ["{run}"]}),
    Attack("POST", f"{API}/runs/restore", json={"run_ids": ["{run}"]}),
    Attack("POST", f"{API}/runs/move", json={"run_ids": ["{run}"], "project_id": "{own_project}"}),
    Attack("POST", f"{API}/runs/move", json={"run_ids": ["{own_run}"], "project_id": "{project}"}),
    Attack("POST", f"{API}/runs", json={"project_id": "{project}"}),
    Attack("POST", f"{API}/runs", json={"project": "seed-project", "run_id": "{run}", "tags": {"x": "pwned"}}),
    Attack("POST", f"{API}/runs", json={"project": "seed-project", "parent_run_id": "{run}"}),
    # Dataset versions and model servers by id.
    Attack("GET", VERSION),
    Attack("GET", f"{VERSION}/runs"),
    Attack("GET", f"{VERSION}/model-versions"),
    Attack("POST", f"{VERSION}/ready", json={}),
    Attack("PUT", SERVER, json=SERVED),
    Attack("DELETE", SERVER),
    Attack("POST", f"{SERVER}/predictions", json={"rows": [PREDICTION]}),
    # The registry, fed their runs, logged models and dataset versions.
    Attack("GET", f"{API}/model-versions", query={"run_id": "{run}"}),
    Attack("POST", f"{API}/models/seed-model/versions", json={"source": "runs:/{run}/model"}),
    Attack("POST", f"{API}/models/seed-model/versions", json={"source": "runs:/{own_run}/model", "run_id": "{run}"}),
    Attack("POST", f"{API}/models/seed-model/versions", json={"source": "models:/{logged_model}"}),
    Attack(
        "POST", f"{API}/models/seed-model/versions", json={"source": "mlflow-artifacts:/{project}/{run}/artifacts/m"}
    ),
    Attack(
        "POST", f"{API}/models/seed-model/evaluations", json={**EVALUATION, "dataset_version_id": "{dataset_version}"}
    ),
    # The MLflow-compatible API.
    Attack("GET", f"{MLFLOW}/runs/get", query={"run_id": "{run}"}),
    Attack("GET", f"{MLFLOW}/runs/get", query={"run_id": ["{own_run}", "{run}"]}),
    Attack("GET", f"{MLFLOW}/experiments/get", query={"experiment_id": "{project}"}),
    Attack("POST", f"{MLFLOW}/experiments/update", json={"experiment_id": "{project}", "new_name": "pwned"}),
    Attack("POST", f"{MLFLOW}/experiments/delete", json={"experiment_id": "{project}"}),
    Attack("POST", f"{MLFLOW}/experiments/set-experiment-tag", json={"experiment_id": "{project}", "key": "k"}),
    Attack("POST", f"{MLFLOW}/runs/create", json={"experiment_id": "{project}"}),
    Attack(
        "POST",
        f"{MLFLOW}/runs/create",
        json={"experiment_id": "{own_project}", "tags": [{"key": "mlflow.parentRunId", "value": "{run}"}]},
    ),
    Attack("POST", f"{MLFLOW}/runs/update", json={"run_id": "{run}", "status": "KILLED"}),
    Attack("POST", f"{MLFLOW}/runs/delete", json={"run_id": "{run}"}),
    Attack("POST", f"{MLFLOW}/runs/log-metric", json={"run_id": "{run}", **METRIC}),
    Attack("POST", f"{MLFLOW}/runs/log-batch", json={"run_id": "{run}", "metrics": [METRIC]}),
    Attack("POST", f"{MLFLOW}/runs/set-tag", json={"run_id": "{run}", "key": "x", "value": "pwned"}),
    Attack("POST", f"{MLFLOW}/runs/outputs", json={"run_id": "{run}", "models": []}),
    Attack("POST", f"{MLFLOW}/runs/outputs", json={"run_id": "{own_run}", "models": [{"model_id": "{logged_model}"}]}),
    Attack("POST", f"{MLFLOW}/runs/search", json={"experiment_ids": ["{project}"]}),
    Attack("GET", f"{MLFLOW}/metrics/get-history", query={"run_id": "{run}", "metric_key": "loss"}),
    Attack("GET", f"{MLFLOW}/metrics/get-history-bulk-interval", query={"run_ids": "{run}", "metric_key": "loss"}),
    Attack("GET", f"{MLFLOW}/artifacts/list", query={"run_id": "{run}"}),
    Attack("GET", PROXIED),
    Attack("PUT", PROXIED, content=b"pwned"),
    Attack("DELETE", PROXIED),
    Attack("GET", "/api/2.0/mlflow-artifacts/artifacts", query={"path": "{project}/{run}/artifacts"}),
    Attack("GET", LOGGED),
    Attack("PATCH", LOGGED, json={"status": "READY"}),
    Attack("DELETE", LOGGED),
    Attack("POST", f"{LOGGED}/params", json={"params": [{"key": "k", "value": "pwned"}]}),
    Attack("PATCH", f"{LOGGED}/tags", json={"tags": [{"key": "k", "value": "pwned"}]}),
    Attack("POST", f"{MLFLOW}/logged-models/search", json={"experiment_ids": ["{project}"]}),
    Attack("POST", f"{MLFLOW}/logged-models", json={"experiment_id": "{own_project}", "source_run_id": "{run}"}),
    Attack("POST", f"{MLFLOW}/model-versions/create", json={"name": "seed-model", "source": "runs:/{run}/model"}),
    Attack(
        "POST",
        f"{MLFLOW}/model-versions/create",
        json={"name": "seed-model", "source": "runs:/{own_run}/model", "run_id": "{run}"},
    ),
    Attack(
        "POST",
        f"{MLFLOW}/model-versions/create",
        json={"name": "seed-model", "source": "models:/{logged_model}", "model_id": "{logged_model}"},
    ),
    # Web pages.
    Attack("GET", "/runs/{run}"),
    Attack("GET", "/projects/{project}"),
    Attack("GET", "/compare", query={"runs": "{own_run},{run}"}),
]


def _ids(attack: Attack) -> str:
    return f"{attack.method} {attack.path} {attack.query or ''}{attack.json or ''}"[:120]


def leaks(answer: httpx.Response, victim: Side, sent: str) -> set[str]:
    """The victim's strings in the answer that the request did not carry itself."""
    return {secret for secret in victim.secrets if secret in answer.text and secret not in sent}


def _refused_whatever_they_name(
    attack: Attack, client: httpx.Client, values: dict[str, str], answer: httpx.Response
) -> bool:
    """Whether ``answer`` is a 403 that the same request naming objects that exist nowhere also gets: refused for
    the caller's role in their own workspace (a viewer writing there), which tells nothing of the other's."""
    if answer.status_code != 403:
        return False
    nowhere = {name: uuid.uuid4().hex for name in ("project", "run", "dataset_version", "server", "token")}
    nowhere["logged_model"] = f"m-{uuid.uuid4().hex}"
    control, _ = attack.send(client, {**values, **nowhere})
    return control.status_code == 403 and control.json() == answer.json()


def snapshot(two: Two, side: Side) -> dict[str, Any]:
    """Everything of ``side`` that an attack could change, as its owner reads it."""
    client = two.team.client(side.owner)
    world = side.world
    reads = {
        "project": f"{API}/projects/{world.project_id}",
        "projects": f"{API}/projects?deleted=true",
        "run": f"{API}/runs/{world.run_id}",
        "runs": f"{API}/runs/search",
        "history": f"{API}/runs/{world.run_id}/metrics/history?key=loss",
        "artifacts": f"{API}/runs/{world.run_id}/artifacts",
        "artifact": f"{API}/runs/{world.run_id}/artifacts/{world.artifact_path}",
        "retention": f"{API}/projects/{world.project_id}/retention",
        "project roles": f"{API}/projects/{world.project_id}/members",
        "dataset version": f"{API}/dataset-versions/{world.dataset_version_id}",
        "dataset runs": f"{API}/dataset-versions/{world.dataset_version_id}/runs",
        "model": f"{API}/models/seed-model",
        "versions": f"{API}/models/seed-model/versions",
        "evaluations": f"{API}/models/seed-model/versions/1/evaluations",
        "servers": f"{API}/model-servers?include_stale=true",
        "logged model": f"{MLFLOW}/logged-models/{world.logged_model_id}",
        "members": f"{API}/workspaces/{side.workspace}/members",
    }
    seen = {}
    for name, path in reads.items():
        method = "POST" if path.endswith("/search") else "GET"
        answer = client.request(method, path, json={"project_ids": [world.project_id]} if method == "POST" else None)
        assert answer.status_code in (200, 404), (path, answer.text)  # 404: a project without a retention policy
        seen[name] = (answer.status_code, answer.content)
    return seen


@pytest.mark.parametrize("attacker", sorted(ATTACKS_ON))
def test_another_workspaces_objects_answer_404_and_stay_as_they_were(two: Two, attacker: str) -> None:
    mine, theirs = (two.sides[name] for name in ATTACKS_ON[attacker])
    victim_before = snapshot(two, theirs)
    values = {**theirs.values, **{f"own_{name}": value for name, value in mine.values.items()}, "me": attacker}
    client = two.team.client(attacker)
    wrong = []
    for attack in ATTACKS:
        answer, sent = attack.send(client, values)
        leaked = leaks(answer, theirs, sent)
        if answer.status_code != 404 and not _refused_whatever_they_name(attack, client, values, answer):
            wrong.append(f"{_ids(attack)}: {answer.status_code} {answer.text[:300]}")
        elif leaked:
            wrong.append(f"{_ids(attack)}: {answer.status_code} leaked {sorted(leaked)} {answer.text[:300]}")
    assert not wrong, f"{attacker} reached the other workspace:\n" + "\n".join(wrong)
    assert snapshot(two, theirs) == victim_before


# Listings and searches: each workspace's own objects only ({project}: the caller's own).
LISTINGS = [
    ("GET", f"{API}/projects", None),
    ("GET", f"{API}/projects?deleted=true", None),
    ("POST", f"{API}/runs/search", {"project_ids": ["{project}"]}),
    ("GET", f"{API}/models", None),
    ("GET", f"{API}/model-versions", None),
    ("GET", f"{API}/datasets", None),
    ("GET", f"{API}/monitors", None),
    ("GET", f"{API}/model-servers?include_stale=true", None),
    ("GET", f"{API}/workspaces", None),
    ("GET", f"{MLFLOW}/experiments/search?max_results=1000", None),
    ("POST", f"{MLFLOW}/runs/search", {}),
    ("GET", f"{MLFLOW}/registered-models/search", None),
    ("GET", f"{MLFLOW}/model-versions/search", None),
    ("POST", f"{MLFLOW}/logged-models/search", {"experiment_ids": ["{project}"]}),
    ("GET", "/", None),
    ("GET", "/models", None),
    ("GET", "/datasets", None),
    ("GET", "/monitors", None),
]


@pytest.mark.parametrize("who", ["outsider", "owner"])
def test_listings_show_nothing_of_another_workspace(two: Two, who: str) -> None:
    mine, theirs = (two.sides["other"], two.sides["default"]) if who == "outsider" else tuple(two.sides.values())
    client = two.team.client(who)
    wrong = []
    for method, path, body in LISTINGS:
        answer = client.request(method, path, json=_filler(mine.values)(body))
        leaked = leaks(answer, theirs, "")
        if answer.status_code != 200 or leaked:
            wrong.append(f"{method} {path}: {answer.status_code} {sorted(leaked)} {answer.text[:200]}")
    assert not wrong, "\n".join(wrong)
    assert mine.world.project_id in client.get(f"{API}/projects").text  # the listings do list something


@pytest.mark.parametrize(
    ("who", "their_actors"), [("outsider", {"owner", "editor", "viewer"}), ("owner", {"outsider"})]
)
def test_the_audit_log_shows_only_the_callers_workspace(two: Two, who: str, their_actors: set[str]) -> None:
    """Entries of the other workspace's members never show. (The caller's own refused probes do, with the ids
    they sent themselves: that is what an audit log is for.)"""
    entries = two.team.client(who).get(f"{API}/audit", params={"limit": 1000}).json()["entries"]
    assert entries
    assert not [entry for entry in entries if entry["actor"] in their_actors]
    workspace = "other" if who == "outsider" else "default"
    assert {entry["workspace"] for entry in entries} <= {workspace, None}


BY_NAME = [
    f"{API}/models/seed-model",
    f"{API}/models/seed-model/versions/1",
    f"{API}/models/seed-model/aliases/champion",
    f"{API}/resolve?uri=models:/seed-model@champion",
    f"{API}/projects/by-name?name=seed-project",
    f"{API}/datasets/by-name?name=seed-data",
    f"{API}/monitors/seed-model-champion",
    f"{MLFLOW}/registered-models/get?name=seed-model",
    f"{MLFLOW}/model-versions/get?name=seed-model&version=1",
    f"{MLFLOW}/experiments/get-by-name?experiment_name=seed-project",
    "/models/seed-model",
    "/datasets/seed-data",
    "/monitors/seed-model-champion",
]


@pytest.mark.parametrize("who", ["outsider", "viewer"])
def test_a_name_means_the_callers_own_object(two: Two, who: str) -> None:
    mine, theirs = (two.sides["other"], two.sides["default"]) if who == "outsider" else tuple(two.sides.values())
    client = two.team.client(who)
    wrong = []
    for path in BY_NAME:
        answer = client.get(path)
        leaked = leaks(answer, theirs, "")
        found_mine = bool(mine.secrets & set(re.findall(r"[\w-]+", answer.text)))
        if answer.status_code != 200 or leaked or (path.startswith("/api/") and not found_mine):
            wrong.append(f"{path}: {answer.status_code} leaked {sorted(leaked)} {answer.text[:200]}")
    assert not wrong, "\n".join(wrong)


def test_the_same_name_may_be_created_in_both_workspaces(two: Two) -> None:
    for who in ("owner", "outsider"):
        client = two.team.client(who)
        assert client.post(f"{API}/models", json={"name": "twin"}).status_code == 201
        assert client.post(f"{API}/projects", json={"name": "twin"}).status_code == 201
        assert client.post(f"{MLFLOW}/experiments/create", json={"name": "twin-experiment"}).status_code == 200
    owner, outsider = (two.team.client(who).get(f"{API}/models/twin").json()["id"] for who in ("owner", "outsider"))
    assert owner != outsider


def test_the_workspace_header_selects_a_workspace_for_its_members_only(two: Two) -> None:
    team, default, other = two.team, two.sides["default"], two.sides["other"]
    for who, workspace in (("outsider", "default"), ("viewer", "other"), ("owner", "nowhere")):
        client = team.client(who, **{"X-Ridgeline-Workspace": workspace})
        for path in (f"{API}/projects", f"{API}/models/seed-model", f"{MLFLOW}/experiments/search"):
            answer = client.get(path)
            assert answer.status_code == 404, (who, workspace, path, answer.text)
            assert not leaks(answer, default if workspace == "default" else other, "")
    for who, side in (("outsider", other), ("admin", other), ("admin", default), ("viewer", default)):
        answer = team.client(who, **{"X-Ridgeline-Workspace": side.workspace}).get(f"{API}/projects")
        assert answer.status_code == 200, answer.text
        assert side.world.project_id in answer.text
        elsewhere = other if side is default else default
        assert not leaks(answer, elsewhere, "")
