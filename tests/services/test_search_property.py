"""Search in SQL agrees with the reference evaluator ``filters.evaluate``, on SQLite and on PostgreSQL.

One database per backend is filled once with runs whose params, tags and metrics come from small pools (missing
keys, NaN and infinite metrics, text that is no number, numbers written several ways); generated filters are
then run through ``TrackingService.search_runs`` and through ``evaluate`` over the same runs.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings

from ridgeline.domain.entities import LogBatch, MetricSeries, RunRecord
from ridgeline.domain.filters import Expr, RunView, evaluate, format_filter, parse_filter
from ridgeline.domain.ids import new_id
from ridgeline.domain.values import numeric_value
from ridgeline.services.tracking import RunSpec, TrackingService
from ridgeline.store.metadata import MetadataStore
from strategies import filter_exprs

METRIC_KEYS = ("acc", "loss", "train/f1")
PARAM_KEYS = ("lr", "model", "n")
TAG_KEYS = ("team", "stage")
# Keys no run has: every predicate on them is false.
ABSENT = "absent"

RUN_COUNT = 40
STATUSES = ("RUNNING", "FINISHED", "FAILED", "KILLED")
NAMES = ("a", "B", "rf", "sgd", "1", "2.5", "10", "abc%", "x_y", "A b", "é", "a\\b", "it's")
START_TIMES = (1, 2, 3, 10, 1_000, 1_700_000_000_000, 2_000_000_000_000)
METRIC_VALUES = (-2.0, -0.5, 0.0, 0.5, 1.0, 2.0, 3.0, 10.0, 1e-300, math.nan, math.inf, -math.inf)
TEXTS = (
    # the pools of tests/strategies.py
    "",
    "a",
    "B",
    "rf",
    "sgd",
    "1",
    "2.5",
    "10",
    "abc%",
    "x_y",
    # numbers written other ways, and text that only looks like a number
    "1.0",
    "-0.5",
    "+3",
    "1e-3",
    ".5",
    "0010",
    "nan",
    "inf",
    "-Infinity",
    "1_000",
    " 1",
    "1e999",
    # case, non-ASCII letters, quotes and backslashes
    "A",
    "RF",
    "Éa",
    "ß",
    "it's",
    'say "hi"',
    "back\\slash",
    "a%b",
)

SETTINGS = settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=False,
)


@dataclass(frozen=True)
class SearchDatabase:
    backend: str
    tracking: TrackingService
    project_id: str
    views: dict[str, RunView]
    records: dict[str, RunRecord]


def _populate(tracking: TrackingService, backend: str) -> SearchDatabase:
    rng = random.Random(20261127)
    project = tracking.create_project("search-property")
    views: dict[str, RunView] = {}
    for index in range(RUN_COUNT):
        run = tracking.create_run(
            RunSpec(project_id=project.id, name=rng.choice(NAMES), start_time=rng.choice(START_TIMES))
        )
        status = rng.choice(STATUSES)
        if status != "RUNNING":
            run = tracking.finish_run(run.id, status, end_time=2_100_000_000_000 + index)
        metrics = {key: rng.choice(METRIC_VALUES) for key in METRIC_KEYS if rng.random() < 0.75}
        params = {key: rng.choice(TEXTS) for key in PARAM_KEYS if rng.random() < 0.75}
        tags = {key: rng.choice(TEXTS) for key in TAG_KEYS if rng.random() < 0.75}
        series = []
        for key, value in metrics.items():
            # Earlier points with other values, so the latest point decides.
            earlier = [rng.choice(METRIC_VALUES) for _ in range(rng.randint(0, 3))]
            steps = list(range(len(earlier) + 1))
            series.append(MetricSeries(key, steps, [*earlier, value], [5 + step for step in steps]))
        tracking.log_batch(run.id, LogBatch(new_id(), params, tags, series))
        views[run.id] = RunView(
            attributes={
                "id": run.id,
                "name": run.name,
                "status": run.status.value,
                "user": run.user,
                "parent_run_id": run.parent_run_id,
                "project_id": run.project_id,
                "start_time": run.start_time,
                "end_time": run.end_time,
            },
            metrics=metrics,
            params=params,
            tags=tags,
        )
    records = {record.id: record for record in tracking.search_runs([project.id], limit=1000)}
    return SearchDatabase(backend, tracking, project.id, views, records)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def search_db(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SearchDatabase]:
    if request.param == "sqlite":
        uri = f"sqlite:///{tmp_path_factory.mktemp('search') / 'search.db'}"
    else:
        uri = request.getfixturevalue("postgres_cluster").create_database()
    store = MetadataStore(uri)
    try:
        yield _populate(TrackingService(store), request.param)
    finally:
        store.close()


def _search_ids(db: SearchDatabase, **kwargs: object) -> list[str]:
    page = db.tracking.search_runs([db.project_id], limit=1000, **kwargs)  # type: ignore[arg-type]
    assert page.next_cursor is None
    return [run.id for run in page]


def test_the_database_holds_what_was_logged(search_db: SearchDatabase) -> None:
    assert set(search_db.records) == set(search_db.views)
    for run_id, record in search_db.records.items():
        view = search_db.views[run_id]
        assert record.params == view.params
        assert record.tags == view.tags
        assert record.name == view.attributes["name"]
        assert record.status.value == view.attributes["status"]
        assert record.start_time == view.attributes["start_time"]
        assert set(record.metrics) == set(view.metrics)
        for key, value in view.metrics.items():
            stored = record.metrics[key]
            assert stored == value or (math.isnan(stored) and math.isnan(value))


@SETTINGS
@given(expr=filter_exprs((*METRIC_KEYS, ABSENT), (*PARAM_KEYS, ABSENT), (*TAG_KEYS, ABSENT)))
def test_search_matches_the_reference_evaluation(search_db: SearchDatabase, expr: Expr) -> None:
    text = format_filter(expr)
    found = _search_ids(search_db, filter=text)
    assert len(found) == len(set(found)), "a run was returned twice"
    expected = {run_id for run_id, view in search_db.views.items() if evaluate(expr, view)}
    assert set(found) == expected, text


@pytest.mark.parametrize(
    "text",
    [
        "params.model ilike 'éa'",
        "params.model ilike 'ÉA'",
        "tags.team ilike 'Éa' or tags.stage like '_'",
        "params.model like 'it\\'s' or params.lr = \"it's\" or tags.team = 'say \"hi\"'",
        "params.n = 'back\\\\slash' or tags.team like 'back\\\\%'",
        "params.model like '%\\%%' or tags.team like 'a\\%b'",
        "params.lr = 1 or params.n = 10 or tags.team in (0.5, 0.001)",
        "params.lr >= 'nan' and params.lr < 'z'",
        "tags.stage > -1e300",
        "metrics.acc > 1e308 or metrics.loss < -1e308",
        "metrics.acc not in (0, 1e-300) and metrics.loss != 3",
        "attributes.name ilike 'A%' and attributes.status != 'RUNNING'",
        "attributes.end_time > 0",
        "attributes.start_time > 1e12 or attributes.start_time in (1, 3)",
    ],
)
def test_chosen_filters_match_the_reference_evaluation(search_db: SearchDatabase, text: str) -> None:
    expr = parse_filter(text)
    assert expr is not None
    expected = {run_id for run_id, view in search_db.views.items() if evaluate(expr, view)}
    assert set(_search_ids(search_db, filter=text)) == expected


@given(expr=filter_exprs(("m", "a b", "x`y", "weird key!"), ("p.q", "1st"), ("t:a/b", "é")))
@settings(max_examples=100, deadline=None)
def test_format_then_parse_round_trips(expr: Expr) -> None:
    assert parse_filter(format_filter(expr)) == expr


def _metric_order(db: SearchDatabase, key: str, descending: bool) -> list[str]:
    """Numbers in order (ties by id), then runs without a number (missing or NaN), by id."""
    valued = [(view.metrics[key], run_id) for run_id, view in db.views.items() if not _missing(view, key)]
    valued.sort(key=lambda item: (-item[0] if descending else item[0], item[1]))
    rest = sorted(run_id for run_id, view in db.views.items() if _missing(view, key))
    return [run_id for _, run_id in valued] + rest


def _missing(view: RunView, key: str) -> bool:
    value = view.metrics.get(key)
    return value is None or math.isnan(value)


@pytest.mark.parametrize("descending", [False, True], ids=["asc", "desc"])
@pytest.mark.parametrize("key", [*METRIC_KEYS, ABSENT])
def test_order_by_a_metric_puts_missing_and_nan_last(search_db: SearchDatabase, key: str, descending: bool) -> None:
    order_by = f"metrics.`{key}` {'desc' if descending else 'asc'}"
    found = _search_ids(search_db, order_by=order_by)
    assert found == _metric_order(search_db, key, descending)
    values = [search_db.views[run_id].metrics.get(key, math.nan) for run_id in found]
    numbers = [value for value in values if not math.isnan(value)]
    assert values[: len(numbers)] == numbers  # every number comes before every missing/NaN value
    assert numbers == sorted(numbers, reverse=descending)


@pytest.mark.parametrize("descending", [False, True], ids=["asc", "desc"])
def test_order_with_a_filter_pages_through_the_same_order(search_db: SearchDatabase, descending: bool) -> None:
    order_by = f"metrics.acc {'desc' if descending else 'asc'}"
    text = "metrics.loss >= 0 or params.model != 'rf'"
    expr = parse_filter(text)
    expected = [
        run_id for run_id in _metric_order(search_db, "acc", descending) if evaluate(expr, search_db.views[run_id])
    ]
    paged: list[str] = []
    cursor = None
    while True:
        page = search_db.tracking.search_runs(
            [search_db.project_id], filter=text, order_by=order_by, limit=4, cursor=cursor
        )
        paged += [run.id for run in page]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert paged == expected


@pytest.mark.parametrize("descending", [False, True], ids=["asc", "desc"])
def test_order_by_a_param_puts_numbers_first_then_text_then_missing(
    search_db: SearchDatabase, descending: bool
) -> None:
    found = _search_ids(search_db, order_by=f"params.model {'desc' if descending else 'asc'}")

    def rank(run_id: str) -> tuple[int, object]:
        text = search_db.views[run_id].params.get("model")
        if text is None:
            return (2, "")
        number = numeric_value(text)
        return (0, number) if number is not None else (1, text)

    ranks = [rank(run_id) for run_id in found]
    groups = [group for group, _ in ranks]
    assert groups == sorted(groups)
    for group in (0, 1):
        keys = [key for g, key in ranks if g == group]
        assert keys == sorted(keys, reverse=descending)  # type: ignore[type-var]
