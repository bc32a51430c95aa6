"""/api/v1/runs/{run_id}/artifacts-preview/{path}: the first rows of a Parquet artifact as JSON.

Browsers cannot read Parquet without a large library, so the run page's artifact browser asks the server for
a bounded head of the table (rows, columns and cell text are all capped; see services/artifact_preview.py).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from ridgeline.server.deps import Artifacts
from ridgeline.server.responses import ERROR_RESPONSES, JSON
from ridgeline.services.artifact_preview import DEFAULT_ROWS, MAX_ROWS, parquet_head
from ridgeline.store.artifacts.paths import check_raw_url_path

router = APIRouter(tags=["artifacts"], responses=ERROR_RESPONSES)


@router.get("/runs/{run_id}/artifacts-preview/{path:path}")
async def preview_artifact(
    run_id: str,
    path: str,
    request: Request,
    artifacts: Artifacts,
    rows: Annotated[int, Query(ge=1, le=MAX_ROWS)] = DEFAULT_ROWS,
) -> JSON:
    """``{"columns": [{"name", "type"}], "rows": [[…]], "total_rows", "total_columns", "truncated"}``."""
    # The path as the client encoded it: encoded dots or slashes are refused, as for downloads.
    raw: bytes = request.scope.get("raw_path", b"")
    check_raw_url_path(raw.decode("latin-1"))
    head = await run_in_threadpool(parquet_head, artifacts, run_id, path, rows)
    return JSON(head.to_json())
