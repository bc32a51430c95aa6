"""Dataset pages: every dataset (/datasets) and one dataset's versions, the runs that used each and the column
profile of a chosen version (/datasets/{name or id}); "Mark ready" is sent by static/js/dataset-page.js."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from ridgeline.domain.entities import Dataset, DatasetVersion, RunRecord
from ridgeline.domain.errors import NotFound
from ridgeline.server.deps import Datasets
from ridgeline.server.ui.views.common import Pages
from ridgeline.server.ui.views.run_tabs import human_bytes
from ridgeline.services.datasets import DatasetService

router = APIRouter()

# Runs listed beside each version; the rest are counted ("and 12 more").
RUNS_PER_VERSION = 20


@dataclass(frozen=True)
class VersionRow:
    version: DatasetVersion
    runs: list[tuple[RunRecord, str]]
    size: str


@dataclass(frozen=True)
class DatasetRow:
    dataset: Dataset
    runs: int
    latest: DatasetVersion | None


def _find(datasets: DatasetService, key: str) -> Dataset:
    """By name first (what links use), then by id (what the API returns)."""
    try:
        return datasets.get_dataset(key)
    except NotFound:
        for found in datasets.list_datasets():
            if found.id == key:
                return found
        raise


def profile_rows(version: DatasetVersion) -> list[dict[str, Any]]:
    """The profile's columns (monitoring/profile.py's shape) as table rows: what is known of each, as text."""
    columns: list[dict[str, Any]] = (version.profile or {}).get("columns") or []
    rows = []
    for column in columns:
        top = column.get("top") or []
        if "true" in column and "false" in column:
            top = [{"value": "true", "count": column["true"]}, {"value": "false", "count": column["false"]}]
        rows.append(
            {
                "name": str(column.get("name", "")),
                "kind": str(column.get("kind", "")),
                "dtype": str(column.get("dtype", "")),
                "count": column.get("count"),
                "missing": column.get("missing"),
                "min": column.get("min"),
                "max": column.get("max"),
                "mean": column.get("mean"),
                "distinct": column.get("distinct"),
                "top": [f"{item.get('value')} ({item.get('count')})" for item in top[:5]],
            }
        )
    return rows


@router.get("/datasets")
def datasets_page(request: Request, pages: Pages, datasets: Datasets) -> HTMLResponse:
    rows = []
    for dataset in datasets.list_datasets():
        versions = datasets.versions(dataset.name)
        rows.append(DatasetRow(dataset, sum(item.run_count for item in versions), versions[0] if versions else None))
    return pages.render(request, "datasets.html", title="Datasets", rows=rows)


@router.get("/datasets/{key:path}")
def dataset_page(
    key: str,
    request: Request,
    pages: Pages,
    datasets: Datasets,
    version: Annotated[str, Query(max_length=64)] = "",
) -> HTMLResponse:
    dataset = _find(datasets, key)
    versions = datasets.versions(dataset.name)
    rows = []
    for item in versions:
        used = datasets.runs_using(item.id)
        rows.append(VersionRow(item, used, human_bytes(item.size_bytes)))
    chosen = next((item for item in versions if item.id == version), versions[0] if versions else None)
    return pages.render(
        request,
        "dataset.html",
        title=dataset.name,
        dataset=dataset,
        rows=rows,
        chosen=chosen,
        profile=profile_rows(chosen) if chosen else [],
        runs_per_version=RUNS_PER_VERSION,
    )
