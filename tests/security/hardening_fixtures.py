"""Helpers of the hardening tests (test_hardening.py, test_hardening_responses.py): what every answer must be,
the shape of a refusal, and the bodies they send."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

API = "/api/v1"
MLFLOW = "/api/2.0/mlflow"
T0 = 1_700_000_000_000
LIMIT = 64 * 1024 * 1024
JSON_TYPE = {"Content-Type": "application/json"}


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def clean(response: httpx.Response) -> None:
    """What every answer must be, whatever was sent: no server error and no trace of the server's code."""
    where = f"{response.request.method} {response.request.url}"
    assert response.status_code < 500, f"{where} answered {response.status_code}: {response.text[:1000]}"
    for leak in ("Traceback", 'File "', "site-packages"):
        assert leak not in response.text, f"{where} leaked {leak!r}: {response.text[:1000]}"


def refusal(response: httpx.Response, status: int, code: str, field: str | None = None) -> dict[str, Any]:
    """The native ``error`` object of a refused request (or MLflow's ``error_code`` on its own API)."""
    assert response.status_code == status, f"expected {status}, got {response.status_code}: {response.text}"
    body = response.json()
    if response.request.url.path.startswith(MLFLOW):
        assert body["error_code"] == "INVALID_PARAMETER_VALUE" and body["message"], body
        return dict(body)
    assert set(body) == {"error"} and body["error"]["code"] == code and body["error"]["message"], body
    if field is not None:
        assert body["error"].get("field") == field, body
    return dict(body["error"])


def project_exists(http: httpx.Client, name: str) -> bool:
    response = http.get(f"{API}/projects/by-name", params={"name": name})
    assert response.status_code in (200, 404), response.text
    return response.status_code == 200


def new_run(http: httpx.Client) -> dict[str, Any]:
    response = http.post(f"{API}/runs", json={"project": unique("hardening")})
    assert response.status_code == 201, response.text
    run: dict[str, Any] = response.json()
    return run


def nested(depth: int, kind: str) -> bytes:
    """A JSON value ``depth`` arrays or objects deep."""
    if kind == "array":
        return b"[" * depth + b"1" + b"]" * depth
    return b'{"a":' * depth + b"1" + b"}" * depth
