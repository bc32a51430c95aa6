"""The API the web UI leans on, over HTTP on the real server (SQLite and PostgreSQL):

- ``GET /api/v1/projects/{id}/keys``: the param, metric and tag keys of a project's runs (column chooser);
- ``POST /api/v1/runs/count``: how many runs match a filter (the table's "of N");
- ``POST /api/v1/runs/histories``: many (run, key) histories in one request (charts).
"""

from __future__ import annotations

import json
from typing import Any

import httpx
from api_helpers import T0, error, history, log, make_project, make_run, ok, search, series

UNKNOWN_ID = "0123456789abcdef0123456789abcdef"
NO_KEYS: dict[str, list[str]] = {"params": [], "metrics": [], "tags": []}


def _strict_json(response: httpx.Response) -> Any:
    """The body as standard JSON: NaN and Infinity must come as strings, never as bare tokens."""

    def refuse(token: str) -> float:
        raise AssertionError(f"the server sent the non-JSON token {token}")

    return json.loads(response.text, parse_constant=refuse)


def _seed(client: httpx.Client) -> dict[str, dict[str, Any]]:
    """Five runs in project "ui" with keys that need quoting in filters, and one run in "other"."""
    rows: list[tuple[str, dict[str, str], dict[str, str], dict[str, float]]] = [
        ("a", {"model": "rf", "batch size": "32"}, {"team": "vision"}, {"acc": 0.9, "val/loss": 0.3}),
        ("b", {"model": "rf", "batch size": "64"}, {"team": "nlp"}, {"acc": 0.7, "val/loss": 0.5}),
        ("c", {"model": "sgd", "optimizer.lr": "0.1"}, {"ci run": "yes"}, {"acc": 0.8, "train:f1": 0.6}),
        ("d", {"model": "mlp"}, {}, {"acc": 0.95}),
        ("e", {}, {}, {}),
    ]
    runs: dict[str, dict[str, Any]] = {}
    for index, (name, params, tags, metrics) in enumerate(rows):
        run = make_run(client, "ui", name=name, start_time=T0 + index, params=params, tags=tags)
        if metrics:
            log(client, run["id"], metrics=[series(key, [0.0, value]) for key, value in metrics.items()])
        runs[name] = run
    runs["outsider"] = make_run(client, "other", name="outsider", params={"elsewhere": "1"})
    return runs


# keys -------------------------------------------------------------------------------------------------------


def test_project_keys_list_params_metrics_and_tags(client: httpx.Client) -> None:
    runs = _seed(client)
    project_id = runs["a"]["project_id"]
    keys = ok(client.get(f"/projects/{project_id}/keys"))
    assert keys == {
        "params": ["batch size", "model", "optimizer.lr"],
        "metrics": ["acc", "train:f1", "val/loss"],
        "tags": ["ci run", "team"],
    }
    # Nothing from the other project; nothing deleted yet.
    assert ok(client.get(f"/projects/{runs['outsider']['project_id']}/keys")) == {
        "params": ["elsewhere"],
        "metrics": [],
        "tags": [],
    }
    assert ok(client.get(f"/projects/{project_id}/keys", params={"deleted": "true"})) == NO_KEYS
    # Deleting the only run with a key moves that key to the deleted view.
    ok(client.post("/runs/delete", json={"run_ids": [runs["c"]["id"]]}))
    assert ok(client.get(f"/projects/{project_id}/keys")) == {
        "params": ["batch size", "model"],
        "metrics": ["acc", "val/loss"],
        "tags": ["team"],
    }
    assert ok(client.get(f"/projects/{project_id}/keys", params={"deleted": "true"})) == {
        "params": ["model", "optimizer.lr"],
        "metrics": ["acc", "train:f1"],
        "tags": ["ci run"],
    }
    # A project without runs has no keys.
    empty = make_project(client, "no-runs")
    assert ok(client.get(f"/projects/{empty['id']}/keys")) == NO_KEYS
    # Unknown projects are not found; a flag that is no boolean is refused.
    error(client.get(f"/projects/{UNKNOWN_ID}/keys"), 404, "NOT_FOUND")
    error(client.get("/projects/not-an-id/keys"), 404, "NOT_FOUND")
    error(client.get(f"/projects/{project_id}/keys", params={"deleted": "maybe"}), 400, "INVALID_ARGUMENT", "deleted")


# count ------------------------------------------------------------------------------------------------------

COUNT_CASES: list[tuple[str | None, int]] = [
    (None, 5),
    ("", 5),
    ("params.model = 'rf'", 2),
    ("params.`batch size` >= 64", 1),
    ("metrics.`val/loss` < 0.4 or tags.`ci run` = 'yes'", 2),
    ("metrics.acc > 0.75 and params.model != 'rf'", 2),
    ("metrics.`train:f1` > 0", 1),
    ("params.`optimizer.lr` = 0.1", 1),
    ("tags.team in ('vision', 'nlp')", 2),
    ("params.nothing = 'x'", 0),
]


def test_count_matches_search_and_refuses_bad_requests(client: httpx.Client) -> None:
    runs = _seed(client)
    project_id = runs["a"]["project_id"]
    for text, expected in COUNT_CASES:
        body: dict[str, Any] = {"projects": ["ui"]} if text is None else {"projects": ["ui"], "filter": text}
        assert ok(client.post("/runs/count", json=body)) == {"count": expected}, text
        assert len(search(client, **body, limit=1000)["runs"]) == expected, text
        by_id = {"project_ids": [project_id], "filter": text}
        assert ok(client.post("/runs/count", json=by_id)) == {"count": expected}, text
    # Names and ids together; both name the same project once.
    other_id = runs["outsider"]["project_id"]
    assert ok(client.post("/runs/count", json={"projects": ["ui"], "project_ids": [other_id]})) == {"count": 6}
    assert ok(client.post("/runs/count", json={"projects": ["ui"], "project_ids": [project_id]})) == {"count": 5}
    # Deleted runs count in their own view.
    ok(client.post("/runs/delete", json={"run_ids": [runs["a"]["id"], runs["d"]["id"]]}))
    assert ok(client.post("/runs/count", json={"projects": ["ui"]})) == {"count": 3}
    assert ok(client.post("/runs/count", json={"projects": ["ui"], "deleted": True})) == {"count": 2}
    deleted_rf = {"projects": ["ui"], "deleted": True, "filter": "params.model = 'rf'"}
    assert ok(client.post("/runs/count", json=deleted_rf)) == {"count": 1}
    make_project(client, "empty")
    assert ok(client.post("/runs/count", json={"projects": ["empty"]})) == {"count": 0}
    # Unknown projects, no project, unknown fields.
    error(client.post("/runs/count", json={"projects": ["nope"]}), 404, "NOT_FOUND", "projects")
    error(client.post("/runs/count", json={"project_ids": [UNKNOWN_ID]}), 404, "NOT_FOUND")
    error(client.post("/runs/count", json={"projects": ["ui", "nope"]}), 404, "NOT_FOUND", "projects")
    error(client.post("/runs/count", json={}), 400, "INVALID_ARGUMENT", "project_ids")
    error(client.post("/runs/count", json={"projects": []}), 400, "INVALID_ARGUMENT", "project_ids")
    error(client.post("/runs/count", json={"projects": ["ui"], "limit": 3}), 400, "INVALID_ARGUMENT", "limit")
    error(client.post("/runs/count", json={"projects": "ui"}), 400, "INVALID_ARGUMENT", "projects")
    broken = client.post("/runs/count", content=b"{", headers={"Content-Type": "application/json"})
    error(broken, 400, "INVALID_ARGUMENT")
    # A bad filter names the field and the offset of the fault, as search does.
    for text, position in [
        ("metrics.acc >", 13),
        ("metrics.acc >> 1", 12),
        ("params.model = 'rf' and (", 25),
        ("params.`batch size = 1", 7),
        ("colour = 'red'", 0),
        ("metrics.acc like 'x%'", 12),
    ]:
        failed = error(
            client.post("/runs/count", json={"projects": ["ui"], "filter": text}), 400, "INVALID_ARGUMENT", "filter"
        )
        assert failed["details"] == {"position": position}, (text, failed)
        same = error(
            client.post("/runs/search", json={"projects": ["ui"], "filter": text}), 400, "INVALID_ARGUMENT", "filter"
        )
        assert same["message"] == failed["message"]


# histories --------------------------------------------------------------------------------------------------


def test_histories_return_every_pair_in_order_with_options(client: httpx.Client) -> None:
    first = make_run(client, "h", name="first")["id"]
    second = make_run(client, "h", name="second")["id"]
    log(
        client,
        first,
        metrics=[
            series("loss", [0.9, 0.5, 0.25]),
            series("val/acc:top 1", [0.1, "NaN", "Infinity", "-Infinity", 0.4]),
        ],
    )
    log(client, second, metrics=[series("loss", [2.0, 1.0])])
    body = {"run_ids": [first, second, first], "keys": ["loss", "val/acc:top 1", "missing", "loss"]}
    response = client.post("/runs/histories", json=body)
    assert response.status_code == 200, response.text
    histories = _strict_json(response)["histories"]
    # Run by run, key by key, each pair once in the order first asked for.
    pairs = [(item["run_id"], item["key"]) for item in histories]
    assert pairs == [(run, key) for run in (first, second) for key in ("loss", "val/acc:top 1", "missing")]
    by_pair = {(item["run_id"], item["key"]): item for item in histories}
    assert by_pair[first, "loss"] == {
        "run_id": first,
        "key": "loss",
        "steps": [0, 1, 2],
        "values": [0.9, 0.5, 0.25],
        "timestamps": [T0, T0 + 1, T0 + 2],
        "total": 3,
        "downsampled": False,
    }
    # Non-finite values come as strings, the same way the single-history endpoint sends them.
    odd = by_pair[first, "val/acc:top 1"]
    assert odd["values"] == [0.1, "NaN", "Infinity", "-Infinity", 0.4]
    assert odd["steps"] == [0, 1, 2, 3, 4]
    for (run_id, key), item in by_pair.items():
        assert item == history(client, run_id, key), (run_id, key)
    # A key a run never logged gives an empty series, not an error.
    for run_id, key in [(first, "missing"), (second, "missing"), (second, "val/acc:top 1")]:
        assert by_pair[run_id, key] == {
            "run_id": run_id,
            "key": key,
            "steps": [],
            "values": [],
            "timestamps": [],
            "total": 0,
            "downsampled": False,
        }
    # Step ranges and downsampling apply to each series, as on the single-history endpoint.
    run_id = make_run(client, "h", name="long")["id"]
    log(client, run_id, metrics=[series("train loss", [float(step % 7) for step in range(500)])])
    ranged_body = {"run_ids": [run_id], "keys": ["train loss"], "min_step": 100, "max_step": 399}
    (ranged,) = ok(client.post("/runs/histories", json=ranged_body))["histories"]
    assert ranged["steps"] == list(range(100, 400))
    assert ranged["total"] == 300 and not ranged["downsampled"]
    for method in ("minmax", "lttb"):
        (small,) = ok(client.post("/runs/histories", json={**ranged_body, "points": 50, "method": method}))["histories"]
        assert small["downsampled"] and small["total"] == 300, method
        assert 3 <= len(small["steps"]) <= 50, method
        assert small["steps"] == sorted(small["steps"]) and small["steps"][0] >= 100 and small["steps"][-1] <= 399
        single = history(client, run_id, "train loss", min_step=100, max_step=399, points=50, method=method)
        assert small == single, method


def test_histories_refuse_bad_requests(client: httpx.Client) -> None:
    run_id = make_run(client, "h")["id"]
    log(client, run_id, metrics={"loss": [1.0]})

    def histories(**body: Any) -> httpx.Response:
        return client.post("/runs/histories", json=body)

    # Empty lists and missing fields.
    error(histories(run_ids=[], keys=["loss"]), 400, "INVALID_ARGUMENT", "run_ids")
    error(histories(run_ids=[run_id], keys=[]), 400, "INVALID_ARGUMENT", "keys")
    error(histories(keys=["loss"]), 400, "INVALID_ARGUMENT", "run_ids")
    error(histories(run_ids=[run_id]), 400, "INVALID_ARGUMENT", "keys")
    error(histories(run_ids=[run_id], keys=["loss"], colour="red"), 400, "INVALID_ARGUMENT", "colour")
    # Too many runs, keys or (run, key) pairs; exactly the limit is fine.
    runs = [run_id, *(make_run(client, "h", name=f"r{index}")["id"] for index in range(24))]
    forty = [f"k{index}" for index in range(40)]
    assert len(ok(histories(run_ids=runs, keys=forty))["histories"]) == 1000
    failed = error(histories(run_ids=runs, keys=[*forty, "k40"]), 400, "INVALID_ARGUMENT", "keys")
    assert "1000" in failed["message"]
    error(histories(run_ids=[UNKNOWN_ID] * 51, keys=["loss"]), 400, "INVALID_ARGUMENT", "run_ids")
    keys = [f"k{index}" for index in range(201)]
    error(histories(run_ids=[run_id], keys=keys), 400, "INVALID_ARGUMENT", "keys")
    # Unknown and malformed runs, keys with characters keys may not hold.
    error(histories(run_ids=[run_id, UNKNOWN_ID], keys=["loss"]), 404, "NOT_FOUND", "run_id")
    error(histories(run_ids=["not-a-run-id"], keys=["loss"]), 400, "INVALID_ARGUMENT", "run_id")
    for bad_key in ["", "a<b", " loss", "x" * 251]:
        error(histories(run_ids=[run_id], keys=[bad_key]), 400, "INVALID_ARGUMENT", "key")
    # Step ranges and downsampling options.
    error(histories(run_ids=[run_id], keys=["loss"], min_step=5, max_step=4), 400, "INVALID_ARGUMENT", "min_step")
    error(histories(run_ids=[run_id], keys=["loss"], points=2), 400, "INVALID_ARGUMENT", "points")
    error(histories(run_ids=[run_id], keys=["loss"], points=100_001), 400, "INVALID_ARGUMENT", "points")
    error(histories(run_ids=[run_id], keys=["loss"], method="mean"), 400, "INVALID_ARGUMENT", "method")
    error(histories(run_ids=[run_id], keys=["loss"], min_step="x"), 400, "INVALID_ARGUMENT", "min_step")
    # Nothing was refused half-way: the run's own history is untouched.
    assert history(client, run_id, "loss")["values"] == [1.0]


def test_a_runs_histories_come_whole_in_one_get(client: httpx.Client) -> None:
    run_id = make_run(client, "all-histories")["id"]
    long = [float(step % 7) for step in range(5000)]
    log(client, run_id, metrics=[series("loss", long), series("acc", [0.5, "NaN", 0.7]), series("z/last", [1.0])])
    answer = _strict_json(client.get(f"/runs/{run_id}/metrics/histories", params={"points": 100}))
    by_key = {item["key"]: item for item in answer["histories"]}
    # Every key of the run, ordered by key, each downsampled like the single-history endpoint does it.
    assert [item["key"] for item in answer["histories"]] == ["acc", "loss", "z/last"]
    assert by_key["acc"]["values"] == [0.5, "NaN", 0.7]
    assert by_key["loss"]["total"] == 5000 and by_key["loss"]["downsampled"] is True
    assert by_key["loss"] == history(client, run_id, "loss", points=100)
    whole = _strict_json(client.get(f"/runs/{run_id}/metrics/histories"))
    assert {item["key"]: len(item["steps"]) for item in whole["histories"]} == {"acc": 3, "loss": 5000, "z/last": 1}
    # A run without metrics answers an empty list; bad requests are named.
    empty = make_run(client, "all-histories")["id"]
    assert _strict_json(client.get(f"/runs/{empty}/metrics/histories")) == {"histories": []}
    error(client.get(f"/runs/{'0' * 32}/metrics/histories"), 404, "NOT_FOUND")
    error(client.get(f"/runs/{run_id}/metrics/histories", params={"points": 2}), 400, "INVALID_ARGUMENT", "points")
    error(client.get(f"/runs/{run_id}/metrics/histories", params={"method": "x"}), 400, "INVALID_ARGUMENT", "method")
