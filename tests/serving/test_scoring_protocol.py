"""POST /invocations: every format of MLflow's scoring protocol, and every kind of bad body refused with a 4xx."""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ridgeline.serving.options import ServeOptions
from serving.support import fitted, invoke, register_versions, scoring_server

ROW = {"x1": 0.5, "x2": -1.0}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    home = tmp_path_factory.mktemp("home")
    register_versions(home, "house", 1).set_model_alias("house", "champion", 1)
    options = ServeOptions(uri="models:/house@champion", max_body_bytes=4096, log_predictions=False)
    with scoring_server(home, options, {1: fitted(1)}) as (url, _):
        yield url


def expected(*rows: dict[str, float]) -> list[float]:
    import pandas as pd

    return fitted(1).predict_prepared(pd.DataFrame(list(rows))).tolist()


@pytest.mark.parametrize(
    "body",
    [
        {"dataframe_split": {"columns": ["x1", "x2"], "data": [[0.5, -1.0], [1.0, 2.0]]}},
        {"dataframe_records": [ROW, {"x1": 1.0, "x2": 2.0}]},
        {"instances": [ROW, {"x1": 1.0, "x2": 2.0}]},
        {"inputs": {"x1": [0.5, 1.0], "x2": [-1.0, 2.0]}},
        {"dataframe_split": {"columns": ["x2", "x1"], "data": [[-1.0, 0.5], [2.0, 1.0]]}},  # any column order
    ],
    ids=["dataframe_split", "dataframe_records", "instances", "inputs-columns", "split-reordered"],
)
def test_json_formats(served: str, body: dict[str, object]) -> None:
    response = invoke(served, body)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["predictions"] == pytest.approx(expected(ROW, {"x1": 1.0, "x2": 2.0}))
    assert answer["model_version"] == 1
    assert response.headers["x-model-version"] == "1"
    assert response.headers["x-model-role"] == "primary"
    assert len(response.headers["x-request-id"]) == 32


def test_csv_and_request_id(served: str) -> None:
    response = httpx.post(
        f"{served}/invocations",
        content=b"x1,x2\n0.5,-1.0\n",
        headers={"Content-Type": "text/csv; charset=utf-8", "X-Request-Id": "order-42"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["predictions"] == pytest.approx(expected(ROW))
    assert response.headers["x-request-id"] == "order-42"


def _error(response: httpx.Response, status: int) -> dict[str, str]:
    assert response.status_code == status, response.text
    error: dict[str, str] = response.json()["error"]
    return error


def test_wrong_columns_and_types(served: str) -> None:
    missing = _error(invoke(served, {"dataframe_records": [{"x1": 1.0}]}), 400)
    assert missing["field"] == "x2"
    assert "x2" in missing["message"]
    wrong_type = _error(invoke(served, {"dataframe_records": [{"x1": "high", "x2": 1.0}]}), 400)
    assert wrong_type["field"] == "x1"
    ragged = _error(invoke(served, {"dataframe_split": {"columns": ["x1", "x2"], "data": [[1.0]]}}), 400)
    assert "row 0 has 1 values for 2 columns" in ragged["message"]


@pytest.mark.parametrize(
    ("content", "content_type", "status", "says"),
    [
        (b"", "application/json", 400, "empty"),
        (b"{not json", "application/json", 400, "not valid JSON"),
        (b"[1, 2]", "application/json", 400, "must be an object"),
        (b'{"dataframe_records": [], "instances": []}', "application/json", 400, "exactly one of"),
        (b'{"rows": [[1, 2]]}', "application/json", 400, "exactly one of"),
        (b'{"dataframe_records": []}', "application/json", 400, "no rows"),
        (b'{"inputs": [[1, 2], [3]]}', "application/json", 400, "not a regular array"),
        (b'{"dataframe_split": {"columns": ["x1", "x1"], "data": [[1, 2]]}}', "application/json", 400, "twice"),
        (b'{"dataframe_split": {"data": [[1, 2]]}}', "application/json", 400, "x1"),
        (pickle.dumps({"x1": [1.0]}), "application/json", 400, "pickle"),
        (pickle.dumps({"x1": [1.0]}), "application/octet-stream", 415, "never unpickles"),
        (b"x1,x2\n", "text/csv", 400, "no rows"),
        (b'{"inputs": [[1]]}', "text/plain", 415, "not accepted"),
        (b'{"inputs": [[1]]}', "application/json; charset=latin-1", 415, "charset"),
        (b"x" * 5000, "application/json", 413, "4096"),
    ],
    ids=[
        "empty",
        "not-json",
        "json-list",
        "two-formats",
        "unknown-key",
        "no-rows",
        "ragged",
        "split-duplicate-column",
        "split-without-columns",
        "pickle-as-json",
        "pickle-octets",
        "csv-header-only",
        "text-plain",
        "charset",
        "huge",
    ],
)
def test_bad_bodies(served: str, content: bytes, content_type: str, status: int, says: str) -> None:
    response = httpx.post(f"{served}/invocations", content=content, headers={"Content-Type": content_type})
    error = _error(response, status)
    assert says in error["message"]
    assert error["code"]


def test_missing_content_type_and_methods(served: str) -> None:
    assert _error(httpx.post(f"{served}/invocations", content=b"{}"), 415)["field"] == "content-type"
    assert _error(httpx.get(f"{served}/invocations"), 405)["code"] == "METHOD_NOT_ALLOWED"
    assert _error(httpx.get(f"{served}/nowhere"), 404)["code"] == "NOT_FOUND"
    assert _error(httpx.post(f"{served}/ping"), 405)["code"] == "METHOD_NOT_ALLOWED"


def test_probes_and_version(served: str) -> None:
    assert httpx.get(f"{served}/ping").status_code == 200
    health = httpx.get(f"{served}/health").json()
    assert health["status"] == "ok"
    assert health["version"] == 1
    version = httpx.get(f"{served}/version").json()
    assert version["model"] == "house"
    assert version["uri"] == "models:/house@champion"
    assert version["version"] == 1
    assert version["canary"] is None and version["shadow"] is None


def test_metrics(served: str) -> None:
    invoke(served, {"dataframe_records": [ROW]})
    invoke(served, {"dataframe_records": [{"x1": 1.0}]})
    response = httpx.get(f"{served}/metrics")
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    text = response.text
    assert 'ridgeline_serving_requests_total{worker="' in text
    assert 'version="1",status="200"}' in text
    assert 'version="1",status="400"}' in text
    assert 'ridgeline_serving_errors_total{worker="' in text and 'code="INVALID_ARGUMENT"}' in text
    assert 'ridgeline_serving_request_duration_seconds_bucket{worker="' in text and 'le="+Inf"}' in text
    assert 'ridgeline_serving_model_version{worker="' in text and 'role="primary"} 1' in text


def test_model_failure_is_500_with_the_reason(tmp_path: Path) -> None:
    from serving.support import Broken

    register_versions(tmp_path, "bad", 1).set_model_alias("bad", "champion", 1)
    model = fitted(1)
    options = ServeOptions(uri="models:/bad/1", log_predictions=False)
    with scoring_server(tmp_path, options, {1: Broken(model.estimator, model.signature)}) as (url, _):
        error = _error(invoke(url, {"dataframe_records": [ROW]}), 500)
    assert error["code"] == "MODEL_ERROR"
    assert "this model always fails" in error["message"]
