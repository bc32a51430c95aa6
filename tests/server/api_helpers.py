"""Small helpers for HTTP tests of the native REST API against the real server.

Every response that goes through a client made by :func:`api` is checked on the way in: the server must
never answer 5xx and never leak a stack trace, whatever the test sends.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import httpx

API = "/api/v1"
# A fixed, plausible epoch-milliseconds timestamp (2023-11-14) for logged points.
T0 = 1_700_000_000_000


def check_response(response: httpx.Response) -> None:
    """The invariants of every answer: no server error, no traceback, errors in the documented shape."""
    response.read()
    request = response.request
    where = f"{request.method} {request.url}"
    assert "Traceback" not in response.text, f"{where} leaked a traceback: {response.text[:2000]}"
    assert response.status_code < 500, f"{where} answered {response.status_code}: {response.text[:2000]}"
    if response.status_code >= 400 and request.url.path.startswith(API):
        body = response.json()
        assert set(body) == {"error"}, f"{where}: error body is not {{'error': ...}}: {body}"
        assert {"code", "message"} <= set(body["error"]), f"{where}: error lacks code or message: {body}"


def api(server: str) -> httpx.Client:
    """A client for the native API of ``server`` (paths are relative to /api/v1) that checks every response."""
    return httpx.Client(base_url=f"{server}{API}", timeout=30, event_hooks={"response": [check_response]})


def new_id() -> str:
    return uuid.uuid4().hex


def new_batch_id() -> str:
    return f"batch-{uuid.uuid4().hex}"


def ok(response: httpx.Response, status: int = 200) -> Any:
    """The JSON body of a response that must have succeeded with ``status``."""
    assert response.status_code == status, f"expected {status}, got {response.status_code}: {response.text}"
    return response.json()


def error(response: httpx.Response, status: int, code: str, field: str | None = None) -> dict[str, Any]:
    """The ``error`` object of a response that must have failed as described; returns it for more checks."""
    assert response.status_code == status, f"expected {status} {code}, got {response.status_code}: {response.text}"
    body = response.json()
    assert body["error"]["code"] == code, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"], body
    if field is not None:
        assert body["error"].get("field") == field, f"expected field {field!r}: {body}"
    result: dict[str, Any] = body["error"]
    return result


def make_project(client: httpx.Client, name: str = "p", description: str = "") -> dict[str, Any]:
    result: dict[str, Any] = ok(client.post("/projects", json={"name": name, "description": description}), 201)
    return result


def make_run(client: httpx.Client, project: str | None = "p", **fields: Any) -> dict[str, Any]:
    """Create a run (by project name unless ``project_id`` is given) and return its JSON."""
    body: dict[str, Any] = dict(fields)
    if "project_id" not in body:
        body["project"] = project
    result: dict[str, Any] = ok(client.post("/runs", json=body), 201)
    return result


def get_run(client: httpx.Client, run_id: str) -> dict[str, Any]:
    result: dict[str, Any] = ok(client.get(f"/runs/{run_id}"))
    return result


def series(
    key: str,
    values: Sequence[Any],
    steps: Sequence[Any] | None = None,
    timestamps: Sequence[Any] | None = None,
) -> dict[str, Any]:
    """One metric series in wire form; steps default to 0..n-1 and timestamps to T0 + step."""
    steps = list(range(len(values))) if steps is None else list(steps)
    timestamps = (
        [T0 + step if isinstance(step, int) else T0 for step in steps] if timestamps is None else list(timestamps)
    )
    return {"key": key, "steps": steps, "values": list(values), "timestamps": timestamps}


def send_batch(
    client: httpx.Client,
    run_id: str,
    *,
    metrics: Mapping[str, Sequence[float | str]] | Sequence[Mapping[str, Any]] | None = None,
    params: Mapping[str, Any] | None = None,
    tags: Mapping[str, Any] | None = None,
    batch_id: str | None = None,
) -> httpx.Response:
    """POST a batch and return the raw response; ``metrics`` is {key: values} or a list of series."""
    body: dict[str, Any] = {"batch_id": batch_id or new_batch_id()}
    if metrics is not None:
        if isinstance(metrics, Mapping):
            body["metrics"] = [series(key, values) for key, values in metrics.items()]
        else:
            body["metrics"] = [dict(item) for item in metrics]
    if params is not None:
        body["params"] = dict(params)
    if tags is not None:
        body["tags"] = dict(tags)
    return client.post(f"/runs/{run_id}/batches", json=body)


def log(
    client: httpx.Client,
    run_id: str,
    *,
    metrics: Mapping[str, Sequence[float | str]] | Sequence[Mapping[str, Any]] | None = None,
    params: Mapping[str, Any] | None = None,
    tags: Mapping[str, Any] | None = None,
    batch_id: str | None = None,
) -> dict[str, Any]:
    """Send a batch that must be accepted; returns ``{"applied": ..., "conflicts": [...]}``."""
    response = send_batch(client, run_id, metrics=metrics, params=params, tags=tags, batch_id=batch_id)
    result: dict[str, Any] = ok(response)
    return result


def history(client: httpx.Client, run_id: str, key: str, **query: Any) -> dict[str, Any]:
    result: dict[str, Any] = ok(client.get(f"/runs/{run_id}/metrics/history", params={"key": key, **query}))
    return result


def search(client: httpx.Client, **body: Any) -> dict[str, Any]:
    result: dict[str, Any] = ok(client.post("/runs/search", json=body))
    return result


def search_names(client: httpx.Client, **body: Any) -> list[str]:
    """Names of the runs of one search page, in the order the server gave them."""
    return [run["name"] for run in search(client, **body)["runs"]]
