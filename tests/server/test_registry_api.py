"""The native registry API (/api/v1/models, /model-versions, /resolve) on the real server, both backends: models,
tags, versions with their lineage, aliases and the history of every move, URL-encoded names, and bad requests
answered with a clear 4xx in Ridgeline's error shape that change nothing."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote

import httpx
from api_helpers import error, log, make_run, ok

NAME = "churn model.v2-eu"  # spaces, a dot and a dash: all fine in a name
M = "/models/" + quote(NAME, safe="")
UNKNOWN_RUN = "0123456789abcdef0123456789abcdef"


def _trained_run(client: httpx.Client, project: str = "registry") -> str:
    run_id: str = make_run(client, project, name="trainer")["id"]
    log(client, run_id, metrics={"acc": [0.7, 0.91], "loss": ["NaN"]}, tags={"ridgeline.git.commit": "abc123"})
    return run_id


def _model_with_versions(client: httpx.Client, count: int = 2) -> str:
    run_id = _trained_run(client)
    ok(client.post("/models", json={"name": NAME}), 201)
    for _ in range(count):
        ok(client.post(f"{M}/versions", json={"source": f"runs:/{run_id}/model"}), 201)
    return run_id


def _numbers(versions: list[dict[str, Any]]) -> list[int]:
    return [version["version"] for version in versions]


def test_models_are_created_read_searched_changed_and_deleted(client: httpx.Client) -> None:
    before = int(time.time() * 1000)
    created = ok(
        client.post("/models", json={"name": NAME, "description": "first", "tags": {"team": "growth"}}),
        201,
    )
    assert created["name"] == NAME and created["description"] == "first" and created["owner"] == "local"
    assert created["tags"] == {"team": "growth"} and created["aliases"] == {} and created["latest_version"] is None
    assert before - 1000 <= created["created_at"] <= created["updated_at"]
    assert ok(client.get(M)) == created
    ok(client.post("/models", json={"name": "ltv", "tags": {"team": "finance"}}), 201)
    ok(client.post("/models", json={"name": "spam"}), 201)

    def names(**query: Any) -> list[str]:
        return [model["name"] for model in ok(client.get("/models", params=query))["models"]]

    assert names() == sorted([NAME, "ltv", "spam"])
    assert names(filter="tags.team = 'growth'") == [NAME]
    assert names(filter="attributes.name like 's%' or tags.team = 'finance'") == ["ltv", "spam"]
    assert names(order_by="attributes.name desc") == ["spam", "ltv", NAME]
    assert names(order_by=["attributes.start_time desc"])[0] == "spam"

    changed = ok(client.patch(M, json={"description": "second"}))
    assert changed["description"] == "second" and changed["updated_at"] >= created["updated_at"]
    assert ok(client.put(f"{M}/tags/tier", json={"value": "gold"}))["tags"] == {"team": "growth", "tier": "gold"}
    assert ok(client.put(f"{M}/tags/a/b: c", json={"value": "slash"}))["tags"]["a/b: c"] == "slash"
    assert ok(client.delete(f"{M}/tags/team"))["tags"] == {"a/b: c": "slash", "tier": "gold"}

    renamed = ok(client.patch("/models/spam", json={"name": "spam filter"}))
    assert renamed["name"] == "spam filter" and renamed["id"] != created["id"]
    error(client.get("/models/spam"), 404, "NOT_FOUND")
    assert client.delete("/models/spam%20filter").status_code == 204
    assert names() == [NAME, "ltv"]


def test_versions_carry_their_lineage_and_numbers_are_never_reused(client: httpx.Client) -> None:
    run_id = _trained_run(client)
    ok(client.post("/models", json={"name": NAME}), 201)
    first = ok(
        client.post(
            f"{M}/versions",
            json={"source": f"runs:/{run_id}/model", "description": "baseline", "tags": {"k": "v"}},
        ),
        201,
    )
    assert first["version"] == 1 and first["model_name"] == NAME and first["status"] == "READY"
    assert (first["run_id"], first["artifact_run_id"], first["artifact_path"]) == (run_id, run_id, "model")
    assert first["metrics"] == {"acc": 0.91, "loss": "NaN"} and first["git_commit"] == "abc123"
    assert first["created_by"] == "local" and first["tags"] == {"k": "v"} and first["stage"] == "None"
    second = ok(client.post(f"{M}/versions", json={"source": f"runs:/{run_id}/other", "run_id": run_id}), 201)
    assert second["version"] == 2

    assert _numbers(ok(client.get(f"{M}/versions"))["versions"]) == [2, 1]
    assert ok(client.get(f"{M}/versions/1")) == first
    assert ok(client.get(M))["latest_version"] == 2
    updated = ok(client.patch(f"{M}/versions/2", json={"description": "candidate", "status": "FAILED"}))
    assert (updated["description"], updated["status"]) == ("candidate", "FAILED")
    assert ok(client.put(f"{M}/versions/2/tags/validated", json={"value": "yes"}))["tags"] == {"validated": "yes"}
    assert ok(client.delete(f"{M}/versions/1/tags/k"))["tags"] == {}

    lineage = ok(client.get("/model-versions", params={"run_id": run_id}))["versions"]
    assert [(v["model_name"], v["version"]) for v in lineage] == [(NAME, 2), (NAME, 1)]
    failed = ok(client.get("/model-versions", params={"run_id": run_id, "filter": "attributes.status = 'FAILED'"}))
    assert _numbers(failed["versions"]) == [2]
    by_metric = ok(
        client.get("/model-versions", params={"filter": "metrics.acc > 0.9", "order_by": "attributes.start_time"})
    )
    assert _numbers(by_metric["versions"]) == [1, 2]
    other_run = make_run(client, "registry", name="unused")["id"]
    assert ok(client.get("/model-versions", params={"run_id": other_run}))["versions"] == []

    assert client.delete(f"{M}/versions/2").status_code == 204
    error(client.get(f"{M}/versions/2"), 404, "NOT_FOUND", "version")
    third = ok(client.post(f"{M}/versions", json={"source": f"runs:/{run_id}/model"}), 201)
    assert third["version"] == 3  # 2 is never given out again


def test_alias_history_records_creation_moves_and_deletions(client: httpx.Client) -> None:
    _model_with_versions(client, count=3)
    start = int(time.time() * 1000)
    assert ok(client.put(f"{M}/aliases/champion", json={"version": 1}))["version"] == 1
    moved = ok(client.put(f"{M}/aliases/champion", json={"version": 2}))
    assert moved["version"] == 2 and moved["aliases"] == ["champion"]
    ok(client.put(f"{M}/aliases/champion", json={"version": 2}))  # already there: no move, no event
    ok(client.put(f"{M}/aliases/challenger", json={"version": 3}))
    assert ok(client.get(f"{M}/aliases/champion"))["version"] == 2
    assert ok(client.get(M))["aliases"] == {"challenger": 3, "champion": 2}
    assert client.delete(f"{M}/aliases/champion").status_code == 204
    error(client.get(f"{M}/aliases/champion"), 404, "NOT_FOUND", "alias")
    assert client.delete(f"{M}/versions/3").status_code == 204  # takes its alias with it

    events = ok(client.get(f"{M}/alias-history"))["events"]
    moves = [(e["alias"], e["from_version"], e["to_version"]) for e in events]
    assert moves == [
        ("champion", None, 1),
        ("champion", 1, 2),
        ("challenger", None, 3),
        ("champion", 2, None),
        ("challenger", 3, None),
    ]
    assert {e["actor"] for e in events} == {"local"} and {e["model_name"] for e in events} == {NAME}
    times = [e["at"] for e in events]
    assert times == sorted(times) and start - 1000 <= times[0] <= times[-1] <= int(time.time() * 1000) + 1000
    only = ok(client.get(f"{M}/alias-history", params={"alias": "challenger"}))["events"]
    assert [(e["from_version"], e["to_version"]) for e in only] == [(None, 3), (3, None)]
    assert ok(client.get(M))["aliases"] == {}


def test_resolve_names_versions_by_number_alias_latest_and_stage(client: httpx.Client) -> None:
    _model_with_versions(client, count=3)
    ok(client.put(f"{M}/aliases/champion", json={"version": 2}))

    def resolved(uri: str) -> int:
        version: int = ok(client.get("/resolve", params={"uri": uri}))["version"]
        return version

    assert resolved(f"models:/{NAME}/1") == 1
    assert resolved(f"models:/{NAME}@champion") == 2
    assert resolved(f"models:/{NAME}/latest") == 3
    error(client.get("/resolve", params={"uri": f"models:/{NAME}/Production"}), 404, "NOT_FOUND", "uri")


def test_names_with_reserved_url_characters_round_trip(client: httpx.Client) -> None:
    name = "50% off? #1 + more & ünïcode"
    path = "/models/" + quote(name, safe="")
    assert ok(client.post("/models", json={"name": name}), 201)["name"] == name
    assert ok(client.get(path))["name"] == name
    run_id = _trained_run(client)
    assert ok(client.post(f"{path}/versions", json={"source": f"runs:/{run_id}/m"}), 201)["model_name"] == name
    assert ok(client.put(f"{path}/aliases/prod_1", json={"version": 1}))["model_name"] == name
    assert ok(client.get("/resolve", params={"uri": f"models:/{name}@prod_1"}))["model_name"] == name
    # An encoded '/' would be decoded before routing and reach another route: refused, nothing deleted.
    error(client.delete(path + "%2Fversions%2F1"), 400, "INVALID_ARGUMENT", "name")
    assert _numbers(ok(client.get(f"{path}/versions"))["versions"]) == [1]


def test_bad_requests_get_clear_errors_and_change_nothing(client: httpx.Client) -> None:
    run_id = _model_with_versions(client, count=1)
    ok(client.put(f"{M}/aliases/champion", json={"version": 1}))
    ok(client.put(f"{M}/tags/team", json={"value": "growth"}))
    before = ok(client.get(M))
    history = ok(client.get(f"{M}/alias-history"))
    source = {"source": f"runs:/{run_id}/model"}
    cases: list[tuple[str, str, dict[str, Any] | None, int, str, str | None]] = [
        ("POST", "/models", {"name": ""}, 400, "INVALID_ARGUMENT", "name"),
        ("POST", "/models", {"name": "   "}, 400, "INVALID_ARGUMENT", "name"),
        ("POST", "/models", {"name": "a/b"}, 400, "INVALID_ARGUMENT", "name"),
        ("POST", "/models", {"name": "a@b"}, 400, "INVALID_ARGUMENT", "name"),
        ("POST", "/models", {"name": "x" * 251}, 400, "INVALID_ARGUMENT", "name"),
        ("POST", "/models", {}, 400, "INVALID_ARGUMENT", "name"),
        ("POST", "/models", {"name": NAME}, 409, "ALREADY_EXISTS", "name"),
        ("POST", "/models", {"name": "n", "colour": "red"}, 400, "INVALID_ARGUMENT", "colour"),
        ("POST", "/models", {"name": "n", "tags": {"bad key!": "v"}}, 400, "INVALID_ARGUMENT", "tags.key"),
        ("GET", "/models/nope", None, 404, "NOT_FOUND", "name"),
        ("GET", "/models/nope/versions", None, 404, "NOT_FOUND", "name"),
        ("GET", "/models", {"filter": "tags.team = "}, 400, "INVALID_ARGUMENT", "filter"),
        ("GET", "/models", {"order_by": "tags.team"}, 400, "INVALID_ARGUMENT", "order_by"),
        ("PATCH", "/models/ltv", {"description": "x"}, 404, "NOT_FOUND", "name"),
        ("PATCH", M, {"name": "a/b"}, 400, "INVALID_ARGUMENT", "name"),
        ("PUT", f"{M}/tags/bad key!", {"value": "v"}, 400, "INVALID_ARGUMENT", "tags.key"),
        ("PUT", f"{M}/tags/k", {"value": 3}, 400, "INVALID_ARGUMENT", "value"),
        ("DELETE", f"{M}/tags/nope", None, 404, "NOT_FOUND", "key"),
        ("GET", f"{M}/versions/abc", None, 400, "INVALID_ARGUMENT", "version"),
        ("GET", f"{M}/versions/0", None, 400, "INVALID_ARGUMENT", "version"),
        ("GET", f"{M}/versions/-1", None, 400, "INVALID_ARGUMENT", "version"),
        ("GET", f"{M}/versions/9", None, 404, "NOT_FOUND", "version"),
        ("DELETE", f"{M}/versions/abc", None, 400, "INVALID_ARGUMENT", "version"),
        ("PATCH", f"{M}/versions/1", {"status": "GONE"}, 400, "INVALID_ARGUMENT", "status"),
        ("POST", f"{M}/versions", {"source": ""}, 400, "INVALID_ARGUMENT", "source"),
        ("POST", f"{M}/versions", {}, 400, "INVALID_ARGUMENT", "source"),
        ("POST", f"{M}/versions", {"source": f"runs:/{UNKNOWN_RUN}/m"}, 404, "NOT_FOUND", "run_id"),
        ("POST", f"{M}/versions", {"source": "runs:/not-a-run/m"}, 400, "INVALID_ARGUMENT", "source"),
        ("POST", f"{M}/versions", {**source, "run_id": "x"}, 400, "INVALID_ARGUMENT", "run_id"),
        ("POST", "/models/nope/versions", source, 404, "NOT_FOUND", "name"),
        ("PUT", f"{M}/aliases/latest", {"version": 1}, 400, "INVALID_ARGUMENT", "alias"),
        ("PUT", f"{M}/aliases/v2", {"version": 1}, 400, "INVALID_ARGUMENT", "alias"),
        ("PUT", f"{M}/aliases/1st", {"version": 1}, 400, "INVALID_ARGUMENT", "alias"),
        ("PUT", f"{M}/aliases/champion", {"version": 9}, 404, "NOT_FOUND", "version"),
        ("PUT", f"{M}/aliases/champion", {"version": 0}, 400, "INVALID_ARGUMENT", "version"),
        ("PUT", f"{M}/aliases/champion", {"version": "x"}, 400, "INVALID_ARGUMENT", "version"),
        ("PUT", f"{M}/aliases/champion", {}, 400, "INVALID_ARGUMENT", "version"),
        ("GET", f"{M}/aliases/nope", None, 404, "NOT_FOUND", "alias"),
        ("DELETE", f"{M}/aliases/nope", None, 404, "NOT_FOUND", "alias"),
        ("DELETE", f"{M}/aliases/latest", None, 400, "INVALID_ARGUMENT", "alias"),
        ("GET", "/models/nope/alias-history", None, 404, "NOT_FOUND", "name"),
        ("GET", "/model-versions", {"run_id": "x"}, 400, "INVALID_ARGUMENT", "run_id"),
        ("GET", "/model-versions", {"run_id": UNKNOWN_RUN}, 404, "NOT_FOUND", "run_id"),
        ("GET", "/resolve", None, 400, "INVALID_ARGUMENT", "uri"),
        ("GET", "/resolve", {"uri": f"runs:/{run_id}/model"}, 400, "INVALID_ARGUMENT", "uri"),
        ("GET", "/resolve", {"uri": "models:/x"}, 400, "INVALID_ARGUMENT", "uri"),
        ("GET", "/resolve", {"uri": "models:/x/Shipping"}, 400, "INVALID_ARGUMENT", "uri"),
        ("GET", "/resolve", {"uri": "models:/m-" + "0" * 32}, 400, "INVALID_ARGUMENT", "uri"),
        ("GET", "/resolve", {"uri": f"models:/{NAME}@nope"}, 404, "NOT_FOUND", "alias"),
        ("GET", "/resolve", {"uri": "models:/nope/1"}, 404, "NOT_FOUND", "name"),
    ]
    for method, path, payload, status, code, field in cases:
        if method in ("GET", "DELETE"):
            response = client.request(method, path, params=payload)
        else:
            response = client.request(method, path, json=payload)
        found = error(response, status, code, field)
        assert len(found["message"]) > 10, (method, path, found)

    assert ok(client.get(M)) == before
    assert ok(client.get(f"{M}/alias-history")) == history
    assert [m["name"] for m in ok(client.get("/models"))["models"]] == [NAME]
    assert _numbers(ok(client.get(f"{M}/versions"))["versions"]) == [1]


def test_registry_routes_are_described_in_openapi(server: str) -> None:
    paths = ok(httpx.get(f"{server}/openapi.json"))["paths"]
    expected = {
        "/api/v1/models": {"get", "post"},
        "/api/v1/models/{name}": {"get", "patch", "delete"},
        "/api/v1/models/{name}/tags/{key}": {"put", "delete"},
        "/api/v1/models/{name}/versions": {"get", "post"},
        "/api/v1/models/{name}/versions/{version}": {"get", "patch", "delete"},
        "/api/v1/models/{name}/versions/{version}/tags/{key}": {"put", "delete"},
        "/api/v1/models/{name}/aliases/{alias}": {"get", "put", "delete"},
        "/api/v1/models/{name}/alias-history": {"get"},
        "/api/v1/model-versions": {"get"},
        "/api/v1/resolve": {"get"},
    }
    for path, methods in expected.items():
        assert methods <= set(paths[path]), path
        for method in methods:
            assert paths[path][method]["tags"] == ["registry"], (path, method)
    name_parameter = next(p for p in paths["/api/v1/models/{name}"]["get"]["parameters"] if p["name"] == "name")
    assert "URL-encoded" in name_parameter["description"]
    history = paths["/api/v1/models/{name}/alias-history"]["get"]
    assert "from_version" in history["description"]
    version_schema = str(paths["/api/v1/models/{name}/versions/{version}"]["get"]["responses"]["200"])
    assert "ModelVersionOut" in version_schema
