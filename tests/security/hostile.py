"""What the security tests send and how they judge the answers: hostile payloads and requests that can carry them,
the checks every error answer must pass, the entities seeded for the payloads to aim at, and the server's GET
routes as the app itself lists them.

Kept apart from conftest.py so that test modules import it under a name no other test folder uses.
"""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import numpy as np
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts

from ridgeline.monitoring.reference import Reference

API = "/api/v1"
MLFLOW = "/api/2.0/mlflow"
HOUR = 3_600_000
T0 = 1_790_000_000_000 - 1_790_000_000_000 % HOUR

NUL, LONE_SURROGATE = "a\x00b", "\udc80"
PAYLOADS = [
    pytest.param("' OR '1'='1", id="or-true"),
    pytest.param("1; DROP TABLE runs; --", id="drop-table"),
    pytest.param("') OR 1=1 --", id="close-parenthesis"),
    pytest.param('" OR ""="', id="double-quotes"),
    pytest.param("\\' OR 1=1", id="escaped-quote"),
    pytest.param("\u2019 OR \u20181\u2019=\u20181", id="unicode-quotes"),
    pytest.param("\uff07 OR 1=1 --", id="fullwidth-quote"),
    pytest.param("%' --", id="percent-comment"),
    pytest.param("%", id="like-percent"),
    pytest.param("_", id="like-underscore"),
    pytest.param("a%b_c", id="like-mixed"),
    pytest.param("\\", id="backslash"),
    pytest.param("a\\\\b\\%\\", id="backslashes"),
    pytest.param(NUL, id="nul-byte"),
    pytest.param("x" * 5000, id="long"),
    pytest.param("' OR 1=1 --" * 1000, id="very-long"),  # longer than a filter may be (10,000 characters)
    pytest.param("' UNION SELECT id, name, 1, 1 FROM projects --", id="union-select"),
    pytest.param("(" * 150 + "'x'" + ")" * 150, id="nested-parentheses"),
    pytest.param("'; SELECT pg_sleep(10); --", id="sleep"),
    pytest.param("$$ OR 1=1 $$", id="dollar-quoting"),
    pytest.param("*/ OR 1=1 /*", id="comment"),
    pytest.param(LONE_SURROGATE, id="lone-surrogate"),  # JSON bodies only: a URL cannot carry it
]
URL_PAYLOADS = [param for param in PAYLOADS if param.values[0] != LONE_SURROGATE]


def literal(text: str) -> str:
    """``text`` as a string literal of the filter grammar: backslashes and single quotes escaped."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def like_literal(text: str) -> str:
    """A LIKE pattern matching exactly ``text``: its wildcards and backslashes made literal."""
    return literal(re.sub(r"([%_\\])", r"\\\1", text))


def backticked(key: str) -> str:
    return "`" + key.replace("`", "``") + "`"


# -- requests and answers --------------------------------------------------------------------------------------------


class ReconnectingTransport(httpx.HTTPTransport):
    """Sends a request once more, on a fresh connection, when the kept-alive one turns out closed: the server closes
    a connection after answering 500, and the next, unrelated request must not fail for it (its own traceback would
    bury the 500 that is the real finding)."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return super().handle_request(request)
        except (httpx.ReadError, httpx.RemoteProtocolError):
            return super().handle_request(request)


# A NUL or a lone surrogate as post() sends it (JSON escapes): the edge refuses the whole body (field "body").
_REFUSED_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])")


def post(http: httpx.Client, path: str, body: dict[str, Any]) -> httpx.Response:
    """POST ``body`` as JSON with every non-ASCII character escaped, so that a lone surrogate can be sent (as
    ``\\udc80``, which is valid JSON text) where httpx's own encoder would refuse it."""
    return http.post(path, content=json.dumps(body), headers={"content-type": "application/json"})


def ok(response: httpx.Response, status: int = 200) -> Any:
    """The JSON body of a response that must have succeeded with ``status``."""
    where = f"{response.request.method} {response.request.url}"[:300]
    assert response.status_code == status, f"{where}: {response.text[:500]}"
    return response.json() if response.content else {}


def check_error(response: httpx.Response, field: str | None = None) -> None:
    """A clean 4xx in the documented shape (MLflow's for its routes); a 400 of the native API names the field:
    ``field`` when given (or the whole body when it holds a lone surrogate, which a strict JSON parser refuses)."""
    where = f"{response.request.method} {response.request.url}"[:300]
    assert response.status_code < 500, f"{where} answered {response.status_code}: {response.text[:500]}"
    assert "Traceback" not in response.text, f"{where} leaked a traceback"
    assert 400 <= response.status_code < 500, f"{where}: expected an error, got {response.status_code}"
    assert response.headers["content-type"].startswith("application/json"), f"{where}: {response.text[:300]}"
    body = response.json()
    if response.request.url.path.startswith(("/api/2.0/", "/api/3.0/")):
        assert set(body) == {"error_code", "message"}, f"{where}: {body}"
        return
    assert set(body) == {"error"} and {"code", "message"} <= set(body["error"]), f"{where}: {body}"
    if response.status_code == 400:
        named = body["error"].get("field")
        assert named, f"{where}: a 400 must name the field: {body}"
        if field is not None:
            if _REFUSED_ESCAPE.search(response.request.content):
                # Refused at the edge, which names the JSON path (an item of a list: ``order_by.0``).
                assert named in (field, "body") or named.startswith(f"{field}."), f"{where}: field {field!r}: {body}"
            else:
                assert named == field, f"{where}: expected field {field!r}: {body}"


# -- the seeded world ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class World:
    """Ids and names of the entities seeded on the server: real values for the parameters not under attack."""

    project_id: str
    project_name: str
    run_id: str
    model_name: str
    monitor_name: str
    dataset_name: str
    dataset_version_id: str
    logged_model_id: str
    artifact_path: str
    metric_key: str

    def value_for(self, name: str, route: str) -> str | None:
        """A real value for the parameter ``name`` of ``route`` (a path template), or None for "leave it out".

        A request that attacks one parameter gives the others these, so that the attacked one is read past the
        look-ups of the others.
        """
        datasets = "/datasets" in route or "/dataset-versions" in route
        if name == "name":
            for part, value in (("/monitors", self.monitor_name), ("/projects", self.project_name)):
                if part in route:
                    return value
            return self.dataset_name if datasets else self.model_name
        if name == "key":
            return self.dataset_name if datasets else self.metric_key
        if name == "version":
            return self.dataset_version_id if datasets else "1"
        values = {
            "run_id": self.run_id,
            "run_uuid": self.run_id,
            "run_ids": self.run_id,
            "runs": self.run_id,
            "project_id": self.project_id,
            "experiment_id": self.project_id,
            "experiment_ids": self.project_id,
            "experiment_name": self.project_name,
            "version_id": self.dataset_version_id,
            "model_id": self.logged_model_id,
            "metric_key": self.metric_key,
            "alias": "champion",
            "uri": f"models:/{self.model_name}/1",
            "model": self.model_name,
            "feature": "age",
            "window_start": str(T0),
            "path": self.artifact_path,
        }
        return values.get(name)


def _reference() -> dict[str, Any]:
    generator = np.random.default_rng(0)
    return Reference.build({"age": generator.normal(40, 10, 500), "plan": generator.choice(["a", "b"], 500)}).to_json()


def seed_world(http: httpx.Client) -> World:
    """A project with a run (params, tags, a metric, an artifact, a dataset input), a registered model whose
    version 1 holds the alias ``champion``, a monitor of it with one window of predictions, and an MLflow
    logged model."""
    project = ok(http.post(f"{API}/projects", json={"name": "seed-project"}), 201)
    run = ok(http.post(f"{API}/runs", json={"project": "seed-project", "params": {"model": "rf"}}), 201)
    run_id = run["id"]
    loss = {"key": "loss", "steps": [0, 1], "values": [0.5, 0.25], "timestamps": [T0, T0 + 1]}
    ok(http.post(f"{API}/runs/{run_id}/batches", json={"batch_id": "seed-batch-1", "metrics": [loss]}))
    ok(http.put(f"{API}/runs/{run_id}/artifacts/data/a.csv", content=b"x,y\n1,2\n"), 201)
    dataset = {"name": "seed-data", "digest": "ab" * 32, "kind": "dataframe", "rows": 1}
    version = ok(http.post(f"{API}/runs/{run_id}/datasets", json=dataset), 201)
    ok(http.post(f"{API}/models", json={"name": "seed-model"}), 201)
    ok(http.post(f"{API}/models/seed-model/versions", json={"source": f"runs:/{run_id}/model"}), 201)
    ok(http.put(f"{API}/models/seed-model/aliases/champion", json={"version": 1}))
    body = {"model": "seed-model@champion", "reference": _reference(), "window": "1h"}
    monitor = ok(http.post(f"{API}/monitors", json=body), 201)
    predictions = {
        "inputs": {"age": [40.0, 50.0, 60.0, 35.0], "plan": ["a", "b", "a", "b"]},
        "predictions": [1, 0, 1, 0],
        "ids": ["r0", "r1", "r2", "r3"],
        "timestamps": [T0, T0 + 1000, T0 + 2000, T0 + 3000],
        "tags": {"country": ["IT", "FR", "IT", "FR"]},
    }
    ok(http.post(f"{API}/monitors/{monitor['name']}/predictions", json=predictions))
    logged = ok(http.post(f"{MLFLOW}/logged-models", json={"experiment_id": project["id"], "name": "seed-lm"}))
    return World(
        project_id=project["id"],
        project_name="seed-project",
        run_id=run_id,
        model_name="seed-model",
        monitor_name=monitor["name"],
        dataset_name="seed-data",
        dataset_version_id=version["id"],
        logged_model_id=logged["model"]["info"]["model_id"],
        artifact_path="data/a.csv",
        metric_key="loss",
    )


def census(http: httpx.Client) -> dict[str, int]:
    """How many rows the main tables hold (deleted ones included): an attack that dropped or emptied a table, or
    deleted rows it should not reach, changes it."""
    project_ids = [
        project["id"]
        for deleted in ("false", "true")
        for project in ok(http.get(f"{API}/projects", params={"deleted": deleted}))["projects"]
    ]
    runs = sum(
        ok(http.post(f"{API}/runs/count", json={"project_ids": project_ids, "deleted": deleted}))["count"]
        for deleted in (False, True)
    )
    counted = {"projects": len(project_ids), "runs": runs}
    for table in ("models", "datasets", "monitors"):
        counted[table] = len(ok(http.get(f"{API}/{table}"))[table])
    return counted


# -- GET routes ------------------------------------------------------------------------------------------------------

_PATH_PARAMETER = re.compile(r"\{(\w+)(?::\w+)?\}")
# What an MLflow endpoint reads from its message (query parameters, for GET) by hand: msg.text("name"),
# msg.required("run_id", "run_uuid"), and the paging helper's two names.
_MESSAGE_READ = re.compile(r"msg\.\w+\(([^()]*)\)")
_QUOTED = re.compile(r'"(\w+)"')
_PAGING = ("max_results", "page_token")


@dataclass(frozen=True)
class GetRoute:
    path: str  # the template, e.g. /api/v1/runs/{run_id}/artifacts/{path:path}
    path_parameters: tuple[str, ...]
    query_parameters: tuple[str, ...]

    def url(self, values: dict[str, str]) -> str:
        return _PATH_PARAMETER.sub(lambda match: quote(values[match.group(1)], safe=""), self.path)

    def attacks(self, world: World, payload: str) -> Iterator[tuple[str, dict[str, str]]]:
        """One request (URL, query) per parameter: that one holds ``payload``, the others real values."""
        real = {name: world.value_for(name, self.path) or "x" for name in self.path_parameters}
        given = {name: value for name in self.query_parameters if (value := world.value_for(name, self.path))}
        for name in self.path_parameters:
            yield self.url({**real, name: payload}), given
        for name in self.query_parameters:
            yield self.url(real), {**given, name: payload}


def _query_names(route: APIRoute) -> list[str]:
    """The query parameters a route declares (its dependencies' included) and, for an MLflow endpoint that reads
    its message itself, the names its source reads."""
    names: list[str] = []
    pending = [route.dependant]
    while pending:
        dependant = pending.pop()
        names += [param.alias for param in dependant.query_params]
        pending += dependant.dependencies
        if getattr(dependant.call, "__name__", "") == "read_message":
            source = inspect.getsource(route.endpoint)
            names += [name for arguments in _MESSAGE_READ.findall(source) for name in _QUOTED.findall(arguments)]
            names += list(_PAGING) if "page(" in source else []
    return list(dict.fromkeys(names))


def get_routes(app: FastAPI) -> list[GetRoute]:
    """Every GET route of ``app``, with its path and query parameters."""
    routes = []
    for context in iter_route_contexts(app.router.routes):
        route = context.original_route
        if "GET" in (context.methods or ()) and isinstance(route, APIRoute) and context.path is not None:
            parameters = tuple(_PATH_PARAMETER.findall(context.path))
            routes.append(GetRoute(context.path, parameters, tuple(_query_names(route))))
    return routes
