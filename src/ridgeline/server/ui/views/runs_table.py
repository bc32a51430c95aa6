"""A project's runs table: chosen columns, sorting, filtering, grouping and numbered pages, all in the URL."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from ridgeline.domain.entities import RunRecord
from ridgeline.domain.filters import (
    Field,
    FieldKind,
    FilterError,
    format_field,
    iter_fields,
    parse_filter,
    parse_order_by,
)
from ridgeline.server.deps import Tracking
from ridgeline.server.ui.views.common import Pages

router = APIRouter()

PAGE_SIZES = (25, 50, 100, 250)
DEFAULT_COLUMNS_PER_KIND = 6
KINDS = {"metric": "metrics", "param": "params", "tag": "tags"}
SINGULAR: dict[str, FieldKind] = {"metrics": "metric", "params": "param", "tags": "tag"}
# Columns every table has, with the order_by field each one sorts by.
FIXED_COLUMNS = (
    ("Name", "attributes.name"),
    ("Status", "attributes.status"),
    ("Started", "attributes.start_time"),
    ("Duration", None),
    ("User", "attributes.user"),
)


@dataclass(frozen=True)
class Column:
    kind: str  # params, metrics or tags
    key: str

    @property
    def field(self) -> str:
        return format_field(Field(SINGULAR[self.kind], self.key))

    def cell(self, run: RunRecord) -> Any:
        sources: dict[str, dict[str, Any]] = {"params": run.params, "metrics": run.metrics, "tags": run.tags}
        return sources[self.kind].get(self.key)


def _columns(chosen: list[str], keys: dict[str, list[str]]) -> list[Column]:
    if not chosen:
        # No choice made yet: the first few metrics, then params; tags stay out until asked for.
        return [Column("metrics", key) for key in keys["metrics"][:DEFAULT_COLUMNS_PER_KIND]] + [
            Column("params", key) for key in keys["params"][:DEFAULT_COLUMNS_PER_KIND]
        ]
    columns = []
    for item in chosen:
        kind, _, key = item.partition(".")
        if kind in ("params", "metrics", "tags") and key and Column(kind, key) not in columns:
            columns.append(Column(kind, key))
    return columns


def _suggestions(filter_text: str, keys: dict[str, list[str]]) -> list[str]:
    """For each key the filter names that no run has, what it probably meant."""
    try:
        expr = parse_filter(filter_text)
    except FilterError:
        return []
    notes = []
    for field in dict.fromkeys(iter_fields(expr)):
        kind = KINDS.get(field.kind)
        if kind is None or field.key in keys[kind]:
            continue
        close = difflib.get_close_matches(field.key, keys[kind], n=3, cutoff=0.6)
        hint = f" Did you mean {', '.join(format_field(Field(field.kind, k)) for k in close)}?" if close else ""
        notes.append(f"No run in this view has {field.kind} {field.key!r}.{hint}")
    return notes


def _grouped_order(group: str, sort: str) -> list[str]:
    """Rows sorted by the group's value first (so each group is contiguous), then by the chosen sort.

    When the chosen sort is the grouping column itself, its direction orders the groups too.
    """
    kind, _, key = group.partition(".")
    if kind not in SINGULAR or not key:
        return [sort]
    group_field = Field(SINGULAR[kind], key)
    if parse_order_by(sort)[0].field == group_field:
        return [sort]
    return [f"{format_field(group_field)} ASC", sort]


class Links:
    """URLs for this view with some parameters changed: every link keeps the rest of the view's state."""

    def __init__(self, path: str, params: list[tuple[str, str]]) -> None:
        self.path = path
        self.params = params

    def __call__(self, **changes: Any) -> str:
        names = set(changes)
        kept = [(name, value) for name, value in self.params if name not in names]
        for name, value in changes.items():
            if isinstance(value, list):
                kept.extend((name, str(item)) for item in value)
            elif value not in (None, "", False):
                kept.append((name, "1" if value is True else str(value)))
        return f"{self.path}?{urlencode(kept)}" if kept else self.path


@router.get("/projects/{project_id}")
def runs_page(
    project_id: str,
    request: Request,
    pages: Pages,
    tracking: Tracking,
    filter: Annotated[str, Query(max_length=10_000)] = "",
    order: Annotated[str, Query(max_length=1_000)] = "",
    col: Annotated[list[str] | None, Query(max_length=300)] = None,
    group: Annotated[str, Query(max_length=300)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    limit: Annotated[int, Query(ge=1, le=250)] = 100,
    deleted: bool = False,
) -> HTMLResponse:
    project = tracking.get_project(project_id)
    ids = [project.id]
    keys = tracking.run_keys(ids, deleted=deleted)
    columns = _columns(col or [], keys)
    sort = order.strip() or "attributes.start_time DESC"
    error: dict[str, Any] | None = None
    runs: list[RunRecord] = []
    total = 0
    groups: dict[str | None, int] = {}
    try:
        total = tracking.count_runs(ids, filter=filter, deleted=deleted)
        page = min(page, max(1, -(-total // limit)))
        runs = tracking.search_runs(
            ids,
            filter=filter,
            order_by=_grouped_order(group, sort),
            limit=limit,
            offset=(page - 1) * limit,
            deleted=deleted,
        ).runs
        if group:
            groups = dict(tracking.group_counts(ids, group, filter=filter, deleted=deleted))
    except FilterError as exc:
        error = {"field": exc.field, "message": exc.message, "position": exc.position}
    params = [(name, value) for name, value in request.query_params.multi_items() if name != "page" or page > 1]
    return pages.render(
        request,
        "runs.html",
        title=project.name,
        project=project,
        runs=runs,
        total=total,
        columns=columns,
        fixed_columns=FIXED_COLUMNS,
        keys=keys,
        chosen={column.field for column in columns},
        filter=filter,
        order=sort,
        order_param=order,
        col_param=col or [],
        group=group,
        groups=groups,
        page=page,
        limit=limit,
        page_sizes=sorted({*PAGE_SIZES, limit}),
        pages=max(1, -(-total // limit)),
        deleted=deleted,
        error=error,
        suggestions=[] if error else _suggestions(filter, keys),
        link=Links(request.url.path, params),
        group_field=group.partition(".")[0] if group else "",
        group_key=group.partition(".")[2] if group else "",
    )
