"""SQL injection through every way a request reaches the database, on SQLite and PostgreSQL.

Hostile text (tests/security/hostile.py) goes into filter strings (the native run search and count, MLflow's run,
experiment, registered model, model version and logged model searches, the native registry lists), into the keys
and values inside filters, into order_by, into the ids, names and page tokens of search bodies, and into every path
and query parameter of every GET route, enumerated from the app itself so that a new route is attacked without
anyone listing it here.

Whatever is sent, the answer is a 200 with the right result or a clean 4xx in the documented error shape (naming
the field for a 400 of the native API), never a 5xx or a traceback, and afterwards the database holds every row
it held before. The right result of a run search is what the reference evaluator of the filter grammar
(``ridgeline.domain.filters.evaluate``) says over the runs, so a payload that changed the SQL's meaning shows.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from hostile import (
    API,
    MLFLOW,
    NUL,
    PAYLOADS,
    T0,
    URL_PAYLOADS,
    GetRoute,
    World,
    backticked,
    census,
    check_error,
    get_routes,
    like_literal,
    literal,
    ok,
    post,
)

from ridgeline.config import Settings
from ridgeline.domain.errors import InvalidArgument
from ridgeline.domain.filters import RunView, evaluate, parse_filter, parse_order_by
from ridgeline.server.app import create_app
from ridgeline.server.mlflow.filters import RUN_ATTRIBUTES, translate

# Filter texts with the payload spliced in raw, as a careless client (or an attacker) would.
SPLICED_FILTERS = [
    "tags.note = '{p}'",
    'params.model = "{p}"',
    "params.`{p}` = 'a'",
    "metrics.`{p}` > 0",
    "attributes.run_name = '{p}'",
    "tags.note like '{p}'",
    "tags.note ilike '%{p}%'",
    "tags.note in ('{p}', 'x')",
    "attributes.status = 'FINISHED' or ({p})",
    "{p}",
]
SPLICED_ORDERS = ["{p}", "params.`{p}` desc", "metrics.{p}", "tags.note {p}", "attributes.{p} asc"]


def run_view(run: dict[str, Any]) -> RunView:
    """What the reference evaluator reads of a run in the native API's JSON."""
    attributes = {name: run[name] for name in ("id", "name", "status", "user", "parent_run_id", "project_id")}
    attributes |= {"start_time": run["start_time"], "end_time": run["end_time"]}
    metrics = {key: float(point["value"]) for key, point in run["metrics"].items()}
    return RunView(attributes=attributes, metrics=metrics, params=run["params"], tags=run["tags"])


@dataclass
class Runs:
    """A project of runs whose values look like the payloads, and the reference views of its runs."""

    project_id: str
    views: dict[str, RunView]

    def expected(self, filter_text: str) -> set[str] | None:
        """The ids the filter selects by the reference evaluator; None when the grammar refuses it."""
        try:
            expr = parse_filter(filter_text)
        except InvalidArgument:
            return None
        return {run_id for run_id, view in self.views.items() if evaluate(expr, view)}


def make_runs(http: httpx.Client, tags: list[dict[str, str]], params: list[dict[str, str]] | None = None) -> Runs:
    project = ok(post(http, f"{API}/projects", {"name": f"p-{uuid.uuid4().hex}"}), 201)
    for index, run_tags in enumerate(tags):
        run_params = params[index] if params else {"model": "rf"}
        body = {"project_id": project["id"], "name": f"run-{index}", "tags": run_tags, "params": run_params}
        run = ok(post(http, f"{API}/runs", body), 201)
        point = {"key": "loss", "steps": [0], "values": [index / 10], "timestamps": [T0]}
        batch = {"batch_id": f"b-{uuid.uuid4().hex}", "metrics": [point]}
        ok(post(http, f"{API}/runs/{run['id']}/batches", batch))
    found = ok(post(http, f"{API}/runs/search", {"project_ids": [project["id"]], "limit": 1000}))["runs"]
    return Runs(project["id"], {run["id"]: run_view(run) for run in found})


@pytest.fixture(scope="module")
def lookalikes(http: httpx.Client) -> Runs:
    """Runs whose tags hold text that looks like injection, so a payload has something to (wrongly) match."""
    notes = ["plain", "' OR '1'='1", "%", "_", "a\\b", "x"]
    return make_runs(http, [{"note": note, "team": "a"} for note in notes] + [{}])


@pytest.fixture
def unchanged(http: httpx.Client) -> Iterator[None]:
    """The test must leave every table with the rows it had (the test's own project and runs are made first)."""
    before = census(http)
    yield
    assert census(http) == before, "an attack changed the database"


def native_search(http: httpx.Client, project_id: str, **body: Any) -> httpx.Response:
    return post(http, f"{API}/runs/search", {"project_ids": [project_id], "limit": 1000, **body})


def mlflow_search(http: httpx.Client, project_id: str, **body: Any) -> httpx.Response:
    return post(http, f"{MLFLOW}/runs/search", {"experiment_ids": [project_id], "max_results": 1000, **body})


def check_search(http: httpx.Client, runs: Runs, filter_text: str) -> None:
    """The native search, the native count and MLflow's search all answer what the reference says."""
    expected = runs.expected(filter_text)
    try:
        mlflow_expected = runs.expected(translate(filter_text, RUN_ATTRIBUTES))
    except InvalidArgument:
        mlflow_expected = None
    searched = native_search(http, runs.project_id, filter=filter_text)
    counted = post(http, f"{API}/runs/count", {"project_ids": [runs.project_id], "filter": filter_text})
    if expected is None:
        check_error(searched, "filter")
        check_error(counted, "filter")
    else:
        assert {run["id"] for run in ok(searched)["runs"]} == expected, filter_text[:200]
        assert ok(counted)["count"] == len(expected), filter_text[:200]
    answer = mlflow_search(http, runs.project_id, filter=filter_text)
    if mlflow_expected is None:
        check_error(answer)
    else:
        assert {run["info"]["run_id"] for run in ok(answer).get("runs", [])} == mlflow_expected, filter_text[:200]


def check_order(http: httpx.Client, runs: Runs, order: str) -> None:
    """Ordering by ``order`` (native: as a list and as text; MLflow) returns every run, or is refused."""
    try:
        parse_order_by(order)
        valid = True
    except InvalidArgument:
        valid = False
    for value in ([order], order):
        answer = native_search(http, runs.project_id, order_by=value)
        if valid:
            assert {run["id"] for run in ok(answer)["runs"]} == set(runs.views), order[:200]
        else:
            check_error(answer, "order_by")
    answer = mlflow_search(http, runs.project_id, order_by=[order])
    if answer.status_code == 200:
        assert {run["info"]["run_id"] for run in answer.json()["runs"]} == set(runs.views), order[:200]
    else:
        check_error(answer)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_tag_holding_the_payload_is_found_by_it_and_only_it(http: httpx.Client, payload: str) -> None:
    decoys = ["decoy", payload + "!", "!" + payload, payload.upper(), "' OR '1'='1", "%", "_"]
    created = post(http, f"{API}/runs", {"project": f"p-{uuid.uuid4().hex}", "tags": {"note": payload}})
    if created.status_code != 201:
        check_error(created, "tags.note")  # NUL, a lone surrogate, too long: refused, naming the tag
        runs = make_runs(http, [{"note": decoy} for decoy in ("decoy", "' OR '1'='1", "%", "_", "a")])
        for filter_text in (f"tags.note = {literal(payload)}", f"tags.note like {like_literal(payload)}"):
            check_search(http, runs, filter_text)
        return
    runs = make_runs(http, [{"note": payload}] + [{"note": decoy} for decoy in decoys if decoy != payload] + [{}])
    [target] = [run_id for run_id, view in runs.views.items() if view.tags.get("note") == payload]
    with_note = {run_id for run_id, view in runs.views.items() if "note" in view.tags}
    for filter_text, expected in (
        (f"tags.note = {literal(payload)}", {target}),
        (f"tags.note like {like_literal(payload)}", {target}),
        (f"tags.note in ({literal(payload)}, 'nothing')", {target}),
        (f"tags.note != {literal(payload)}", with_note - {target}),
        (f"tags.note not like {like_literal(payload)}", with_note - {target}),
    ):
        assert runs.expected(filter_text) == expected, filter_text  # the reference agrees with the test
        check_search(http, runs, filter_text)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_key_holding_the_payload_is_found_by_it_and_only_it(http: httpx.Client, payload: str) -> None:
    created = post(http, f"{API}/runs", {"project": f"p-{uuid.uuid4().hex}", "params": {payload: "a"}})
    if created.status_code != 201:
        check_error(created)  # keys are letters, digits and _ - . / : and inner spaces
        runs = make_runs(http, [{"note": "x"}], [{"other": "a"}])
    else:
        runs = make_runs(http, [{}, {}], [{payload: "a"}, {"other": "a"}])
    for filter_text in (f"params.{backticked(payload)} = 'a'", f"metrics.{backticked(payload)} >= 0"):
        check_search(http, runs, filter_text)
    for order in (f"params.{backticked(payload)} desc", f"tags.{backticked(payload)}"):
        check_order(http, runs, order)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_payload_spliced_into_a_filter_changes_nothing_but_the_filter(
    http: httpx.Client, lookalikes: Runs, payload: str, unchanged: None
) -> None:
    for template in SPLICED_FILTERS:
        check_search(http, lookalikes, template.replace("{p}", payload))


@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_payload_in_order_by_sorts_or_is_refused(
    http: httpx.Client, lookalikes: Runs, payload: str, unchanged: None
) -> None:
    for template in SPLICED_ORDERS:
        check_order(http, lookalikes, template.replace("{p}", payload))


@pytest.mark.parametrize("payload", PAYLOADS)
def test_the_other_searches_take_the_payload(http: httpx.Client, world: World, payload: str, unchanged: None) -> None:
    """Experiments, registered models, model versions and logged models: a filter naming the payload exactly
    finds nothing here (nothing holds it), and a spliced one is answered or refused cleanly."""
    exact = [f"name = {literal(payload)}", f"tags.{backticked(payload)} = {literal(payload)}"]
    spliced = [template.replace("{p}", payload) for template in ("name = '{p}'", "name like '{p}'", "{p}")]
    searches: list[tuple[str, str, dict[str, Any], str]] = [
        ("POST", f"{MLFLOW}/experiments/search", {}, "experiments"),
        ("POST", f"{MLFLOW}/registered-models/search", {}, "registered_models"),
        ("POST", f"{MLFLOW}/model-versions/search", {}, "model_versions"),
        ("POST", f"{MLFLOW}/logged-models/search", {"experiment_ids": [world.project_id]}, "models"),
        ("GET", f"{API}/models", {}, "models"),
        ("GET", f"{API}/model-versions", {}, "versions"),
    ]
    for method, path, extra, listed in searches:
        if method == "GET" and payload not in [param.values[0] for param in URL_PAYLOADS]:
            continue
        for filter_text in exact + spliced:
            for field, value in (("filter", filter_text), ("order_by", [filter_text])):
                if method == "GET":
                    answer = http.get(path, params={field: value})
                else:
                    answer = post(http, path, {**extra, field: value})
                if answer.status_code != 200:
                    check_error(answer, None if path.startswith(MLFLOW) else field)
                elif field == "filter" and filter_text in exact:
                    assert answer.json().get(listed, []) == [], f"{path} {filter_text[:200]}: {answer.text[:300]}"


@pytest.mark.parametrize("payload", PAYLOADS)
def test_ids_names_and_tokens_in_search_bodies_take_the_payload(
    http: httpx.Client, world: World, payload: str, unchanged: None, request: pytest.FixtureRequest
) -> None:
    """What a search names besides its filter: projects and experiments (by id or name), page tokens, views."""
    project = [world.project_id]
    attacks: list[tuple[str, dict[str, Any], str | None]] = [
        (f"{API}/runs/search", {"project_ids": [payload]}, "project_ids"),
        (f"{API}/runs/search", {"projects": [payload]}, "projects"),
        (f"{API}/runs/search", {"project_ids": project, "cursor": payload}, "cursor"),
        (f"{API}/runs/count", {"project_ids": [payload]}, "project_ids"),
        (f"{API}/runs/count", {"projects": [payload]}, "projects"),
        (f"{MLFLOW}/runs/search", {"experiment_ids": [payload]}, None),
        (f"{MLFLOW}/runs/search", {"experiment_ids": project, "page_token": payload}, None),
        (f"{MLFLOW}/runs/search", {"experiment_ids": project, "run_view_type": payload}, None),
        (f"{MLFLOW}/experiments/search", {"page_token": payload}, None),
        (f"{MLFLOW}/experiments/search", {"view_type": payload}, None),
        (f"{MLFLOW}/registered-models/search", {"page_token": payload}, None),
        (f"{MLFLOW}/model-versions/search", {"page_token": payload}, None),
        (f"{MLFLOW}/logged-models/search", {"experiment_ids": [payload]}, None),
        (f"{MLFLOW}/logged-models/search", {"experiment_ids": project, "order_by": [{"field_name": payload}]}, None),
    ]
    for path, body, field in attacks:
        answer = post(http, path, body)
        if answer.status_code != 200:
            check_error(answer, field)


def test_mlflow_answers_a_nul_with_its_own_400(http: httpx.Client, world: World, unchanged: None) -> None:
    """MLflow's routes translate the database refusing a NUL (PostgreSQL) into INVALID_PARAMETER_VALUE, whether it
    came in the URL or the body; on SQLite the look-up simply finds nothing."""
    answers = [
        http.get(f"{MLFLOW}/experiments/get", params={"experiment_id": NUL}),
        http.get(f"{MLFLOW}/experiments/get-by-name", params={"experiment_name": NUL}),
        http.get(f"{MLFLOW}/registered-models/get", params={"name": NUL}),
        http.get(f"{MLFLOW}/runs/get", params={"run_id": NUL}),
        post(http, f"{MLFLOW}/runs/search", {"experiment_ids": [NUL]}),
        post(http, f"{MLFLOW}/logged-models/search", {"experiment_ids": [world.project_id, NUL]}),
    ]
    for answer in answers:
        check_error(answer)
        assert answer.json()["error_code"] in ("INVALID_PARAMETER_VALUE", "RESOURCE_DOES_NOT_EXIST"), answer.text


# -- every GET route -------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def routes(tmp_path_factory: pytest.TempPathFactory) -> list[GetRoute]:
    """Every GET route, from an app on a throwaway data folder (the routes do not depend on the backend)."""
    app = create_app(Settings.load(home=tmp_path_factory.mktemp("routes-home")))
    found = get_routes(app)
    app.state.store.close()
    assert len(found) > 60, "the app lost its GET routes"
    return found


def test_the_route_census_sees_message_parameters(routes: list[GetRoute]) -> None:
    """The enumeration finds what MLflow endpoints read by hand, not only what FastAPI declares."""
    by_path = {route.path: route for route in routes}
    experiments = by_path[f"{MLFLOW}/experiments/search"]
    assert {"filter", "order_by", "max_results", "page_token"} <= set(experiments.query_parameters)
    assert {"run_id", "run_uuid", "path"} <= set(by_path[f"{MLFLOW}/artifacts/list"].query_parameters)
    assert {"start", "end", "segment"} <= set(by_path[f"{API}/monitors/{{name}}/report"].query_parameters)


@pytest.mark.parametrize("payload", URL_PAYLOADS)
def test_every_get_parameter_takes_the_payload(
    http: httpx.Client,
    world: World,
    routes: list[GetRoute],
    payload: str,
    unchanged: None,
    request: pytest.FixtureRequest,
) -> None:
    failures = []
    for route in routes:
        for url, params in route.attacks(world, payload):
            try:
                answer = http.get(url, params=params)
                if answer.status_code != 200:
                    check_error(answer)
            except (AssertionError, httpx.HTTPError) as exc:
                failures.append(f"{route.path} {sorted(params)}: {exc!r}"[:400])
    assert not failures, f"{len(failures)} bad answers:\n" + "\n".join(failures[:40])


@pytest.mark.parametrize("payload", URL_PAYLOADS)
def test_like_wildcards_in_parameters_match_literally(
    http: httpx.Client, world: World, payload: str, request: pytest.FixtureRequest
) -> None:
    """Parameters that select by name or prefix take ``%`` and ``_`` as characters, never as wildcards."""
    for path, params, listed, field in (
        (f"{API}/projects", {"q": payload}, "projects", "q"),
        (f"{API}/runs/{world.run_id}/artifacts", {"prefix": payload}, "files", "prefix"),
    ):
        answer = http.get(path, params=params)
        if answer.status_code == 200:
            assert answer.json()[listed] == [], answer.text[:300]
        else:
            check_error(answer, field)
    mlflow_listed = http.get(f"{MLFLOW}/artifacts/list", params={"run_id": world.run_id, "path": payload})
    if mlflow_listed.status_code == 200:
        assert mlflow_listed.json().get("files", []) == []
    else:
        check_error(mlflow_listed)
    check_error(http.get(f"{API}/projects/by-name", params={"name": payload}))
    check_error(http.get(f"{API}/datasets/by-name", params={"name": payload}))
    resolved = http.get(f"{API}/datasets/resolve", params={"name": world.dataset_name, "version": payload})
    check_error(resolved, "version")
    check_error(http.get(f"{MLFLOW}/experiments/get-by-name", params={"experiment_name": payload}))
    check_error(http.get(f"{MLFLOW}/registered-models/get", params={"name": payload}))
