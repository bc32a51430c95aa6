"""Request hardening on the real server (server/hardening.py, server/limits.py): body size and JSON depth limits,
UTF-8 and JSON-only bodies, and non-finite numbers in every numeric field. test_hardening_responses.py has the
response side.

Runs on the module-scoped ``security_server`` of tests/security/conftest.py (on SQLite), through its
``http`` client, which carries whatever credentials the server needs.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hardening_fixtures import (
    API,
    JSON_TYPE,
    LIMIT,
    MLFLOW,
    T0,
    clean,
    nested,
    new_run,
    project_exists,
    refusal,
    unique,
)

# SQLite only: the checks sit in front of the database, so one backend shows them;
# test_sql_injection.py covers what reaches each database.
SQLITE_ONLY = True

# -- size ------------------------------------------------------------------------------------------------------


def test_a_body_over_64_mib_is_413_whether_declared_or_chunked(http: httpx.Client) -> None:
    name = unique("too-big")
    body = f'{{"name": "{name}"}}'.encode()
    declared = http.post(f"{API}/projects", content=body.ljust(LIMIT + 1), headers=JSON_TYPE)
    refusal(declared, 413, "PAYLOAD_TOO_LARGE", "body")

    def chunks() -> Iterator[bytes]:
        yield body
        for _ in range(65):
            yield b" " * (1024 * 1024)

    chunked = http.post(f"{API}/projects", content=chunks(), headers=JSON_TYPE)
    assert "content-length" not in chunked.request.headers
    refusal(chunked, 413, "PAYLOAD_TOO_LARGE", "body")
    assert not project_exists(http, name)


# -- depth -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["array", "object"])
@pytest.mark.parametrize("path", [f"{API}/projects", f"{API}/runs/search", f"{MLFLOW}/experiments/create"])
def test_json_deeper_than_64_levels_is_refused_before_parsing(http: httpx.Client, path: str, kind: str) -> None:
    for depth in (65, 1000, 100_000):
        refused = http.post(path, content=nested(depth, kind), headers=JSON_TYPE)
        clean(refused)
        error = refusal(refused, 400, "INVALID_ARGUMENT", "body")
        assert "nested deeper than 64 levels" in error["message"]
    # Unclosed brackets (not JSON at all) are no way around it.
    refusal(http.post(path, content=b"[" * 100_000, headers=JSON_TYPE), 400, "INVALID_ARGUMENT", "body")
    # 64 levels pass the check: the route itself judges the body (these routes want other shapes).
    at_limit = http.post(path, content=nested(64, kind), headers=JSON_TYPE)
    clean(at_limit)
    assert at_limit.status_code == 400
    assert "nested deeper" not in at_limit.text


def test_brackets_inside_strings_do_not_count_as_nesting(http: httpx.Client) -> None:
    """The scan counts structure only: brackets and escaped quotes inside strings are text, at any depth."""
    run = new_run(http)
    text = b'[[[{{\\"[[[\\\\' * 20

    def dataset(depth: int) -> bytes:
        # The body and "profile" objects, then depth - 2 levels around a string full of brackets.
        value = b'{"a":' * (depth - 2) + b'"' + text + b'"' + b"}" * (depth - 2)
        digest = b"ab" * 32
        return b'{"name": "d", "digest": "' + digest + b'", "kind": "dataframe", "profile": {"x": ' + value + b"}}"

    accepted = http.post(f"{API}/runs/{run['id']}/datasets", content=dataset(64), headers=JSON_TYPE)
    assert accepted.status_code == 201, accepted.text
    refused = http.post(f"{API}/runs/{run['id']}/datasets", content=dataset(65), headers=JSON_TYPE)
    assert "nested deeper than 64 levels" in refusal(refused, 400, "INVALID_ARGUMENT", "body")["message"]


# -- encoding and media type -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad",
    [b"\xff\xfe", b"\xc0\xaf", b"\xed\xa0\x80", b"\xe2\x82", b"caf\xe9", b"\xf8\x88\x80\x80\x80"],
    ids=["ff-fe", "overlong", "surrogate", "truncated", "latin-1", "five-bytes"],
)
@pytest.mark.parametrize("path", [f"{API}/projects", f"{MLFLOW}/experiments/create"])
def test_malformed_utf8_is_400(http: httpx.Client, path: str, bad: bytes) -> None:
    response = http.post(path, content=b'{"name": "x' + bad + b'"}', headers=JSON_TYPE)
    clean(response)
    error = refusal(response, 400, "INVALID_ARGUMENT", "body")
    assert "not valid UTF-8" in error["message"]


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/xml",
        "application/json; charset=latin-1",
        None,
    ],
)
@pytest.mark.parametrize("api", ["native", "mlflow"])
def test_a_body_that_is_not_json_is_415_and_creates_nothing(
    http: httpx.Client, api: str, content_type: str | None
) -> None:
    name = unique("not-json")
    path, body = (
        (f"{API}/projects", f'{{"name": "{name}"}}')
        if api == "native"
        else (f"{MLFLOW}/experiments/create", f'{{"name": "{name}"}}')
    )
    if content_type == "application/x-www-form-urlencoded":
        body = f"name={name}"
    request = http.build_request("POST", path, content=body.encode())
    request.headers.pop("Content-Type", None)
    if content_type is not None:
        request.headers["Content-Type"] = content_type
    response = http.send(request)
    clean(response)
    if api == "native":
        error = refusal(response, 415, "UNSUPPORTED_MEDIA_TYPE", "Content-Type")
    else:
        assert response.status_code == 415, response.text
        error = refusal(response, 415, "INVALID_PARAMETER_VALUE")
    assert "application/json" in error["message"]
    assert not project_exists(http, name)


@pytest.mark.parametrize(
    "content_type", ["application/json", "Application/JSON; charset=UTF-8", "application/json;charset=utf8"]
)
def test_json_with_or_without_a_utf8_charset_is_accepted(http: httpx.Client, content_type: str) -> None:
    name = unique("json")
    response = http.post(
        f"{API}/projects", content=f'{{"name": "{name}"}}'.encode(), headers={"Content-Type": content_type}
    )
    assert response.status_code == 201, response.text
    assert project_exists(http, name)


def test_bodyless_posts_and_streamed_uploads_need_no_json(http: httpx.Client) -> None:
    project = http.post(f"{API}/projects", json={"name": unique("bodyless")}).json()
    assert http.delete(f"{API}/projects/{project['id']}").status_code < 300
    # A POST with no body at all (Content-Length: 0) needs no Content-Type.
    restored = http.post(f"{API}/projects/{project['id']}/restore")
    assert restored.status_code == 200, restored.text
    # Artifact uploads are the file itself, of any type, through both APIs.
    run = new_run(http)
    native = http.put(
        f"{API}/runs/{run['id']}/artifacts/page.html", content=b"<h1>hi</h1>", headers={"Content-Type": "text/html"}
    )
    assert native.status_code == 201, native.text
    mlflow = http.put(
        f"/api/2.0/mlflow-artifacts/artifacts/{run['project_id']}/{run['id']}/artifacts/form.txt",
        content=b"a=1&b=2",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert mlflow.status_code == 200, mlflow.text


# -- non-finite numbers ----------------------------------------------------------------------------------------

NON_FINITE = ["NaN", "Infinity", "-Infinity", "1e999", "-1e999", '"NaN"', '"Infinity"', '"-Infinity"']


# Where the number under test goes, in a body or a query string.
X = "@"


def _cases(run: dict[str, Any], world: Any) -> list[tuple[str, str, dict[str, Any] | None]]:
    """(method, path, JSON body) with X wherever a client can send a number."""
    run_id, project_id, model, monitor = run["id"], run["project_id"], world.model_name, world.monitor_name
    key = uuid.uuid4().hex[:8]
    evaluation = {"version": 1, "metrics": {"acc": X}, "dataset_name": "d", "dataset_digest": "x", "task": "regression"}
    server = {"model": model, "uri": "models:/x@y", "url": "http://h", "version": X, "started_at": X}
    return [
        ("POST", f"{API}/projects", {"name": X}),
        ("POST", f"{API}/runs", {"project": f"nf-{key}", "start_time": X}),
        ("POST", f"{API}/runs", {"project": f"nf-{key}", "params": {"lr": X}, "tags": {"t": X}}),
        (
            "POST",
            f"{API}/runs/{run_id}/batches",
            {"batch_id": f"b-{key}", "metrics": [{"key": "m", "steps": [0], "values": [X], "timestamps": [T0]}]},
        ),
        (
            "POST",
            f"{API}/runs/{run_id}/batches",
            {"batch_id": f"s-{key}", "metrics": [{"key": "m", "steps": [X], "values": [1], "timestamps": [X]}]},
        ),
        ("POST", f"{API}/runs/{run_id}/batches", {"batch_id": f"p-{key}", "params": {f"p{key}": X}}),
        ("POST", f"{API}/runs/search", {"project_ids": [project_id], "limit": X}),
        ("POST", f"{API}/runs/histories", {"run_ids": [run_id], "keys": ["m"], "min_step": X, "points": X}),
        ("POST", f"{API}/runs/{run_id}/finish", {"status": "FINISHED", "end_time": X}),
        ("PUT", f"{API}/projects/{project_id}/retention", {"max_age_days": X, "keep_last": X}),
        (
            "POST",
            f"{API}/runs/{run_id}/datasets",
            {"name": "d", "digest": "ab" * 32, "kind": "dataframe", "rows": X, "size_bytes": X},
        ),
        ("PUT", f"{API}/models/{model}/aliases/nf", {"version": X}),
        ("POST", f"{API}/models/{model}/evaluations", {**evaluation, "rows": X}),
        ("PUT", f"{API}/model-servers/nf-{key}", server),
        (
            "POST",
            f"{API}/monitors/{monitor}/predictions",
            {"inputs": {"age": [X], "plan": ["a"]}, "predictions": [X], "scores": [X], "ids": [f"nf-{key}"]},
        ),
        ("POST", f"{API}/monitors/{monitor}/actuals", {"ids": [f"nf-{key}"], "values": [X], "timestamps": [X]}),
        ("POST", f"{API}/monitors", {"model": f"{model}@champion", "name": f"nf-{key}", "window": X}),
        ("POST", f"{MLFLOW}/experiments/create", {"name": X}),
        ("POST", f"{MLFLOW}/runs/create", {"experiment_id": project_id, "start_time": X}),
        ("POST", f"{MLFLOW}/runs/log-metric", {"run_id": run_id, "key": "m", "value": X, "timestamp": T0}),
        ("POST", f"{MLFLOW}/runs/log-metric", {"run_id": run_id, "key": "m", "value": 1, "timestamp": X, "step": X}),
        ("POST", f"{MLFLOW}/runs/log-parameter", {"run_id": run_id, "key": f"k{key}", "value": X}),
        (
            "POST",
            f"{MLFLOW}/runs/log-batch",
            {"run_id": run_id, "metrics": [{"key": "b", "value": X, "timestamp": X, "step": X}]},
        ),
        ("POST", f"{MLFLOW}/runs/update", {"run_id": run_id, "end_time": X}),
        ("POST", f"{MLFLOW}/runs/search", {"experiment_ids": [project_id], "max_results": X}),
        ("GET", f"{MLFLOW}/metrics/get-history?run_id={run_id}&metric_key=m&max_results={X}", None),
        ("GET", f"{MLFLOW}/registered-models/search?max_results={X}", None),
        ("GET", f"{API}/runs/{run_id}/metrics/history?key=m&points={X}&min_step={X}", None),
        ("GET", f"{API}/monitors/{monitor}/report?start={X}&period={X}", None),
    ]


@pytest.mark.parametrize("number", NON_FINITE)
def test_non_finite_numbers_anywhere_are_refused_cleanly_or_accepted(
    http: httpx.Client, world: Any, number: str
) -> None:
    """Bare NaN and Infinity (Python's JSON parser reads them), numbers too big for a double, and the proto3
    spellings as text: a clean 400, or accepted as what they mean; never a 500."""
    run = new_run(http)
    for method, path, body in _cases(run, world):
        if body is None:
            response = http.get(path.replace(X, number.strip('"')))
        else:
            content = json.dumps(body).replace(f'"{X}"', number).encode()
            response = http.request(method, path, content=content, headers=JSON_TYPE)
        clean(response)


@pytest.mark.parametrize(
    ("kind", "timestamp"),
    [("predictions", '"NaN"'), ("predictions", '"Infinity"'), ("actuals", "1e300")],
)
def test_monitor_timestamps_that_are_not_epoch_milliseconds_are_400(
    security_server: str, http: httpx.Client, world: Any, kind: str, timestamp: str
) -> None:
    if kind == "predictions":
        body = '{"inputs": {"age": [1.0], "plan": ["a"]}, "predictions": [1], "timestamps": [@]}'
    else:
        body = '{"ids": ["r0"], "values": [1], "timestamps": [@]}'
    # A client of its own: after an unhandled error the server closes the connection the answer went out on.
    with httpx.Client(base_url=security_server, headers=http.headers, timeout=30) as client:
        response = client.post(
            f"{API}/monitors/{world.monitor_name}/{kind}", content=body.replace("@", timestamp), headers=JSON_TYPE
        )
    clean(response)
    assert response.status_code == 400


def test_non_finite_metric_values_are_stored_as_such(http: httpx.Client) -> None:
    run = new_run(http)
    # Native API: the documented spelling of non-finite values is text.
    batch = {
        "batch_id": unique("b"),
        "metrics": [
            {"key": "m", "steps": [0, 1, 2], "values": ["NaN", "Infinity", "-Infinity"], "timestamps": [T0] * 3}
        ],
    }
    assert http.post(f"{API}/runs/{run['id']}/batches", json=batch).status_code == 200
    history = http.get(f"{API}/runs/{run['id']}/metrics/history", params={"key": "m"}).json()
    assert history["values"] == ["NaN", "Infinity", "-Infinity"]
    # MLflow's client writes them as proto3 JSON does, as text too.
    for value in ("NaN", "Infinity"):
        body = {"run_id": run["id"], "key": f"x{value}", "value": value, "timestamp": T0, "step": 0}
        assert http.post(f"{MLFLOW}/runs/log-metric", json=body).status_code == 200
    metrics = {
        m["key"]: m["value"]
        for m in http.get(f"{MLFLOW}/runs/get", params={"run_id": run["id"]}).json()["run"]["data"]["metrics"]
    }
    assert metrics["xNaN"] == "NaN" and metrics["xInfinity"] == "Infinity"
