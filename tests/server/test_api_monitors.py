"""/api/v1/monitors on the real server (SQLite and PostgreSQL): the whole life of a monitor over REST, and every
bad request answered with the documented error shape, naming the field, changing nothing."""

from __future__ import annotations

from typing import Any

import httpx
import numpy as np
import pytest

from ridgeline.monitoring.reference import Reference

HOUR = 3_600_000
T0 = 1_790_000_000_000 - 1_790_000_000_000 % HOUR
METADATA = "http://169.254.169.254/latest/meta-data/"  # the cloud's credentials: never an alert channel


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def _registered(client: httpx.Client) -> None:
    ok(client.post("/models", json={"name": "churn"}), 201)
    ok(client.post("/models/churn/versions", json={"source": "s3://bucket/churn/1"}), 201)
    ok(client.put("/models/churn/aliases/champion", json={"version": 1}))


def _reference() -> dict[str, Any]:
    generator = np.random.default_rng(0)
    return Reference.build(
        {"age": generator.normal(40, 10, 2000), "plan": generator.choice(["a", "b"], 2000)}
    ).to_json()


def _monitor(client: httpx.Client, **extra: Any) -> dict[str, Any]:
    body = {"model": "churn@champion", "reference": _reference(), "window": "1h", **extra}
    created: dict[str, Any] = ok(client.post("/monitors", json=body), 201)
    return created


def test_a_monitor_over_rest(client: httpx.Client, monkeypatch: pytest.MonkeyPatch) -> None:
    # The webhook is on loopback, which outbound requests reach only when the allow-list names it.
    monkeypatch.setenv("RIDGELINE_OUTBOUND_ALLOW", "127.0.0.1")
    _registered(client)
    created = _monitor(
        client,
        segment_by=["country"],
        rules=["drift on at least 1 features in whole population"],
        channels=[{"type": "webhook", "url": "http://127.0.0.1:9/hook", "secret": "hidden"}],
    )
    assert created["name"] == "churn-champion" and created["target"] == "churn@champion"
    assert created["window"] == "1h" and created["channels"][0]["secret"] == "***"
    assert [(p["number"], p["model_version"]) for p in created["periods"]] == [(1, 1)]
    generator = np.random.default_rng(1)
    body = {
        "inputs": {"age": generator.normal(60, 10, 400).tolist(), "plan": ["a"] * 400},
        "predictions": [1, 0] * 200,
        "ids": [f"r{index}" for index in range(400)],
        "timestamps": [T0 + index * 1000 for index in range(400)],
        "tags": {"country": ["IT", "FR"] * 200},
    }
    assert ok(client.post("/monitors/churn-champion/predictions", json=body)) == {
        "rows": 400,
        "windows": 1,
        "periods": [1],
    }
    assert ok(client.post("/monitors/churn-champion/actuals", json={"ids": ["r0", "r1"], "values": [1, 1]})) == {
        "rows": 2,
        "matched": 2,
        "windows": 1,
    }
    rows = ok(client.get("/monitors/churn-champion/report"))["rows"]
    assert {row["feature"] for row in rows} == {"age", "plan", "*"}
    assert next(row for row in rows if row["feature"] == "age")["drift"] is True
    assert next(row for row in rows if row["feature"] == "*")["accuracy"] == 0.5
    segments = ok(client.get("/monitors/churn-champion/report", params={"segment": "country"}))["rows"]
    assert {row["segment"] for row in segments} == {"country=IT", "country=FR"}
    shown = ok(client.get("/monitors/churn-champion/distribution", params={"feature": "plan", "window_start": T0}))
    assert shown["kind"] == "categorical" and sum(shown["window"]) == 400
    [alert] = ok(client.post("/monitors/churn-champion/evaluate"))["alerts"]
    assert alert["status"] == "raised" and alert["deliveries"][0]["ok"] is False
    assert [a["id"] for a in ok(client.get("/monitors/churn-champion/alerts"))["alerts"]] == [alert["id"]]
    assert ok(client.get("/monitors/churn-champion/alerts", params={"status": "resolved"}))["alerts"] == []
    patched = ok(client.patch("/monitors/churn-champion", json={"rules": ["f1 < 0.5"], "description": "watch"}))
    assert patched["description"] == "watch" and patched["rules"][0]["statistic"] == "f1"
    assert [m["name"] for m in ok(client.get("/monitors", params={"model": "churn"}))["monitors"]] == ["churn-champion"]
    assert ok(client.post("/monitors/ingest")) == {"ingested": {}}
    ok(client.delete("/monitors/churn-champion"), 204)
    assert ok(client.get("/monitors"))["monitors"] == []


def test_bad_requests_name_the_field_and_change_nothing(client: httpx.Client) -> None:
    _registered(client)
    _monitor(client)
    before = ok(client.get("/monitors/churn-champion"))
    good = {"inputs": {"age": [1.0, 2.0]}, "predictions": [1, 0]}
    cases: list[tuple[str, str, Any, int, str, str | None]] = [
        ("POST", "/monitors", {"model": "churn@champion", "reference": _reference()}, 409, "ALREADY_EXISTS", "name"),
        ("POST", "/monitors", {"model": "churn@champion", "window": "5 years"}, 400, "INVALID_ARGUMENT", "window"),
        ("POST", "/monitors", {"model": "churn"}, 400, "INVALID_ARGUMENT", "model"),
        ("POST", "/monitors", {"model": "ghost@champion", "name": "g"}, 404, "NOT_FOUND", "model"),
        ("POST", "/monitors", {"model": "churn@nobody", "name": "n"}, 404, "NOT_FOUND", "model"),
        (
            "POST",
            "/monitors",
            {"model": "churn/1", "name": "x", "reference": {"format": 9}},
            400,
            "INVALID_ARGUMENT",
            "reference",
        ),
        ("POST", "/monitors", {"model": "churn/1", "name": "y", "rules": ["psi >"]}, 400, "INVALID_ARGUMENT", "rules"),
        ("POST", "/monitors", {"model": "churn/1", "name": "z", "surprise": 1}, 400, "INVALID_ARGUMENT", None),
        (
            "POST",
            "/monitors",
            {"model": "churn/1", "name": "m", "channels": [{"type": "webhook", "url": METADATA, "secret": "k"}]},
            400,
            "INVALID_ARGUMENT",
            "url",
        ),
        ("POST", "/monitors/churn-champion/predictions", {**good, "predictions": [1]}, 400, "INVALID_ARGUMENT", "age"),
        ("POST", "/monitors/churn-champion/predictions", {**good, "ids": ["a"]}, 400, "INVALID_ARGUMENT", "ids"),
        (
            "POST",
            "/monitors/churn-champion/predictions",
            {**good, "timestamps": [1, -1]},
            400,
            "INVALID_ARGUMENT",
            "timestamps",
        ),
        ("POST", "/monitors/churn-champion/predictions", {"inputs": {}}, 400, "INVALID_ARGUMENT", None),
        ("POST", "/monitors/nope/predictions", good, 404, "NOT_FOUND", "monitor"),
        ("POST", "/monitors/churn-champion/actuals", {"ids": ["a"], "values": []}, 400, "INVALID_ARGUMENT", "values"),
        ("GET", "/monitors/churn-champion/report?period=0", None, 400, "INVALID_ARGUMENT", None),
        ("GET", "/monitors/churn-champion/distribution?feature=age", None, 400, "INVALID_ARGUMENT", None),
        (
            "GET",
            f"/monitors/churn-champion/distribution?feature=height&window_start={T0}",
            None,
            400,
            "INVALID_ARGUMENT",
            "window_start",
        ),
        ("GET", "/monitors/churn-champion/alerts?status=open", None, 400, "INVALID_ARGUMENT", None),
        ("PATCH", "/monitors/churn-champion", {"channels": [{"type": "fax"}]}, 400, "INVALID_ARGUMENT", "type"),
        ("DELETE", "/monitors/nope", None, 404, "NOT_FOUND", "monitor"),
    ]
    for method, path, body, status, code, field in cases:
        response = client.request(method, path, json=body)
        assert response.status_code == status, (method, path, response.text)
        error = response.json()["error"]
        assert error["code"] == code, (method, path, error)
        if field is not None:
            assert error.get("field") == field, (method, path, error)
    malformed = client.post(
        "/monitors/churn-champion/predictions", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert malformed.status_code == 400
    assert ok(client.get("/monitors/churn-champion")) == before
    assert ok(client.get("/monitors/churn-champion/report"))["rows"] == []
