"""Datasets over HTTP on both backends: content-addressed versions, runs per version, readiness, lineage."""

from __future__ import annotations

from typing import Any

import httpx
import pandas as pd
from api_helpers import error, make_run, ok

from ridgeline.services.dataset_description import describe


def version_body(data: Any, name: str, context: str = "training") -> dict[str, Any]:
    described = describe(data)
    return {
        "name": name,
        "context": context,
        "digest": described.digest,
        "kind": described.kind,
        "rows": described.rows,
        "size_bytes": described.size_bytes,
        "schema": described.schema,
        "profile": described.profile,
        "source": described.source or "memory",
    }


def frame(shift: int = 0) -> pd.DataFrame:
    return pd.DataFrame({"x": [1 + shift, 2, 3], "label": ["a", "b", "a"]})


def test_the_same_content_from_two_runs_is_one_version_used_by_both(client: httpx.Client) -> None:
    first = make_run(client, "ds", name="first")["id"]
    second = make_run(client, "ds", name="second")["id"]
    v1 = ok(client.post(f"/runs/{first}/datasets", json=version_body(frame(), "churn")), 201)
    again = ok(client.post(f"/runs/{second}/datasets", json=version_body(frame(), "churn", "validation")), 201)
    assert again["id"] == v1["id"] and again["run_count"] == 2
    assert v1["rows"] == 3 and v1["kind"] == "dataframe" and v1["profile"]["columns"][0]["name"] == "x"
    v2 = ok(client.post(f"/runs/{second}/datasets", json=version_body(frame(shift=1), "churn")), 201)
    assert v2["id"] != v1["id"] and v2["run_count"] == 1
    # Logging the same thing twice changes nothing.
    ok(client.post(f"/runs/{first}/datasets", json=version_body(frame(), "churn")), 201)

    listed = ok(client.get("/datasets"))["datasets"]
    assert [(d["name"], d["version_count"]) for d in listed] == [("churn", 2)]
    by_name = ok(client.get("/datasets/by-name", params={"name": "churn"}))
    assert {v["id"] for v in by_name["versions"]} == {v1["id"], v2["id"]}
    assert "profile" not in by_name["versions"][0]
    users = ok(client.get(f"/dataset-versions/{v1['id']}/runs"))["runs"]
    assert sorted((u["run"]["name"], u["context"]) for u in users) == [("first", "training"), ("second", "validation")]

    lineage = ok(client.get(f"/runs/{second}/lineage"))
    assert sorted((i["version"]["id"], i["context"]) for i in lineage["inputs"]) == sorted(
        [(v1["id"], "validation"), (v2["id"], "training")]
    )
    assert lineage["outputs"] == {"artifacts": []}


def test_a_version_is_marked_ready_with_who_and_when(client: httpx.Client) -> None:
    run_id = make_run(client, "ds-ready")["id"]
    version = ok(client.post(f"/runs/{run_id}/datasets", json=version_body(frame(), "ready-data")), 201)
    assert version["ready"] is False and version["ready_at"] is None
    ready = ok(client.post(f"/dataset-versions/{version['id']}/ready"))
    assert ready["ready"] is True and ready["ready_by"] == "local" and ready["ready_at"] >= version["created_at"]
    withdrawn = ok(client.post(f"/dataset-versions/{version['id']}/ready", json={"ready": False}))
    assert withdrawn["ready"] is False and withdrawn["ready_by"] is None


def test_bad_dataset_requests_are_named(client: httpx.Client) -> None:
    run_id = make_run(client, "ds-bad")["id"]
    good = version_body(frame(), "bad-data")
    cases = [
        ({**good, "digest": "abc"}, "digest"),
        ({**good, "digest": "G" * 64}, "digest"),
        ({**good, "kind": "tensor"}, "kind"),
        ({**good, "rows": -1}, "rows"),
        ({**good, "name": ""}, "name"),
        ({**good, "context": "x" * 51}, "context"),
        ({**good, "schema": "a,b"}, "schema"),
        ({**good, "surprise": 1}, "surprise"),
    ]
    for body, field in cases:
        error(client.post(f"/runs/{run_id}/datasets", json=body), 400, "INVALID_ARGUMENT", field)
    error(client.post(f"/runs/{'0' * 32}/datasets", json=good), 404, "NOT_FOUND")
    error(client.get("/dataset-versions/nope"), 400, "INVALID_ARGUMENT")
    error(client.get(f"/dataset-versions/{'0' * 32}"), 404, "NOT_FOUND")
    error(client.post(f"/dataset-versions/{'0' * 32}/ready"), 404, "NOT_FOUND")
    error(client.get("/datasets/by-name", params={"name": "never-logged"}), 404, "NOT_FOUND")
    # Nothing half-written: the refused requests left no dataset behind.
    assert ok(client.get("/datasets"))["datasets"] == []
