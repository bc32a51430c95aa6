"""Side-by-side comparison of 2 to 50 runs: overlaid charts, a difference table, parallel coordinates, scatter.

The page's script (static/js/compare-page.js) draws the charts from one bulk histories request and the parallel
coordinates and scatter from the values embedded here, so they need no request of their own.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from ridgeline.domain.entities import RunRecord
from ridgeline.domain.errors import InvalidArgument
from ridgeline.domain.values import numeric_value
from ridgeline.domain.wire import encode_value
from ridgeline.server.deps import Tracking
from ridgeline.server.ui.views.common import Pages
from ridgeline.server.ui.views.run import SYSTEM_TAG_PREFIX, chart_view

router = APIRouter()

MIN_RUNS, MAX_RUNS = 2, 50

Kind = Literal["params", "metrics", "tags"]
Value = str | float | None


@dataclass(frozen=True, slots=True)
class Row:
    """One key of the difference table: its value in each run (None where the run lacks it)."""

    kind: Kind
    key: str
    values: list[Value]

    @property
    def differs(self) -> bool:
        return len({_comparable(value) for value in self.values}) > 1

    @property
    def id(self) -> str:
        return f"{self.kind}.{self.key}"


def _comparable(value: Value) -> object:
    """A value as equality should see it: "0.10" and "0.1" are the same param; NaN equals NaN."""
    if isinstance(value, str):
        number = numeric_value(value)
        return value if number is None else number
    if isinstance(value, float) and math.isnan(value):
        return "NaN"
    return value


def parse_run_ids(runs: Sequence[str]) -> list[str]:
    """Run ids from ?runs=a&runs=b (the runs table's form) or ?runs=a,b (a short link), in order, once each."""
    run_ids = list(dict.fromkeys(item.strip() for value in runs for item in value.split(",") if item.strip()))
    if not MIN_RUNS <= len(run_ids) <= MAX_RUNS:
        raise InvalidArgument(
            f"choose between {MIN_RUNS} and {MAX_RUNS} runs to compare (got {len(run_ids)})", field="runs"
        )
    return run_ids


def table_rows(records: Sequence[RunRecord]) -> dict[Kind, list[Row]]:
    def rows(kind: Kind, values_of: Callable[[RunRecord], Mapping[str, Value]]) -> list[Row]:
        per_run = [values_of(record) for record in records]
        keys = sorted({key for values in per_run for key in values})
        return [Row(kind, key, [values.get(key) for values in per_run]) for key in keys]

    return {
        "params": rows("params", lambda record: record.params),
        "metrics": rows("metrics", lambda record: record.metrics),
        # The SDK's own tags (source, git, environment) are long and rarely what a comparison is about.
        "tags": rows(
            "tags", lambda record: {k: v for k, v in record.tags.items() if not k.startswith(SYSTEM_TAG_PREFIX)}
        ),
    }


def page_data(records: Sequence[RunRecord], rows: dict[Kind, list[Row]]) -> dict[str, Any]:
    """What the page's script needs, as JSON (non-finite metrics spelled as strings, which JSON can carry)."""
    return {
        "runs": [{"id": record.id, "name": record.name, "startTime": record.start_time} for record in records],
        "metricKeys": [row.key for row in rows["metrics"]],
        "dimensions": [
            {
                "id": row.id,
                "kind": row.kind,
                "key": row.key,
                "differs": row.differs,
                "values": [encode_value(v) if isinstance(v, float) else v for v in row.values],
            }
            for kind in ("params", "metrics")
            for row in rows[kind]
        ],
    }


@router.get("/compare")
def compare_page(
    request: Request,
    pages: Pages,
    tracking: Tracking,
    runs: Annotated[list[str] | None, Query(max_length=4_000)] = None,
    # The run page's chart controls, under the same names, so the two pages read each other's links alike.
    x: Annotated[str, Query(max_length=20)] = "step",
    smooth: Annotated[str, Query(max_length=20)] = "0",
    log: Annotated[str, Query(max_length=10)] = "",
) -> HTMLResponse:
    records = [tracking.get_run(run_id) for run_id in parse_run_ids(runs or [])]
    projects = {record.project_id: tracking.get_project(record.project_id) for record in records}
    rows = table_rows(records)
    return pages.render(
        request,
        "compare.html",
        title=f"Compare {len(records)} runs",
        runs=records,
        projects=projects,
        rows=rows,
        data=page_data(records, rows),
        view=chart_view(x, smooth, log),
        charts=True,
    )
