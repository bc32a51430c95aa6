"""Aggregates behind the runs table: ``count_runs``, ``run_keys``, ``group_counts`` and numbered (offset) pages.

Every test runs on SQLite and on PostgreSQL through the ``tracking`` fixture. Counts are checked against what
``search_runs`` returns for the same filter, so the table's "X-Y of N" never disagrees with its rows.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from ridgeline.domain.entities import LogBatch, MetricSeries, Project
from ridgeline.domain.errors import InvalidArgument, NotFound
from ridgeline.domain.filters import FilterError
from ridgeline.domain.ids import new_id
from ridgeline.services.tracking import MAX_OFFSET, RunSpec, TrackingService

T0 = 1_700_000_000_000
UNKNOWN_ID = "0123456789abcdef0123456789abcdef"


def _run(
    tracking: TrackingService,
    project: Project,
    name: str,
    *,
    start: int,
    params: dict[str, str] | None = None,
    tags: dict[str, str] | None = None,
    metrics: dict[str, float] | None = None,
) -> str:
    run = tracking.create_run(RunSpec(project_id=project.id, name=name, start_time=T0 + start))
    series = [MetricSeries(key, [0], [value], [T0]) for key, value in (metrics or {}).items()]
    tracking.log_batch(run.id, LogBatch(new_id(), dict(params or {}), dict(tags or {}), series))
    return run.id


def _seed(tracking: TrackingService) -> tuple[Project, dict[str, str]]:
    """Twelve runs in project "agg" (ties in start time and score on purpose) and one run in "elsewhere".

    Run i: model rf/sgd/mlp by i % 3 except runs 9-11 (no model); "batch size" 16/32 by parity; team "vision"
    on even runs; score i % 4 (run 5 has none); start time i // 3 (groups of three share a start time).
    """
    project = tracking.create_project("agg")
    ids: dict[str, str] = {}
    for index in range(12):
        params = {"batch size": str(16 * (1 + index % 2))}
        if index < 9:
            params["model"] = ("rf", "sgd", "mlp")[index % 3]
        metrics = {} if index == 5 else {"score": float(index % 4), "val/loss": 1.0 / (index + 1)}
        tags = {"team": "vision"} if index % 2 == 0 else {}
        ids[f"r{index:02d}"] = _run(
            tracking, project, f"r{index:02d}", start=index // 3, params=params, tags=tags, metrics=metrics
        )
    other = tracking.create_project("elsewhere")
    _run(tracking, other, "outsider", start=0, params={"model": "rf", "only_elsewhere": "x"}, metrics={"z": 1.0})
    return project, ids


def _all(tracking: TrackingService, project_ids: list[str], **search: Any) -> list[str]:
    return [run.name for run in tracking.search_runs(project_ids, limit=1000, **search).runs]


COUNT_FILTERS = [
    "",
    "   ",
    "params.model = 'rf'",
    "params.model != 'rf'",
    "params.`batch size` = 32",
    "params.`batch size` > 16 and tags.team = 'vision'",
    "metrics.score >= 2",
    "metrics.`val/loss` < 0.2 or params.model in ('sgd', 'mlp')",
    "tags.team = 'vision'",
    "metrics.missing > 0",
    "attributes.name like 'r0%'",
]


def test_count_runs_agrees_with_search(tracking: TrackingService) -> None:
    project, ids = _seed(tracking)
    for text in COUNT_FILTERS:
        expected = _all(tracking, [project.id], filter=text)
        assert tracking.count_runs([project.id], filter=text) == len(expected), text
    assert tracking.count_runs([project.id]) == 12
    assert tracking.count_runs([project.id], filter=None) == 12
    assert tracking.count_runs([project.id], filter="params.model = 'rf'") == 3
    # Several projects count together, a project named twice counts once.
    other = tracking.get_project_by_name("elsewhere")
    assert tracking.count_runs([project.id, other.id]) == 13
    assert tracking.count_runs([project.id, other.id], filter="params.model = 'rf'") == 4
    assert tracking.count_runs([project.id, project.id]) == 12
    # Deleted runs leave the live count and make up the deleted one; restoring brings them back.
    tracking.delete_runs([ids["r00"], ids["r03"]])
    assert tracking.count_runs([project.id]) == 10
    assert tracking.count_runs([project.id], deleted=True) == 2
    assert tracking.count_runs([project.id], filter="params.model = 'rf'") == 1
    assert tracking.count_runs([project.id], filter="params.model = 'rf'", deleted=True) == 2
    assert tracking.count_runs([project.id], filter="params.model = 'sgd'", deleted=True) == 0
    tracking.restore_runs([ids["r00"]])
    assert tracking.count_runs([project.id]) == 11
    assert tracking.count_runs([project.id], deleted=True) == 1
    # A project without runs counts zero.
    empty = tracking.create_project("empty")
    assert tracking.count_runs([empty.id]) == 0
    assert tracking.count_runs([empty.id], deleted=True) == 0


def test_count_runs_refuses_bad_scope_and_filters(tracking: TrackingService) -> None:
    project, _ = _seed(tracking)
    with pytest.raises(InvalidArgument) as no_project:
        tracking.count_runs([])
    assert no_project.value.field == "project_ids"
    with pytest.raises(NotFound):
        tracking.count_runs([UNKNOWN_ID])
    with pytest.raises(NotFound):
        tracking.count_runs([project.id, UNKNOWN_ID])
    for text, position in [("metrics.score >", 15), ("metrics.score >> 1", 14), ("params.model = 'rf' and (", 25)]:
        with pytest.raises(FilterError) as bad:
            tracking.count_runs([project.id], filter=text)
        assert bad.value.field == "filter", text
        assert bad.value.position == position, (text, bad.value.message)
        assert bad.value.details == {"position": position}
        assert f"position {position}" in bad.value.message


def test_run_keys_lists_each_kind_once_in_order(tracking: TrackingService) -> None:
    project, _ = _seed(tracking)
    assert tracking.run_keys([project.id]) == {
        "params": ["batch size", "model"],
        "metrics": ["score", "val/loss"],
        "tags": ["team"],
    }
    # Keys with every allowed odd character, on a run of their own.
    odd = _run(
        tracking,
        project,
        "odd",
        start=99,
        params={"optimizer.lr": "0.1", "a:b": "1", "x-y_z": "2"},
        metrics={"train/loss 2": 0.5, "A": 1.0},
        tags={"ci run": "yes"},
    )
    keys = tracking.run_keys([project.id])
    assert keys["params"] == sorted(["batch size", "model", "optimizer.lr", "a:b", "x-y_z"])
    assert keys["metrics"] == sorted(["score", "val/loss", "train/loss 2", "A"])
    assert keys["tags"] == ["ci run", "team"]
    # Keys used only by deleted runs show in the deleted view only.
    tracking.delete_runs([odd])
    assert tracking.run_keys([project.id]) == {
        "params": ["batch size", "model"],
        "metrics": ["score", "val/loss"],
        "tags": ["team"],
    }
    assert tracking.run_keys([project.id], deleted=True) == {
        "params": sorted(["optimizer.lr", "a:b", "x-y_z"]),
        "metrics": sorted(["train/loss 2", "A"]),
        "tags": ["ci run"],
    }
    # Other projects' keys stay out unless that project is asked for too.
    elsewhere = tracking.get_project_by_name("elsewhere")
    assert "only_elsewhere" not in tracking.run_keys([project.id])["params"]
    both = tracking.run_keys([project.id, elsewhere.id])
    assert both["params"] == ["batch size", "model", "only_elsewhere"]
    assert both["metrics"] == ["score", "val/loss", "z"]
    # Without runs there are no keys; a deleted run's keys come back with the run.
    empty = tracking.create_project("no-runs")
    assert tracking.run_keys([empty.id]) == {"params": [], "metrics": [], "tags": []}
    tracking.restore_runs([odd])
    assert "ci run" in tracking.run_keys([project.id])["tags"]
    assert tracking.run_keys([project.id], deleted=True) == {"params": [], "metrics": [], "tags": []}
    with pytest.raises(NotFound):
        tracking.run_keys([UNKNOWN_ID])
    with pytest.raises(InvalidArgument) as none:
        tracking.run_keys([])
    assert none.value.field == "project_ids"


def _expected_groups(tracking: TrackingService, project: Project, kind: str, key: str, **search: Any) -> Counter[Any]:
    runs = tracking.search_runs([project.id], limit=1000, **search).runs
    return Counter((run.params if kind == "params" else run.tags).get(key) for run in runs)


def test_group_counts_split_matching_runs_by_value(tracking: TrackingService) -> None:
    project, ids = _seed(tracking)

    def groups(field: str, **options: Any) -> dict[str | None, int]:
        result = tracking.group_counts([project.id], field, **options)
        values = [value for value, _ in result]
        assert len(values) == len(set(values)), f"a value is listed twice: {result}"
        assert all(count > 0 for _, count in result), result
        return dict(result)

    # Runs without the key form the None group.
    assert groups("params.model") == {"rf": 3, "sgd": 3, "mlp": 3, None: 3}
    assert groups("tags.team") == {"vision": 6, None: 6}
    assert groups("params.batch size") == {"16": 6, "32": 6}
    # A key no run has: every run is in the None group.
    assert groups("params.nothing") == {None: 12}
    # With a filter the groups split only the matching runs, and add up to the count.
    for text in COUNT_FILTERS:
        for field in ("params.model", "tags.team", "params.batch size"):
            kind, _, key = field.partition(".")
            found = groups(field, filter=text)
            assert found == dict(_expected_groups(tracking, project, kind, key, filter=text)), (field, text)
            assert sum(found.values()) == tracking.count_runs([project.id], filter=text), (field, text)
    assert groups("params.model", filter="metrics.missing > 0") == {}
    # Deleted runs move from the live groups to the deleted ones.
    tracking.delete_runs([ids["r00"], ids["r09"], ids["r01"]])
    assert groups("params.model") == {"rf": 2, "sgd": 2, "mlp": 3, None: 2}
    assert groups("params.model", deleted=True) == {"rf": 1, "sgd": 1, None: 1}
    assert groups("tags.team", deleted=True) == {"vision": 1, None: 2}
    # Values are the stored text: "1" and "1.0" are different groups.
    _run(tracking, project, "one", start=50, params={"model": "1"})
    _run(tracking, project, "one-point-zero", start=51, params={"model": "1.0"})
    assert groups("params.model", filter="attributes.name like 'one%'") == {"1": 1, "1.0": 1}
    # An empty project has no groups.
    empty = tracking.create_project("empty-groups")
    assert tracking.group_counts([empty.id], "params.model") == []


def test_group_counts_refuses_bad_fields_and_scopes(tracking: TrackingService) -> None:
    project, _ = _seed(tracking)
    for field in ("model", "metrics.score", "attributes.status", "params.", "tags.", "params.bad!key", "params. x"):
        with pytest.raises(InvalidArgument) as bad:
            tracking.group_counts([project.id], field)
        assert bad.value.field == "group_by", field
    with pytest.raises(FilterError) as bad_filter:
        tracking.group_counts([project.id], "params.model", filter="params.model = ")
    assert bad_filter.value.field == "filter"
    assert bad_filter.value.position == 15
    with pytest.raises(NotFound):
        tracking.group_counts([UNKNOWN_ID], "params.model")
    with pytest.raises(InvalidArgument) as none:
        tracking.group_counts([], "params.model")
    assert none.value.field == "project_ids"


ORDERS: list[str | None] = [
    None,
    "attributes.start_time",
    "metrics.score desc",
    "metrics.score",
    "params.model",
    "params.`batch size` desc, attributes.name",
    "tags.team desc",
    "attributes.name desc",
]


def _cursor_walk(tracking: TrackingService, project_ids: list[str], limit: int, **search: Any) -> list[list[str]]:
    pages: list[list[str]] = []
    cursor = None
    while True:
        page = tracking.search_runs(project_ids, limit=limit, cursor=cursor, **search)
        pages.append([run.id for run in page.runs])
        cursor = page.next_cursor
        if cursor is None:
            return pages


def _offset_walk(tracking: TrackingService, project_ids: list[str], limit: int, **search: Any) -> list[list[str]]:
    pages: list[list[str]] = []
    offset = 0
    while True:
        page = tracking.search_runs(project_ids, limit=limit, offset=offset, **search)
        pages.append([run.id for run in page.runs])
        if page.next_cursor is None:
            return pages
        offset += limit


def test_offset_pages_match_cursor_pages(tracking: TrackingService) -> None:
    project, ids = _seed(tracking)
    tracking.delete_runs([ids["r04"]])
    scopes: list[dict[str, Any]] = [{}, {"filter": "params.`batch size` = 16 or metrics.score > 1"}, {"deleted": True}]
    for order in ORDERS:
        for scope in scopes:
            for limit in (1, 5, 100):
                by_cursor = _cursor_walk(tracking, [project.id], limit, order_by=order, **scope)
                by_offset = _offset_walk(tracking, [project.id], limit, order_by=order, **scope)
                assert by_offset == by_cursor, (order, scope, limit)
                flat = [run_id for page in by_offset for run_id in page]
                assert len(flat) == len(set(flat)) == tracking.count_runs([project.id], **scope)
    # Any numbered page is the matching slice of the whole ordering, and its cursor continues after it.
    everything = [run.id for run in tracking.search_runs([project.id], order_by="metrics.score desc", limit=100).runs]
    assert len(everything) == 11
    for offset in range(len(everything) + 2):
        page = tracking.search_runs([project.id], order_by="metrics.score desc", limit=3, offset=offset)
        assert [run.id for run in page.runs] == everything[offset : offset + 3], offset
        if offset + 3 < len(everything):
            assert page.next_cursor is not None
            after = tracking.search_runs([project.id], order_by="metrics.score desc", limit=3, cursor=page.next_cursor)
            assert [run.id for run in after.runs] == everything[offset + 3 : offset + 6], offset
        else:
            assert page.next_cursor is None, offset
    # Past the end: an empty page, no cursor.
    far = tracking.search_runs([project.id], offset=1000)
    assert far.runs == [] and far.next_cursor is None


def test_offset_validation(tracking: TrackingService) -> None:
    project, _ = _seed(tracking)
    for offset in (-1, -100, MAX_OFFSET + 1, 10**18):
        with pytest.raises(InvalidArgument) as bad:
            tracking.search_runs([project.id], offset=offset)
        assert bad.value.field == "offset", offset
    assert tracking.search_runs([project.id], offset=MAX_OFFSET).runs == []
    first = tracking.search_runs([project.id], limit=2)
    assert first.next_cursor is not None
    with pytest.raises(InvalidArgument) as both:
        tracking.search_runs([project.id], limit=2, offset=2, cursor=first.next_cursor)
    assert both.value.field == "offset"
    # Offset 0 is "no offset": a cursor still works beside it.
    second = tracking.search_runs([project.id], limit=2, offset=0, cursor=first.next_cursor)
    assert second.runs == tracking.search_runs([project.id], limit=2, offset=2).runs
    # The offset is checked before the projects: a bad one is named even for an unknown project.
    with pytest.raises(InvalidArgument) as unknown:
        tracking.search_runs([UNKNOWN_ID], offset=-1)
    assert unknown.value.field == "offset"
    with pytest.raises(NotFound):
        tracking.search_runs([UNKNOWN_ID], offset=5)
