"""The validation gate and registry lineage over the native API on the real server, both backends: stored
evaluations, promotion (passing and refused with the rule and its values), rollback, lineage both ways and
dataset-version lookup; bad requests answered with a clear 4xx in Ridgeline's error shape that change nothing."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict
from typing import Any
from urllib.parse import quote

import httpx
import pandas as pd
import pytest

from ridgeline.services.dataset_description import describe
from server.api_helpers import api, error, log, make_run, ok

NAME = "churn model.v2-eu"
M = "/models/" + quote(NAME, safe="")
UNKNOWN_ID = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def http(server: str) -> Iterator[httpx.Client]:
    with api(server) as opened:
        yield opened


@pytest.fixture
def trained(http: httpx.Client) -> dict[str, Any]:
    """A run that used a logged dataset and recorded its commit, and three versions of NAME from it."""
    run_id = make_run(http, "gate", name="trainer")["id"]
    training = _dataset("churn-train", pd.DataFrame({"x": [1, 2, 3], "y": [0, 1, 0]}))
    version = ok(http.post(f"/runs/{run_id}/datasets", json=training), 201)
    log(http, run_id, tags={"ridgeline.git.commit": "feedc0de"})
    ok(http.post("/models", json={"name": NAME}), 201)
    for _ in range(3):
        ok(http.post(f"{M}/versions", json={"source": f"runs:/{run_id}/model"}), 201)
    return {"run_id": run_id, "dataset_version": version}


def _dataset(name: str, frame: pd.DataFrame) -> dict[str, Any]:
    """What run.log_dataset sends for a DataFrame used in training."""
    described = asdict(describe(frame))
    return {"name": name, "context": "training", **{key: value for key, value in described.items() if key != "files"}}


def _evaluation(version: int, metrics: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "version": version,
        "metrics": metrics,
        "dataset_name": "holdout",
        "dataset_digest": "ab" * 32,
        "task": "classification",
        "rows": 500,
        **extra,
    }


def _beside_champion(version: int, metrics: dict[str, Any], champion: int, theirs: dict[str, Any]) -> dict[str, Any]:
    return _evaluation(version, metrics, alias="champion", champion_version=champion, champion_metrics=theirs)


def _champion(http: httpx.Client) -> int:
    number: int = ok(http.get(f"{M}/aliases/champion"))["version"]
    return number


def test_evaluations_are_stored_read_back_and_listed_per_version(http: httpx.Client, trained: dict[str, Any]) -> None:
    alone = ok(http.post(f"{M}/evaluations", json=_evaluation(1, {"accuracy": 0.8})), 201)
    assert (alone["champion"], alone["deltas"], alone["alias"]) == (None, {}, None)
    assert alone["candidate"]["version"] == 1 and alone["candidate"]["created_by"] == "local"

    ok(http.put(f"{M}/aliases/champion", json={"version": 1}))
    dataset_version_id = trained["dataset_version"]["id"]
    body = _beside_champion(
        2, {"accuracy": 0.9, "log_loss": "NaN"}, 1, {"accuracy": 0.85, "log_loss": 0.4, "auc": "Infinity"}
    )
    created = ok(http.post(f"{M}/evaluations", json={**body, "dataset_version_id": dataset_version_id}), 201)
    assert len(created["evaluation_id"]) == 32 and created["model_name"] == NAME and created["alias"] == "champion"
    candidate, champion = created["candidate"], created["champion"]
    assert (candidate["version"], champion["version"]) == (2, 1)
    assert candidate["metrics"] == {"accuracy": 0.9, "log_loss": "NaN"}
    assert champion["metrics"] == {"accuracy": 0.85, "log_loss": 0.4, "auc": "Infinity"}
    assert created["deltas"] == {"accuracy": pytest.approx(0.05), "log_loss": "NaN"}
    for row in (candidate, champion):
        assert row["evaluation_id"] == created["evaluation_id"]
        assert (row["dataset_name"], row["dataset_version_id"], row["task"], row["rows"]) == (
            "holdout",
            dataset_version_id,
            "classification",
            500,
        )
    assert ok(http.get(f"{M}/evaluations/{created['evaluation_id']}")) == created

    on_first = ok(http.get(f"{M}/versions/1/evaluations"))["evaluations"]
    assert [item["evaluation_id"] for item in on_first] == [created["evaluation_id"], alone["evaluation_id"]]
    assert on_first[0] == champion
    assert ok(http.get(f"{M}/versions/1/evaluations", params={"limit": 1}))["evaluations"] == [champion]
    assert ok(http.get(f"{M}/versions/2/evaluations"))["evaluations"] == [candidate]
    assert ok(http.get(f"{M}/versions/3/evaluations"))["evaluations"] == []


def test_promotion_passes_or_is_refused_with_the_rule_and_its_values(
    http: httpx.Client, trained: dict[str, Any]
) -> None:
    first = ok(http.post(f"{M}/promote", json={"version": 1}))
    assert first == {
        "model_name": NAME,
        "alias": "champion",
        "version": 1,
        "previous_version": None,
        "evaluation_id": None,
        "outcomes": [],
    }
    evaluation = ok(
        http.post(f"{M}/evaluations", json=_beside_champion(2, {"f1": 0.9, "rmse": 0.8}, 1, {"f1": 0.85, "rmse": 1.0})),
        201,
    )

    refused = error(
        http.post(f"{M}/promote", json={"version": 2, "require": ["f1 >= 0.5", "rmse < champion - 0.5"]}),
        409,
        "PROMOTION_REFUSED",
        "require",
    )
    assert refused["message"] == "promotion refused: rule 'rmse < champion - 0.5' failed (rmse = 0.8 fails < 0.5)"
    failed = {"rule": "rmse < champion - 0.5", "passed": False, "candidate": 0.8, "champion": 1.0, "required": 0.5}
    assert refused["details"]["rule"] == "rmse < champion - 0.5"
    assert {key: refused["details"]["failed"][key] for key in failed} == failed
    assert [(o["rule"], o["passed"]) for o in refused["details"]["outcomes"]] == [
        ("f1 >= 0.5", True),
        ("rmse < champion - 0.5", False),
    ]
    assert _champion(http) == 1

    rules = ["f1 >= 0.9", "f1 > champion + 0.01", "rmse < champion - 0.1"]
    moved = ok(http.post(f"{M}/promote", json={"version": "2", "alias": "champion", "require": rules}))
    assert (moved["version"], moved["previous_version"], moved["evaluation_id"]) == (2, 1, evaluation["evaluation_id"])
    outcome = moved["outcomes"][1]
    assert (outcome["rule"], outcome["passed"], outcome["candidate"], outcome["champion"]) == (
        rules[1],
        True,
        0.9,
        0.85,
    )
    assert outcome["required"] == pytest.approx(0.86)
    assert _champion(http) == 2
    # Other aliases move the same way; promoting to where the alias already points changes nothing.
    assert ok(http.post(f"{M}/promote", json={"version": 3, "alias": "challenger"}))["previous_version"] is None
    assert ok(http.post(f"{M}/promote", json={"version": 2}))["previous_version"] == 2
    events = ok(http.get(f"{M}/alias-history", params={"alias": "champion"}))["events"]
    assert [(e["from_version"], e["to_version"]) for e in events] == [(None, 1), (1, 2)]


def test_rollback_walks_back_through_the_alias_history(http: httpx.Client, trained: dict[str, Any]) -> None:
    for version in (1, 2, 3):
        ok(http.post(f"{M}/promote", json={"version": version}))
    back = ok(http.post(f"{M}/rollback"))
    assert (back["alias"], back["version"], back["previous_version"], back["outcomes"]) == ("champion", 2, 3, [])
    assert ok(http.post(f"{M}/rollback", json={"alias": "champion"}))["version"] == 1
    error(http.post(f"{M}/rollback", json={}), 409, "CONFLICT", "alias")
    assert _champion(http) == 1

    ok(http.post(f"{M}/promote", json={"version": 1, "alias": "challenger"}))
    ok(http.post(f"{M}/promote", json={"version": 3, "alias": "challenger"}))
    assert ok(http.post(f"{M}/rollback", json={"alias": "challenger"}))["version"] == 1
    assert _champion(http) == 1


def test_lineage_both_ways_and_dataset_version_lookup(http: httpx.Client, trained: dict[str, Any]) -> None:
    dataset_version = trained["dataset_version"]
    lineage = ok(http.get(f"{M}/versions/2/lineage"))
    assert lineage["version"] == ok(http.get(f"{M}/versions/2"))
    assert lineage["run"]["id"] == trained["run_id"] and lineage["git_commit"] == "feedc0de"
    [used] = lineage["inputs"]
    assert used["context"] == "training" and "profile" not in used["version"]
    assert (used["version"]["id"], used["version"]["dataset"], used["version"]["rows"]) == (
        dataset_version["id"],
        "churn-train",
        3,
    )

    trained_on = ok(http.get(f"/dataset-versions/{dataset_version['id']}/model-versions"))["versions"]
    assert [(item["model_name"], item["version"]) for item in trained_on] == [(NAME, 3), (NAME, 2), (NAME, 1)]
    other = ok(
        http.post(
            f"/runs/{make_run(http, 'gate')['id']}/datasets", json=_dataset("unused", pd.DataFrame({"z": [5.0, 6.0]}))
        ),
        201,
    )
    assert ok(http.get(f"/dataset-versions/{other['id']}/model-versions"))["versions"] == []

    newest = ok(http.get("/datasets/resolve", params={"name": "churn-train"}))
    assert newest == dataset_version
    by_digest = ok(
        http.get("/datasets/resolve", params={"name": "churn-train", "version": dataset_version["digest"][:8]})
    )
    assert by_digest["id"] == dataset_version["id"]
    by_id = ok(http.get("/datasets/resolve", params={"name": "churn-train", "version": dataset_version["id"]}))
    assert by_id["id"] == dataset_version["id"]


def test_a_version_whose_run_is_unknown_has_lineage_ending_at_the_version(
    http: httpx.Client, trained: dict[str, Any]
) -> None:
    outside = ok(http.post(f"{M}/versions", json={"source": "s3://bucket/model"}), 201)
    lineage = ok(http.get(f"{M}/versions/{outside['version']}/lineage"))
    assert (lineage["run"], lineage["inputs"], lineage["git_commit"]) == (None, [], None)


def test_bad_requests_get_clear_errors_and_change_nothing(http: httpx.Client, trained: dict[str, Any]) -> None:
    ok(http.post(f"{M}/promote", json={"version": 1}))
    stored = ok(http.post(f"{M}/evaluations", json=_beside_champion(2, {"f1": 0.9}, 1, {"f1": 0.8})), 201)
    ok(http.post("/models", json={"name": "other"}), 201)
    ok(http.post("/models/other/versions", json={"source": f"runs:/{trained['run_id']}/model"}), 201)
    evaluation_id = stored["evaluation_id"]
    dataset_version_id = trained["dataset_version"]["id"]

    def state() -> list[Any]:
        evaluations = [ok(http.get(f"{M}/versions/{n}/evaluations"))["evaluations"] for n in (1, 2, 3)]
        return [
            ok(http.get(M)),
            ok(http.get(f"{M}/alias-history"))["events"],
            evaluations,
            ok(http.get("/models/other")),
        ]

    before = state()
    good = _beside_champion(2, {"f1": 0.9}, 1, {"f1": 0.8})
    cases: list[tuple[str, str, dict[str, Any] | None, int, str, str | None]] = [
        # evaluations
        ("POST", f"{M}/evaluations", _evaluation(2, {"f1": "high"}), 400, "INVALID_ARGUMENT", "metrics"),
        (
            "POST",
            f"{M}/evaluations",
            {**good, "champion_metrics": {"f1": "x"}},
            400,
            "INVALID_ARGUMENT",
            "champion_metrics",
        ),
        ("POST", f"{M}/evaluations", _evaluation(2, {"f1": True}), 400, "INVALID_ARGUMENT", "metrics.f1"),
        ("POST", f"{M}/evaluations", _evaluation(2, {}), 400, "INVALID_ARGUMENT", "metrics"),
        ("POST", f"{M}/evaluations", _evaluation(2, {"bad key!": 1.0}), 400, "INVALID_ARGUMENT", "metrics"),
        ("POST", f"{M}/evaluations", {**good, "champion_metrics": None}, 400, "INVALID_ARGUMENT", "champion_version"),
        ("POST", f"{M}/evaluations", {**good, "champion_version": None}, 400, "INVALID_ARGUMENT", "champion_version"),
        ("POST", f"{M}/evaluations", {**good, "alias": None}, 400, "INVALID_ARGUMENT", "alias"),
        ("POST", f"{M}/evaluations", {**good, "champion_version": 3}, 409, "CONFLICT", "champion_version"),
        ("POST", f"{M}/evaluations", {**good, "version": 1}, 400, "INVALID_ARGUMENT", "champion_version"),
        ("POST", f"{M}/evaluations", {**good, "champion_version": 9}, 404, "NOT_FOUND", "version"),
        ("POST", f"{M}/evaluations", {**good, "alias": "latest"}, 400, "INVALID_ARGUMENT", "alias"),
        ("POST", f"{M}/evaluations", {**good, "task": "ranking"}, 400, "INVALID_ARGUMENT", "task"),
        ("POST", f"{M}/evaluations", {**good, "rows": 0}, 400, "INVALID_ARGUMENT", "rows"),
        ("POST", f"{M}/evaluations", {**good, "dataset_digest": ""}, 400, "INVALID_ARGUMENT", "dataset_digest"),
        ("POST", f"{M}/evaluations", {**good, "dataset_name": ""}, 400, "INVALID_ARGUMENT", "dataset_name"),
        (
            "POST",
            f"{M}/evaluations",
            {**good, "dataset_version_id": "x"},
            400,
            "INVALID_ARGUMENT",
            "dataset_version_id",
        ),
        (
            "POST",
            f"{M}/evaluations",
            {**good, "dataset_version_id": UNKNOWN_ID},
            404,
            "NOT_FOUND",
            "dataset_version_id",
        ),
        ("POST", f"{M}/evaluations", {**good, "colour": "red"}, 400, "INVALID_ARGUMENT", "colour"),
        ("POST", f"{M}/evaluations", {**good, "version": 9}, 404, "NOT_FOUND", "version"),
        ("POST", f"{M}/evaluations", {**good, "version": "abc"}, 400, "INVALID_ARGUMENT", "version"),
        ("POST", "/models/nope/evaluations", good, 404, "NOT_FOUND", "name"),
        ("GET", f"{M}/evaluations/not-an-id", None, 400, "INVALID_ARGUMENT", "evaluation_id"),
        ("GET", f"{M}/evaluations/{'A' * 32}", None, 400, "INVALID_ARGUMENT", "evaluation_id"),
        ("GET", f"{M}/evaluations/{UNKNOWN_ID}", None, 404, "NOT_FOUND", "evaluation_id"),
        ("GET", f"/models/other/evaluations/{evaluation_id}", None, 404, "NOT_FOUND", "evaluation_id"),
        ("GET", f"/models/nope/evaluations/{evaluation_id}", None, 404, "NOT_FOUND", "name"),
        ("GET", f"{M}/versions/9/evaluations", None, 404, "NOT_FOUND", "version"),
        ("GET", f"{M}/versions/0/evaluations", None, 400, "INVALID_ARGUMENT", "version"),
        ("GET", f"{M}/versions/1/evaluations", {"limit": 0}, 400, "INVALID_ARGUMENT", "limit"),
        ("GET", "/models/nope/versions/1/evaluations", None, 404, "NOT_FOUND", "name"),
        # promotion
        ("POST", f"{M}/promote", {"version": 2, "require": ["f1 ~ 0.9"]}, 400, "INVALID_ARGUMENT", "require"),
        ("POST", f"{M}/promote", {"version": 2, "require": ["champion > f1"]}, 400, "INVALID_ARGUMENT", "require"),
        ("POST", f"{M}/promote", {"version": 2, "require": "f1 > 0.5"}, 400, "INVALID_ARGUMENT", "require"),
        ("POST", f"{M}/promote", {"version": 2, "require": ["f1 >= 0.95"]}, 409, "PROMOTION_REFUSED", "require"),
        ("POST", f"{M}/promote", {"version": 3, "require": ["f1 >= 0.5"]}, 409, "PROMOTION_REFUSED", "version"),
        ("POST", f"{M}/promote", {"version": 2, "alias": "latest"}, 400, "INVALID_ARGUMENT", "alias"),
        ("POST", f"{M}/promote", {"version": 9}, 404, "NOT_FOUND", "version"),
        ("POST", f"{M}/promote", {"version": "abc"}, 400, "INVALID_ARGUMENT", "version"),
        ("POST", f"{M}/promote", {}, 400, "INVALID_ARGUMENT", "version"),
        ("POST", "/models/nope/promote", {"version": 1}, 404, "NOT_FOUND", "name"),
        # rollback: an alias never set has no history; one set once has nothing earlier
        ("POST", f"{M}/rollback", {"alias": "challenger"}, 404, "NOT_FOUND", "alias"),
        ("POST", f"{M}/rollback", None, 409, "CONFLICT", "alias"),
        ("POST", f"{M}/rollback", {"alias": "latest"}, 400, "INVALID_ARGUMENT", "alias"),
        ("POST", f"{M}/rollback", {"alias": "champion", "to": 1}, 400, "INVALID_ARGUMENT", "to"),
        ("POST", "/models/nope/rollback", None, 404, "NOT_FOUND", "name"),
        # lineage
        ("GET", f"{M}/versions/9/lineage", None, 404, "NOT_FOUND", "version"),
        ("GET", f"{M}/versions/abc/lineage", None, 400, "INVALID_ARGUMENT", "version"),
        ("GET", "/models/nope/versions/1/lineage", None, 404, "NOT_FOUND", "name"),
        ("GET", f"/dataset-versions/{UNKNOWN_ID}/model-versions", None, 404, "NOT_FOUND", "version_id"),
        ("GET", "/dataset-versions/not-an-id/model-versions", None, 400, "INVALID_ARGUMENT", "version_id"),
        ("GET", "/datasets/resolve", None, 400, "INVALID_ARGUMENT", "name"),
        ("GET", "/datasets/resolve", {"name": "nope"}, 404, "NOT_FOUND", "name"),
        ("GET", "/datasets/resolve", {"name": "churn-train", "version": "zz"}, 400, "INVALID_ARGUMENT", "version"),
        ("GET", "/datasets/resolve", {"name": "churn-train", "version": "0000"}, 400, "INVALID_ARGUMENT", "version"),
    ]
    for method, path, payload, status, code, field in cases:
        sent = {"params" if method == "GET" else "json": payload}
        found = error(http.request(method, path, **sent), status, code, field)
        assert len(found["message"]) > 10, (method, path, found)
    assert state() == before
    assert dataset_version_id == ok(http.get("/datasets/resolve", params={"name": "churn-train"}))["id"]


def test_gate_routes_are_described_in_openapi(server: str) -> None:
    paths = ok(httpx.get(f"{server}/openapi.json"))["paths"]
    expected = {
        "/api/v1/models/{name}/evaluations": "post",
        "/api/v1/models/{name}/evaluations/{evaluation_id}": "get",
        "/api/v1/models/{name}/versions/{version}/evaluations": "get",
        "/api/v1/models/{name}/promote": "post",
        "/api/v1/models/{name}/rollback": "post",
        "/api/v1/models/{name}/versions/{version}/lineage": "get",
        "/api/v1/dataset-versions/{version_id}/model-versions": "get",
        "/api/v1/datasets/resolve": "get",
    }
    for path, method in expected.items():
        assert paths[path][method]["tags"] == ["registry"], path
    assert "PROMOTION_REFUSED" in paths["/api/v1/models/{name}/promote"]["post"]["description"]
