"""/api/v1/model-servers on SQLite and PostgreSQL: servers report, are listed per model, and go away."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pyarrow.dataset as ds
import pytest

from ridgeline.domain.ids import new_id, now_ms
from ridgeline.serving.options import ServeOptions
from ridgeline.store.metadata import MetadataStore
from ridgeline.store.model_servers import ModelServer, ModelServerStore
from serving.support import fitted, register_versions, scoring_server
from support.servers import free_port

BODY = {"dataframe_records": [{"x1": 0.25, "x2": 0.5}]}


def _report(**changes: object) -> dict[str, object]:
    return {
        "model": "house",
        "uri": "models:/house@champion",
        "url": "http://127.0.0.1:5180",
        "version": 1,
        "started_at": now_ms(),
        "canary": {"alias": "challenger", "share": 10, "version": 2},
        "shadow": None,
        **changes,
    }


@pytest.fixture
def api(server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{server}/api/v1") as http:
        assert http.post("/models", json={"name": "house"}).status_code in (200, 201)
        assert http.post("/models", json={"name": "other"}).status_code in (200, 201)
        yield http


def test_report_list_refresh_and_remove(api: httpx.Client) -> None:
    first, second = new_id(), new_id()
    created = api.put(f"/model-servers/{first}", json=_report())
    assert created.status_code == 200, created.text
    assert created.json()["canary"] == {"alias": "challenger", "share": 10, "version": 2}
    api.put(f"/model-servers/{second}", json=_report(model="other", canary=None, shadow={"alias": "b", "version": 3}))
    started = created.json()["started_at"]
    moved = api.put(f"/model-servers/{first}", json=_report(version=2, started_at=started + 5)).json()
    assert moved["version"] == 2
    assert moved["started_at"] == started  # the first report's start time stays
    assert moved["last_seen_at"] >= created.json()["last_seen_at"]
    listed = api.get("/model-servers", params={"model": "house"}).json()["servers"]
    assert [(server["id"], server["version"], server["model"]) for server in listed] == [(first, 2, "house")]
    assert {server["id"] for server in api.get("/model-servers").json()["servers"]} == {first, second}
    assert api.delete(f"/model-servers/{first}").status_code == 204
    assert [server["id"] for server in api.get("/model-servers").json()["servers"]] == [second]
    assert api.delete(f"/model-servers/{first}").json()["error"]["code"] == "NOT_FOUND"


def test_stale_servers_are_hidden_unless_asked(api: httpx.Client, store: MetadataStore) -> None:
    """A server silent for over a minute (killed, crashed) is not listed as running."""
    live, gone = new_id(), new_id()
    api.put(f"/model-servers/{live}", json=_report())
    long_ago = now_ms() - 3_600_000
    model_id = store.registry.get_model("house").id
    silent = ModelServer(gone, "house", "models:/house/1", "http://10.0.0.9:5180", 1, None, None, long_ago, long_ago)
    ModelServerStore(store.database).save(silent, model_id)
    assert [server["id"] for server in api.get("/model-servers").json()["servers"]] == [live]
    listed = api.get("/model-servers", params={"include_stale": "true"}).json()["servers"]
    assert [server["id"] for server in listed] == [live, gone]


@pytest.mark.parametrize(
    ("server_id", "body", "status", "field"),
    [
        ("not-an-id", _report(), 400, "server_id"),
        (new_id(), _report(model="nosuch"), 404, "name"),
        (new_id(), _report(version=0), 400, "version"),
        (new_id(), _report(version="2"), 400, "version"),
        (new_id(), _report(canary={"alias": "challenger", "share": 150}), 400, "canary.share"),
        (new_id(), _report(canary={"share": 5}), 400, "canary"),
        (new_id(), _report(shadow={"alias": "bad alias!"}), 400, "shadow.alias"),
        (new_id(), _report(started_at=-1), 400, "started_at"),
        (new_id(), {**_report(), "extra": 1}, 400, "extra"),
    ],
    ids=["bad-id", "unknown-model", "version-0", "version-string", "share", "no-alias", "alias", "started", "extra"],
)
def test_bad_reports(
    api: httpx.Client, server_id: str, body: dict[str, object], status: int, field: str | None
) -> None:
    response = api.put(f"/model-servers/{server_id}", json=body)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    if field is not None:
        assert error["field"] == field
    assert api.get("/model-servers").json()["servers"] == []


def _row(**changes: object) -> dict[str, object]:
    return {
        "request_id": "r1",
        "row": 0,
        "timestamp": now_ms(),
        "model": "house",
        "version": 1,
        "role": "primary",
        "latency_ms": 0.5,
        "inputs": '{"x1": 1.0}',
        "output": "2.5",
        "error": None,
        **changes,
    }


def test_predictions_sent_to_the_tracking_server(api: httpx.Client, home: Path) -> None:
    server_id = new_id()
    api.put(f"/model-servers/{server_id}", json=_report())
    rows = [_row(row=0), _row(row=1, role="shadow", output=None, error="ValueError: no")]
    assert api.post(f"/model-servers/{server_id}/predictions", json={"rows": rows}).status_code == 204
    logged = ds.dataset(home / "predictions", format="parquet", partitioning="hive").to_table().to_pylist()
    assert sorted((row["row"], row["role"], row["output"], row["error"]) for row in logged) == [
        (0, "primary", "2.5", None),
        (1, "shadow", None, "ValueError: no"),
    ]


@pytest.mark.parametrize(
    ("rows", "status", "field"),
    [
        ([], 400, "rows"),
        ([_row(model="other")], 400, "rows[0].model"),
        ([_row(role="backup")], 400, "rows[0].role"),
        ([_row(timestamp=-5)], 400, "rows[0].timestamp"),
        ([_row(row="0")], 400, "rows.0.row"),
        ([{**_row(), "extra": 1}], 400, "rows.0.extra"),
    ],
    ids=["none", "other-model", "role", "timestamp", "row-string", "extra"],
)
def test_bad_prediction_rows(api: httpx.Client, home: Path, rows: list[object], status: int, field: str) -> None:
    server_id = new_id()
    api.put(f"/model-servers/{server_id}", json=_report())
    response = api.post(f"/model-servers/{server_id}/predictions", json={"rows": rows})
    assert response.status_code == status, response.text
    assert response.json()["error"]["field"] == field
    assert not (home / "predictions").exists()
    unknown = api.post(f"/model-servers/{new_id()}/predictions", json={"rows": [_row()]})
    assert unknown.json()["error"]["code"] == "NOT_FOUND"


def test_a_model_server_with_a_remote_tracking_uri(server: str, home: Path, tmp_path: Path) -> None:
    """Reports itself and ships its predictions to the tracking server: nothing is written on its side."""
    with register_versions(server, "house", 1) as client:
        client.set_model_alias("house", "champion", 1)
    options = ServeOptions(uri="models:/house@champion")
    with scoring_server(tmp_path, options, {1: fitted(1)}, tracking_uri=server) as (url, runtime):
        for index in range(3):
            assert httpx.post(f"{url}/invocations", json=BODY, headers={"X-Request-Id": f"q{index}"}).is_success
        listed = httpx.get(f"{server}/api/v1/model-servers").json()["servers"]
        assert [(entry["id"], entry["url"], entry["version"]) for entry in listed] == [
            (runtime.options.server_id, url, 1)
        ]
    assert httpx.get(f"{server}/api/v1/model-servers").json()["servers"] == []
    logged = ds.dataset(home / "predictions", format="parquet", partitioning="hive").to_table().to_pylist()
    assert sorted(row["request_id"] for row in logged) == ["q0", "q1", "q2"]
    assert not (tmp_path / "predictions").exists()


def test_a_tracking_server_that_is_down_costs_serving_nothing(tmp_path: Path) -> None:
    """Reports and predictions for a tracking server nobody answers at: every request still answered, the
    predictions that could not be delivered counted, and the server stops cleanly."""
    with register_versions(tmp_path, "house", 1) as client:
        client.set_model_alias("house", "champion", 1)
    nowhere = f"http://127.0.0.1:{free_port()}"
    options = ServeOptions(uri="models:/house@champion")
    with scoring_server(tmp_path, options, {1: fitted(1)}, registry=str(tmp_path), tracking_uri=nowhere) as (
        url,
        runtime,
    ):
        statuses = [httpx.post(f"{url}/invocations", json=BODY).status_code for _ in range(20)]
    assert statuses == [200] * 20
    assert runtime.metrics.dropped_predictions == 20
    assert not (tmp_path / "predictions").exists()
